"""The access log: who read which patient's data, append-only but for its retention."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.care.models import Patient
from referrals.handoffs.models import TrainerHandoff


class AppendOnlyError(Exception):
    """An attempt to edit or delete an append-only row (the access log)."""


class AccessLogQuerySet(models.QuerySet["AccessLog"]):
    """No bulk edit, no bulk delete: the access log only grows, until its entries pass the retention
    period; `delete_expired_batch` is the one way a row leaves it."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The access log is append-only: rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(
            "The access log is append-only: rows are never deleted, except by the retention trim "
            "(audit.services.access_log_trim)."
        )

    def delete_expired_batch(self, *, before: datetime.datetime, limit: int) -> int:
        """Delete up to `limit` of the oldest rows read before `before` (through the index on `at`);
        the rows deleted. Only for audit.services.access_log_trim, which passes the cut-off of the
        retention period (HANDOFF_ACCESS_LOG_RETENTION_DAYS) and runs each batch in its transaction."""
        ids = list(self.filter(at__lt=before).order_by("at").values_list("pk", flat=True)[:limit])
        if not ids:
            return 0
        # Django's own delete, past this class's guard: nothing references an access-log row (one DELETE).
        deleted, _ = models.QuerySet.delete(self.filter(pk__in=ids))
        return deleted


class AccessLog(models.Model):
    """One read of a patient's data (patient, plan, handoff, handout, timeline) by one user.

    Written by referrals.audit, never edited, and deleted only when older than the retention period (six
    years by default, HANDOFF_ACCESS_LOG_RETENTION_DAYS; the daily referrals.tasks.trim_records, through
    AccessLogQuerySet.delete_expired_batch): together with HandoffEvent (the writes) it answers "who saw or
    changed this patient's data". The foreign keys PROTECT: a patient, handoff or user with an
    access history cannot be deleted out from under it (a patient is PROTECTed by their plans anyway).
    `patient` is nullable only so a future read of something without a patient can still be recorded.
    """

    class Channel(models.TextChoices):
        PAGE = "page", "Web page"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    class ObjectType(models.TextChoices):
        PATIENT = "patient", "Patient"
        PLAN = "plan", "Treatment plan"
        HANDOFF = "handoff", "Handoff"
        HANDOUT = "handout", "Printable handout"
        HANDOFF_EVENTS = "handoff_events", "Handoff timeline"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_public_id = models.UUIDField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    path = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [models.Index(fields=["patient", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.object_type} {str(self.object_public_id)[:8]} ({self.channel})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The access log is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only: rows are never deleted.")
