"""The daily eligibility review, by hand: `make beat` runs it every day; in the embedded default (no beat)
cron `python manage.py review_eligibility`. Idempotent: a second run tells nobody again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from referrals import tasks


class Command(BaseCommand):
    help = "Record and tell the clinic of open referrals whose trainer is no longer eligible."

    def handle(self, *args: Any, **options: Any) -> None:
        count = tasks.review_eligibility()
        self.stdout.write(f"{count} referral(s) newly flagged: their trainer is no longer eligible.")
