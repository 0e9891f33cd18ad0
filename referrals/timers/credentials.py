"""A trainer's credential about to lapse: `credential_notice_days` (30) before a certification's or the
CPR/AED's expiry, the trainer and their gyms' admins are reminded, once per credential and expiry date
(the source key names both: a renewed credential, a new date, is reminded in its turn). On expiry the
trainer is ineligible (handoffs.eligibility says why) and the daily review tells the clinics with open
referrals to them (handoffs.services.handoff_review_eligibility)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Certification, Membership, TrainerProfile, User
from referrals.notify import wording as notify_wording
from referrals.notify.services import notify


def _told(trainer: User) -> list[User]:
    """The trainer and the admins of the gyms they train at, while active."""
    gyms = Membership.objects.filter(user=trainer, role=Membership.Role.TRAINER).values("organization_id")
    admins = User.objects.filter(
        is_active=True, memberships__organization_id__in=gyms, memberships__role=Membership.Role.ORG_ADMIN
    ).distinct()
    return [trainer, *admins.exclude(pk=trainer.pk).order_by("pk")]


def credentials_expiring_sweep(*, today: datetime.date | None = None) -> int:
    """Remind of every credential expiring within the notice; returns the credentials reminded (in this run
    or an earlier one: the rows are idempotent by their source key)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=int(settings.HANDOFF_TIMER_DEFAULTS["credential_notice_days"]))
    due: list[tuple[User, str, str, datetime.date]] = []
    for cert in Certification.objects.filter(
        expiry__gte=today, expiry__lte=horizon, profile__user__is_active=True
    ).select_related("profile__user"):
        due.append((cert.profile.user, f"cert:{cert.pk}", f"certification {cert}", cert.expiry))
    for profile in TrainerProfile.objects.filter(
        cpr_aed_expiry__gte=today, cpr_aed_expiry__lte=horizon, user__is_active=True
    ).select_related("user"):
        assert profile.cpr_aed_expiry is not None  # noqa: S101 - the filter says so
        due.append((profile.user, f"cpr:{profile.pk}", "CPR/AED certificate", profile.cpr_aed_expiry))
    for trainer, what, label, expiry in due:
        with transaction.atomic():
            notify(
                kind=notify_wording.CREDENTIAL_EXPIRING_KIND,
                recipients=_told(trainer),
                source_key=notify_wording.credential_expiring_source_key(what, expiry),
                title=notify_wording.credential_expiring_title(trainer, label, expiry),
            )
    return len(due)
