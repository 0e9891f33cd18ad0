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
    remind_after_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(REMIND_AFTER_HOURS_RANGE),
        help_text="Unanswered this many hours after it was sent: the trainer is reminded. "
        "Empty: the default.",
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(ESCALATE_AFTER_DAYS_RANGE),
        help_text="Unanswered this many days after it was sent: the physiotherapist is told, with other "
        "trainers who could take it. Empty: the default.",
    )
    expire_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(EXPIRE_AFTER_DAYS_RANGE),
        help_text="Unanswered this many days after it was sent: the referral is cancelled (no response) and "
        "the physiotherapist told. Empty: the default.",
    )
    accept_idle_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(IDLE_DAYS_RANGE),
        help_text="Accepted, and no session logged this many days later: the trainer and the physiotherapist "
        "are nudged. Empty: the default.",
    )
    session_idle_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(IDLE_DAYS_RANGE),
        help_text="In progress, and no session logged for this many days: the trainer and the "
        "physiotherapist are nudged. Empty: the default.",
    )
    hold_review_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(HOLD_REVIEW_DAYS_RANGE),
        help_text="Put on hold without a review date: it is reviewed this many days later (the trainer "
        "asked to resume or close it). Empty: the default.",
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
