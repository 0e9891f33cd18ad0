"""A concern a trainer raises about a referral, with its acknowledgement and resolution."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from referrals.handoffs.models import HandoffEvent, TrainerHandoff

CONCERN_MAX_LENGTH = 4000  # the text of a trainer's concern


CONCERN_NOTE_MAX_LENGTH = 2000  # the note a physiotherapist resolves a concern with


class Concern(models.Model):
    """A concern a trainer raised, and where it stands: raised (its event), acknowledged by a physiotherapist
    of the clinic, resolved with a note. The state lives here; each step also appends a HandoffEvent
    (`regarding` this concern), so both sides see it on the timeline and the events stay append-only."""

    class State(models.TextChoices):
        RAISED = "raised", "Raised"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="concerns")
    event = models.OneToOneField(HandoffEvent, on_delete=models.PROTECT, related_name="concern")
    put_on_hold = models.BooleanField(default=False, help_text="Raised with the referral put on hold.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(
        blank=True,
        max_length=CONCERN_NOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(CONCERN_NOTE_MAX_LENGTH)],
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the PT home: the unresolved concerns of the clinics, whatever the referral's status
            models.Index(fields=["handoff"], condition=Q(resolved_at__isnull=True), name="concern_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="concern_acknowledged_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True, resolution_note="")
                | (
                    Q(resolved_at__isnull=False, resolved_by__isnull=False, acknowledged_at__isnull=False)
                    & ~Q(resolution_note="")
                ),
                name="concern_resolved_who_when_note",
            ),
        ]

    def __str__(self) -> str:
        return f"Concern on {self.handoff_id} ({self.state})"

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return self.State.RESOLVED
        if self.acknowledged_at is not None:
            return self.State.ACKNOWLEDGED
        return self.State.RAISED

    def get_state_display(self) -> str:
        return str(self.State(self.state).label)
