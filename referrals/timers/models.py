"""A clinic's own timer settings (the admin edits them); any left empty takes the deployment's default
(settings.HANDOFF_TIMER_DEFAULTS). Data only: timers.schedule reads them, timers.services acts."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Organization

# The ranges each setting accepts: the admin form, the model's validation and a database CHECK read them.
REMIND_AFTER_HOURS_RANGE = (1, 720)
ESCALATE_AFTER_DAYS_RANGE = (1, 60)
EXPIRE_AFTER_DAYS_RANGE = (1, 90)
IDLE_DAYS_RANGE = (1, 120)
HOLD_REVIEW_DAYS_RANGE = (1, 180)


def _between(bounds: tuple[int, int]) -> list[Any]:
    return [MinValueValidator(bounds[0]), MaxValueValidator(bounds[1])]


def _setting(bounds: tuple[int, int], help_text: str) -> models.PositiveSmallIntegerField[Any, Any]:
    """A clinic's own setting of one timer, within `bounds`; empty: the default."""
    return models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_between(bounds), help_text=f"{help_text} Empty: the default."
    )


def _range(field: str, bounds: tuple[int, int]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": bounds[0], f"{field}__lte": bounds[1]}),
        name=f"clinic_timers_{field}_range",
    )


class ClinicTimers(models.Model):
    """How long a clinic's requested referral may wait for the trainer's answer, its care may go without a
    session, and a hold lasts before it is reviewed."""

    clinic = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="timers",
        limit_choices_to={"kind": Organization.Kind.CLINIC},
    )
    remind_after_hours = _setting(
        REMIND_AFTER_HOURS_RANGE, "Unanswered this many hours after it was sent: the trainer is reminded."
    )
    escalate_after_days = _setting(
        ESCALATE_AFTER_DAYS_RANGE,
        "Unanswered this many days after it was sent: the physiotherapist is told, with other trainers who "
        "could take it.",
    )
    expire_after_days = _setting(
        EXPIRE_AFTER_DAYS_RANGE,
        "Unanswered this many days after it was sent: the referral is cancelled (no response) and the "
        "physiotherapist told.",
    )
    accept_idle_days = _setting(
        IDLE_DAYS_RANGE,
        "Accepted, and no session logged this many days later: the trainer and the physiotherapist are "
        "nudged.",
    )
    session_idle_days = _setting(
        IDLE_DAYS_RANGE,
        "In progress, and no session logged for this many days: the trainer and the physiotherapist are "
        "nudged.",
    )
    hold_review_days = _setting(
        HOLD_REVIEW_DAYS_RANGE,
        "Put on hold without a review date: it is reviewed this many days later (the trainer asked to "
        "resume or close it).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic timers"
        verbose_name_plural = "clinic timers"
        constraints = [
            _range("remind_after_hours", REMIND_AFTER_HOURS_RANGE),
            _range("escalate_after_days", ESCALATE_AFTER_DAYS_RANGE),
            _range("expire_after_days", EXPIRE_AFTER_DAYS_RANGE),
            _range("accept_idle_days", IDLE_DAYS_RANGE),
            _range("session_idle_days", IDLE_DAYS_RANGE),
            _range("hold_review_days", HOLD_REVIEW_DAYS_RANGE),
        ]

    def __str__(self) -> str:
        return f"Timers of {self.clinic}"
