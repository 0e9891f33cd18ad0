"""Delivery of the email outbox: claim by conditional update, send, back off, fail after the last try."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.notify.wording import _compose, _fallback_title, notification_kind

logger = logging.getLogger(__name__)


Status = OutboxMessage.Status


# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # "sent", "retry", "failed" or "skipped" (not claimable: sent, not due, or taken)
    retry_in: float | None = None


@dataclass
class BatchReport:
    """What one run did: the outcome of the row it was asked for, and of every other row it claimed."""

    results: dict[int, DeliveryResult] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)  # claimed, not attempted (out of time): owed again

    def outcome(self, message_id: int) -> str:
        result = self.results.get(message_id)
        return result.outcome if result is not None else "skipped"


def backoff_seconds(attempts: int) -> float:
    base: int = settings.HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS
    cap: int = settings.HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def _claimable(now: datetime) -> Q:
    """Pending and due, or in flight with an expired lease; never a row out of attempts."""
    return Q(attempts__lt=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS) & (
        Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.IN_FLIGHT, lease_until__lt=now)
    )


def _claim_where(where: Q, token: uuid.UUID, now: datetime) -> int:
    """The claim: one conditional UPDATE per statement. On PostgreSQL a row another worker claimed while
    this statement waited for its lock is re-checked against the condition and no longer matches."""
    return (
        OutboxMessage.objects.filter(where)
        .filter(_claimable(now))
        .update(
            status=Status.IN_FLIGHT,
            claim_token=token,
            lease_until=now + settings.HANDOFF_OUTBOX_LEASE,
            attempts=F("attempts") + 1,
        )
    )


def claim(message_id: int, *, token: uuid.UUID | None = None) -> uuid.UUID | None:
    token = token or uuid.uuid4()
    return token if _claim_where(Q(pk=message_id), token, timezone.now()) else None


def release_lost_claims(token: uuid.UUID) -> int:
    """Rows still in flight under `token`, whose run is known to be dead (its pool child was killed and its
    task message came back): owed again now instead of when their lease runs out. The dead run's attempt
    stays counted; a row that was on its last attempt is failed, as the sweeper would fail it."""
    lost = OutboxMessage.objects.filter(claim_token=token, status=Status.IN_FLIGHT)
    lost.filter(attempts__gte=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS).update(
        status=Status.FAILED, lease_until=None, last_error="Worker lost during the last attempt."
    )
    return lost.update(status=Status.PENDING, lease_until=None, next_attempt_at=timezone.now())


def claim_due(
    *, limit: int, exclude: Iterable[int] = (), token: uuid.UUID | None = None
) -> tuple[uuid.UUID, list[int]]:
    """Claim up to `limit` other pending rows that are due now, oldest first, under `token` (the run's).

    Every row goes through the same conditional UPDATE as `claim`, so a row another worker (or this row's
    own task message) holds or has sent is not taken; the rows returned are exactly those this call won.
    """
    now = timezone.now()
    token = token or uuid.uuid4()
    candidates = list(
        OutboxMessage.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=now,
            attempts__lt=settings.HANDOFF_OUTBOX_MAX_ATTEMPTS,
        )
        .exclude(pk__in=list(exclude))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return token, []
    won = _claim_where(Q(pk__in=candidates), token, now)
    if won == len(candidates):
        return token, candidates
    if won == 0:
        return token, []
    return token, sorted(
        OutboxMessage.objects.filter(
            pk__in=candidates, claim_token=token, status=Status.IN_FLIGHT
        ).values_list("pk", flat=True)
    )


# What an email needs, in one narrow query: no model instances. The title (and urgency) are the ones the
# in-app notification of the same source and recipient was written with (services write both together); a
# row without one falls back to its kind's wording, built from its event and referral.
def _of_notification(column: str) -> Subquery:
    return Subquery(
        Notification.objects.filter(
            source_key=OuterRef("source_key"), recipient_id=OuterRef("recipient_id")
        ).values(column)[:1]
    )


_TITLE = _of_notification("title")


_URGENT = _of_notification("urgent")


def _fetch(token: uuid.UUID, ids: list[int]) -> list[dict[str, Any]]:
    rows = list(
        OutboxMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.IN_FLIGHT)
        .annotate(title=_TITLE, notification_urgent=_URGENT)
        .values(
            "pk",
            "attempts",
            "kind",
            "event_id",
            "handoff_id",
            "title",
            "notification_urgent",
            "recipient__email",
            "recipient__full_name",
            "event__urgent",
            "handoff__public_id",
        )
    )
    order = {pk: i for i, pk in enumerate(ids)}
    rows.sort(key=lambda row: order[row["pk"]])
    for row in rows:
        if row["notification_urgent"] is not None:
            row["urgent"] = row["notification_urgent"]
        else:
            row["urgent"] = bool(row["event__urgent"])
        if row["title"] is None:
            event = (
                HandoffEvent.objects.select_related(
                    "handoff__plan__patient__clinic", "handoff__trainer", "handoff__gym"
                ).get(pk=row["event_id"])
                if row["event_id"] is not None
                else None
            )
            handoff = (
                TrainerHandoff.objects.select_related("plan__patient__clinic", "trainer", "gym").get(
                    pk=row["handoff_id"]
                )
                if row["handoff_id"] is not None and event is None
                else (event.handoff if event is not None else None)
            )
            row["title"] = _fallback_title(row["kind"], handoff, event)
    return rows


def _send_one(row: dict[str, Any], token: uuid.UUID, connection: BaseEmailBackend) -> DeliveryResult:
    message_id, attempts = row["pk"], row["attempts"]
    mine = OutboxMessage.objects.filter(pk=message_id, claim_token=token)
    try:
        email = _compose(
            title=row["title"],
            path=notification_kind(row["kind"]).link(row["handoff__public_id"]),
            recipient_name=row["recipient__full_name"],
            email=row["recipient__email"],
            urgent=row["urgent"],
        )
        email.connection = connection
        connection.open()  # a no-op while open; after a failure, a fresh connection for this row
        email.send(fail_silently=False)
    except Exception as exc:  # any failure of the mail side is retried, then recorded
        with contextlib.suppress(Exception):
            connection.close()  # it may be broken: the next row opens its own
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= settings.HANDOFF_OUTBOX_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, lease_until=None, last_error=error)
            logger.error("outbox %s failed after %s attempts: %s", message_id, attempts, error)
            return DeliveryResult("failed")
        delay = backoff_seconds(attempts)
        mine.update(
            status=Status.PENDING,
            lease_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            last_error=error,
        )
        logger.warning("outbox %s attempt %s failed, retry in %ss: %s", message_id, attempts, delay, error)
        return DeliveryResult("retry", retry_in=delay)
    now = timezone.now()
    mine.update(status=Status.SENT, sent_at=now, lease_until=None, last_error="")
    # A referral event is delivered when none of its rows is still owed (one statement: the last row sent
    # wins). Other kinds have no event: the row's own status says it all.
    if row["event_id"] is not None:
        HandoffEvent.objects.filter(pk=row["event_id"], delivered_at__isnull=True).exclude(
            Exists(OutboxMessage.objects.filter(event_id=OuterRef("pk")).exclude(status=Status.SENT))
        ).update(delivered_at=now)
    return DeliveryResult("sent")


def _release(token: uuid.UUID, ids: list[int]) -> list[int]:
    """Give back rows claimed but not attempted: pending and due again, the claim's attempt not counted."""
    if not ids:
        return []
    OutboxMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.IN_FLIGHT).update(
        status=Status.PENDING,
        lease_until=None,
        claim_token=None,
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now(),
    )
    return ids


def _deliver_claimed(
    token: uuid.UUID,
    ids: list[int],
    connection: BaseEmailBackend,
    deadline: float | None,
    report: BatchReport,
) -> bool:
    """Send the claimed rows in order; False when the deadline passed (the rest were released)."""
    rows = _fetch(token, ids)
    for i, row in enumerate(rows):
        if deadline is not None and i > 0 and time.monotonic() > deadline:
            report.released += _release(token, [r["pk"] for r in rows[i:]])
            return False
        report.results[row["pk"]] = _send_one(row, token, connection)
    return True


def deliver(
    message_id: int,
    *,
    batch_size: int = 0,
    budget_seconds: float = 0.0,
    token: uuid.UUID | None = None,
    take_over: bool = False,
) -> BatchReport:
    """Deliver one row; then, with `batch_size`, other due rows too, `batch_size` claimed at a time, until
    none is due or `budget_seconds` have passed. One mail connection serves the whole run.

    `token` names the run (the task derives it from its message id, so a redelivered message knows its
    own claims); `take_over` says that an earlier run under the same token is dead: its claims are
    released first, so the row is sent now rather than after its lease."""
    started = time.monotonic()
    deadline = started + budget_seconds if batch_size else None
    report = BatchReport()
    token = token or uuid.uuid4()
    if take_over:
        release_lost_claims(token)
    connection = get_connection(fail_silently=False)
    try:
        if claim(message_id, token=token) is not None:
            _deliver_claimed(token, [message_id], connection, None, report)
        while deadline is not None and time.monotonic() < deadline:
            token, ids = claim_due(limit=batch_size, exclude=[message_id], token=token)
            if not ids or not _deliver_claimed(token, ids, connection, deadline, report):
                break
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return report


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
