"""Writes of the notify area: reading notifications, re-sending an outbox row."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from referrals import tasks
from referrals.errors import (
    InvalidTransition,
    NotPermitted,
)
from referrals.handoffs.models import (
    HandoffEvent,
    TrainerHandoff,
)
from referrals.notify import policies as notify_policies
from referrals.notify import wording as notify_wording
from referrals.notify.models import Notification, OutboxMessage, event_source_key


def notify(
    *,
    kind: str,
    recipients: Sequence[User],
    source_key: str,
    handoff: TrainerHandoff | None = None,
    event: HandoffEvent | None = None,
    title: str = "",
    urgent: bool = False,
    not_before: Mapping[int, datetime.datetime] | None = None,
) -> list[int]:
    """Owe each recipient an in-app notification and an email for one source (a referral event, a report
    due, a reminder), in the caller's transaction; the emails are published after commit. The one way
    services tell people.

    `kind` names the wording and the link (notify.wording.NOTIFICATION_KINDS); `source_key` what caused it,
    deterministic ("handoff-event:<id>", later e.g. "report:<id>:due"): one row per source, recipient and
    channel, so a timer that runs twice tells nobody twice. `title` defaults to the kind's wording.
    `not_before`: recipient pk -> when their email may go at the earliest (a timer's notice at night in
    their zone waits for the morning); the in-app notification shows at once.
    Returns the ids of the outbox rows owed (new or still pending from an earlier call)."""
    spec = notify_wording.notification_kind(kind)
    if not recipients or not source_key:
        if not source_key:
            raise ValueError("A notification needs its source key.")
        return []
    title = notify_wording.clip_title(title or spec.title(handoff, event))
    owed = {
        "kind": kind,
        "source_key": source_key,
        "handoff": handoff if handoff is not None else (event.handoff if event is not None else None),
        "event": event,
    }
    # A referral event's rows are written with the event, in its transaction: none can exist yet, so they
    # are inserted as they are (two INSERTs). Any other source may be written again (a timer that runs
    # twice): its rows are inserted with ON CONFLICT DO NOTHING and the ids read back.
    fresh = event is not None and source_key == event_source_key(event.pk)
    Notification.objects.bulk_create(
        [Notification(recipient=r, title=title, urgent=urgent, **owed) for r in recipients],
        ignore_conflicts=not fresh,
    )
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                recipient=r,
                channel=OutboxMessage.Channel.EMAIL,
                **owed,
                **({"next_attempt_at": not_before[r.pk]} if not_before and r.pk in not_before else {}),
            )
            for r in recipients
        ],
        ignore_conflicts=not fresh,
    )
    if fresh:
        ids = [m.pk for m in messages]
    else:
        ids = list(
            OutboxMessage.objects.filter(
                source_key=source_key,
                channel=OutboxMessage.Channel.EMAIL,
                recipient__in=[r.pk for r in recipients],
                status=OutboxMessage.Status.PENDING,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if ids:
        transaction.on_commit(lambda: tasks.publish_deliveries(ids))
    return ids


# --- notifications, credentials ------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor: User) -> Notification:
    if notification.recipient_id != actor.pk:
        raise NotPermitted("This notification is not yours.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def outbox_resend(*, message: OutboxMessage, actor: User) -> OutboxMessage:
    """Admin: owe the message again (after a failure, or on request) and publish it after commit."""
    if not notify_policies.can_resend_notification(actor):
        raise NotPermitted("Only staff can re-send a notification.")
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status == OutboxMessage.Status.IN_FLIGHT:
            raise InvalidTransition("This message is being sent right now.", current_status=locked.status)
        locked.status = OutboxMessage.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.claim_token = None
        locked.lease_until = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "claim_token", "lease_until"])
        message_id = locked.pk
        transaction.on_commit(lambda: tasks.publish_deliveries([message_id]))
    return locked
