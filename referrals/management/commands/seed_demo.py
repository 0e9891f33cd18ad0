"""`manage.py seed_demo`: demo data for a first look at Handoff (`make run` calls it on every start).

Idempotent. Organizations, users, memberships, profiles and credentials are looked up by their natural
keys and created only when missing; a user's password is set only when the user is created. Each patient
scenario is keyed by (clinic, patient name): an existing patient means its scenario was built, and it is
skipped. Everything of the referral domain (patients, plans, consent, handoffs, concerns) is written
through the areas' services, so the events, notifications and outbox rows are the real ones."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from referrals.demo.data import ENV_NAME, PT, USERS
from referrals.demo.seeder import Seeder, demo_password


class Command(BaseCommand):
    help = "Load idempotent demo data: a clinic, two partner gyms, their staff, 12 patients and referrals."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "SETTINGS_MODULE", None) == "config.settings.production":
            raise CommandError("seed_demo creates a superuser with a published password: not in production.")
        password = demo_password()
        seeder = Seeder(password=password)
        with transaction.atomic():
            seeder.run()
        self._report(seeder, password)

    def _report(self, seeder: Seeder, password: str) -> None:
        out = self.stdout
        if seeder.created:
            made = ", ".join(f"{count} {name}" for name, count in sorted(seeder.created.items()))
            out.write(self.style.SUCCESS(f"Demo data created: {made}."))
        else:
            out.write(self.style.SUCCESS("Demo data was already there: nothing was changed."))
        if not check_password(password, seeder.users[PT].password):
            out.write(
                self.style.WARNING(
                    f"The demo users already existed with another password; {ENV_NAME} applies only "
                    "when they are created."
                )
            )
        out.write("")
        out.write(
            f"Open {settings.SITE_URL}/ and log in as one of these (a demo-only password, never use it "
            f"for real accounts; set {ENV_NAME} to choose another before the first run):"
        )
        out.write("")
        header = ("role", "email", "password", "what it shows")
        rows = [header, *((u.role, u.email, password, u.shows) for u in USERS)]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for role, email, shown_password, shows in rows:
            columns = (role.ljust(widths[0]), email.ljust(widths[1]), shown_password.ljust(widths[2]), shows)
            out.write("  " + "  ".join(columns))
