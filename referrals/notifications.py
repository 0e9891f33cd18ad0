"""Rendering and sending notifications. No business decisions: what is owed was decided by a service.

Delivery of an outbox row:
1. claim it with one conditional UPDATE (pending and due, or in flight with an expired lease), which only
   one worker can win; the claim counts the attempt and stamps a claim token;
2. send the email;
3. record the outcome with an UPDATE that matches the claim token, so a worker whose lease ran out cannot
   overwrite the result of the worker that took over.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from referrals.models import HandoffEvent, HandoffStatus, Notification, OutboxMessage

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status


# --- wording -------------------------------------------------------------------------------------------


def notification_title(event: HandoffEvent) -> str:
    """What happened, by whom and where; never the patient or anything clinical. Cut to the column's
    length: long organization and person names must not make the title overflow it (and fail the send)."""
    return Truncator(_title(event)).chars(Notification._meta.get_field("title").max_length or 200)


def _title(event: HandoffEvent) -> str:
    handoff = event.handoff
    clinic = handoff.plan.patient.clinic.name
    trainer = f"{handoff.trainer.full_name} at {handoff.gym.name}"
    if event.kind == HandoffEvent.Kind.CONCERN:
        return f"Urgent: {trainer} raised a concern about a referral"
    titles = {
        HandoffStatus.REQUESTED: f"New referral from {clinic}",
        HandoffStatus.ACCEPTED: f"{trainer} accepted a referral",
        HandoffStatus.REJECTED: f"{trainer} declined a referral",
        HandoffStatus.IN_PROGRESS: (
            f"{trainer} resumed training"
            if event.from_status == HandoffStatus.ON_HOLD
            else f"{trainer} started training"
        ),
        HandoffStatus.ON_HOLD: f"{trainer} put a referral on hold",
        HandoffStatus.COMPLETED: f"{trainer} completed a referral",
        HandoffStatus.FAILED: f"{trainer} marked a referral as failed",
        HandoffStatus.CANCELLED: f"{clinic} cancelled a referral",
        HandoffStatus.ENTERED_IN_ERROR: f"{clinic} withdrew a referral sent in error",
    }
    return titles.get(HandoffStatus(event.to_status), f"A referral changed: {event.to_status}")


def handoff_url(event: HandoffEvent) -> str:
    base: str = settings.SITE_URL
    return base + reverse("handoff_detail", kwargs={"public_id": event.handoff.public_id})


def render_email(message: OutboxMessage) -> EmailMultiAlternatives:
    event = message.event
    context = {
        "title": notification_title(event),
        "url": handoff_url(event),
        "recipient_name": message.recipient.full_name,
        "urgent": event.urgent,
    }
    subject = f"[Handoff] {context['title']}"
    body = render_to_string("emails/handoff_event.txt", context)
    html = render_to_string("emails/handoff_event.html", context)
    email = EmailMultiAlternatives(subject=subject, body=body, to=[message.recipient.email])
    email.attach_alternative(html, "text/html")
    return email


# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # "sent", "retry", "failed" or "skipped" (not claimable: sent, not due, or taken)
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    base: int = settings.HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS
    cap: int = settings.HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def claim(message_id: int) -> uuid.UUID | None:
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, attempts__lt=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS)
        .filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.IN_FLIGHT, lease_until__lt=now)
        )
        .update(
            status=Status.IN_FLIGHT,
            claim_token=token,
            lease_until=now + settings.HANDOFF_OUTBOX_LEASE,
            attempts=F("attempts") + 1,
        )
    )
    return token if claimed else None


def deliver(message_id: int) -> DeliveryResult:
    token = claim(message_id)
    if token is None:
        return DeliveryResult("skipped")
    message = OutboxMessage.objects.select_related(
        "recipient", "event__handoff__plan__patient__clinic", "event__handoff__trainer", "event__handoff__gym"
    ).get(pk=message_id)
    mine = OutboxMessage.objects.filter(pk=message_id, claim_token=token)
    try:
        render_email(message).send(fail_silently=False)
    except Exception as exc:  # any failure of the mail side is retried, then recorded
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= settings.HANDOFF_OUTBOX_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, lease_until=None, last_error=error)
            logger.error("outbox %s failed after %s attempts: %s", message_id, message.attempts, error)
            return DeliveryResult("failed")
        delay = backoff_seconds(message.attempts)
        mine.update(
            status=Status.PENDING,
            lease_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            last_error=error,
        )
        logger.warning(
            "outbox %s attempt %s failed, retry in %ss: %s", message_id, message.attempts, delay, error
        )
        return DeliveryResult("retry", retry_in=delay)
    now = timezone.now()
    mine.update(status=Status.SENT, sent_at=now, lease_until=None, last_error="")
    if not OutboxMessage.objects.filter(event_id=message.event_id).exclude(status=Status.SENT).exists():
        HandoffEvent.objects.filter(pk=message.event_id, delivered_at__isnull=True).update(delivered_at=now)
    return DeliveryResult("sent")


def due_message_ids(limit: int = 500) -> list[int]:
    """Rows the broker may have lost: pending past the grace period, or in flight past their lease."""
    now = timezone.now()
    stale = now - settings.HANDOFF_OUTBOX_STALE_AFTER
    ids = list(
        OutboxMessage.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=stale)
            | Q(status=Status.IN_FLIGHT, lease_until__lt=now),
            attempts__lt=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    # Re-published now: the next sweep leaves them alone for another grace period, so a backlog behind a
    # slow or absent worker does not grow by one duplicate message per row at every sweep.
    OutboxMessage.objects.filter(pk__in=ids, status=Status.PENDING).update(next_attempt_at=now)
    return ids


def fail_exhausted() -> int:
    """Rows whose last attempt's worker died with the lease: out of attempts, so failed for good."""
    return OutboxMessage.objects.filter(
        status=Status.IN_FLIGHT,
        lease_until__lt=timezone.now(),
        attempts__gte=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS,
    ).update(status=Status.FAILED, lease_until=None, last_error="Worker lost during the last attempt.")
