"""In-app notifications and the email outbox: one row per event, recipient and channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referrals.handoffs.models import HandoffEvent, TrainerHandoff

# The notification kind of the rows a HandoffEvent causes (referrals.notify.wording.NOTIFICATION_KINDS).
HANDOFF_EVENT_KIND = "handoff-event"


def event_source_key(event_id: int) -> str:
    """The source key of the rows a HandoffEvent causes: one row per event, recipient (and channel)."""
    return f"{HANDOFF_EVENT_KIND}:{event_id}"


class _Owed:
    """What a notification and an outbox row share: what caused it (`kind`, `source_key`, and for
    context the referral and the event, both optional). A row given only its event gets the event's key
    and referral, so rows written the old way (`Model(event=..., recipient=...)`) stay valid."""

    event_id: int | None
    handoff_id: int | None
    source_key: str

    def fill_source(self) -> None:
        if self.event_id is not None:
            if not self.source_key:
                self.source_key = event_source_key(self.event_id)
            if self.handoff_id is None:
                self.handoff_id = self.event.handoff_id  # type: ignore[attr-defined]


_Row = TypeVar("_Row", bound=models.Model)


class OwedQuerySet(models.QuerySet[_Row]):
    """`bulk_create` fills each row's source from its event first (see _Owed)."""

    def bulk_create(self, objs: Iterable[_Row], *args: Any, **kwargs: Any) -> list[_Row]:
        objs = list(objs)
        for obj in objs:
            obj.fill_source()  # type: ignore[attr-defined]
        return super().bulk_create(objs, *args, **kwargs)


class Notification(_Owed, models.Model):
    """An in-app notification of any kind of domain event: one per source and recipient. Its text names
    what happened and where, never clinical detail."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(
        max_length=40,
        default=HANDOFF_EVENT_KIND,
        help_text="What caused it and how it is worded: one of referrals.notify.wording.NOTIFICATION_KINDS.",
    )
    source_key = models.CharField(
        max_length=100,
        help_text='What caused it, e.g. "handoff-event:<id>": one row per source and recipient.',
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        HandoffEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    urgent = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            # the latest few on every page, newest first, whether read or not
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_latest_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "recipient"], name="notification_unique_per_source"
            ),
            models.CheckConstraint(condition=~Q(source_key=""), name="notification_has_source"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_source()
        super().save(*args, **kwargs)


class OutboxMessage(_Owed, models.Model):
    """A message owed to a recipient for any kind of domain event: one per source, recipient and channel.
    The database, not the broker, remembers it until it is sent."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_FLIGHT = "in_flight", "In flight"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(
        max_length=40,
        default=HANDOFF_EVENT_KIND,
        help_text="What caused it and how it is worded: one of referrals.notify.wording.NOTIFICATION_KINDS.",
    )
    source_key = models.CharField(
        max_length=100,
        help_text='What caused it, e.g. "handoff-event:<id>": one row per source, recipient and channel.',
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        HandoffEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OwedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox message"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "recipient", "channel"],
                name="outbox_unique_per_source_recipient_channel",
            ),
            models.CheckConstraint(condition=~Q(source_key=""), name="outbox_has_source"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient_id} for {self.source_key} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_source()
        super().save(*args, **kwargs)
