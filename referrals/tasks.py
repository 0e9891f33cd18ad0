"""Thin Celery tasks: ids in, domain code called, idempotent (a second run of the same task is a no-op).
The periodic ones (beat's schedule) record each run on their schedule entry's row (periodic.services)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from referrals.notify import outbox as notify_outbox
from referrals.periodic import services as periodic_services

logger = logging.getLogger(__name__)


def publish_delivery(message_id: int, *, countdown: float | None = None) -> bool:
    """Best-effort publish: never raises. A row the broker did not take waits for the sweeper."""
    try:
        if countdown is None:
            deliver_outbox_message.apply_async(args=(message_id,))
        else:
            deliver_outbox_message.apply_async(args=(message_id,), countdown=countdown)
    except Exception as exc:  # broker down or stalled: the outbox row is the source of truth
        logger.warning("outbox %s not published (%r); the sweeper will pick it up", message_id, exc)
        return False
    return True


def publish_deliveries(message_ids: Iterable[int]) -> None:
    for message_id in message_ids:
        if not publish_delivery(message_id):
            break  # the broker is down: do not wait on it once per row


@shared_task(bind=True, ignore_result=True)
def deliver_outbox_message(self: Task[Any, Any], message_id: int) -> str:
    """Deliver the row, then whatever else is due (a batch; see HANDOFF_OUTBOX_BATCH_SIZE). Returns the
    outcome for `message_id` itself: a row a batch already sent is "skipped" here, in one UPDATE."""
    request = self.request
    # The claim token is this message's: a copy of it that comes back after its pool child died
    # (reject_on_worker_lost; the broker marks it redelivered) finds the rows it held and takes them over.
    # Not a message with an ETA (a retry): Redis hands such a message out again while the worker that
    # holds it is alive and waiting (visibility_timeout), so two live copies could share the token.
    # Without an ETA a message starts within one task's time limit of being taken, far inside the
    # visibility timeout, so a redelivered copy means the run that had it is gone.
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"celery-task:{request.id}") if request.id else None
    redelivered = bool((request.delivery_info or {}).get("redelivered")) and request.eta is None
    report = notify_outbox.deliver(
        message_id,
        batch_size=0 if request.is_eager else settings.HANDOFF_OUTBOX_BATCH_SIZE,
        budget_seconds=settings.HANDOFF_OUTBOX_BATCH_SECONDS,
        token=token,
        take_over=token is not None and redelivered,
    )
    for row_id, result in report.results.items():
        if result.outcome == "retry" and result.retry_in is not None:
            publish_delivery(row_id, countdown=result.retry_in)
    publish_deliveries(report.released)
    others = len(report.results) - (message_id in report.results)
    if others:
        logger.info("outbox %s: %s more row(s) delivered in the same run", message_id, others)
    return report.outcome(message_id)


@shared_task(ignore_result=True)
@periodic_services.recorded
def sweep_outbox() -> int:
    """Periodic: re-enqueue rows the broker lost or a dead worker held; fail rows out of attempts."""
    notify_outbox.fail_exhausted()
    ids = notify_outbox.due_message_ids()
    publish_deliveries(ids)
    return len(ids)


@shared_task(ignore_result=True)
@periodic_services.recorded
def review_eligibility() -> int:
    """Daily: open referrals whose trainer's credentials lapsed (or whose organizations changed outside
    the services) are recorded and their clinic told, once per reason (services.handoff_review_eligibility:
    idempotent, so a second run the same day tells nobody again)."""
    from referrals.handoffs import services as handoffs_services

    return len(handoffs_services.handoff_review_eligibility())


@shared_task(ignore_result=True)
@periodic_services.recorded
def notify_reports_overdue() -> int:
    """Daily: the referrals whose progress report is overdue have their clinic and trainer told, once per
    due date (progress.reports.reports_overdue_notify: idempotent, a second run tells nobody again)."""
    from referrals.progress import reports as progress_reports

    return len(progress_reports.reports_overdue_notify())


@shared_task(ignore_result=True)
@periodic_services.recorded
def sweep_timers() -> int:
    """Every few minutes (HANDOFF_TIMER_SWEEP_SECONDS): every timer, each idempotent (timers.sweep: the
    unanswered referrals, the care that stalls, the precautions that ended, the holds past their review,
    the credentials about to lapse); the number of steps taken."""
    from referrals.timers import sweep as timers_sweep

    return len(timers_sweep.timers_sweep())


@shared_task(ignore_result=True)
@periodic_services.recorded
def trim_records() -> int:
    """Daily: the access log past HANDOFF_ACCESS_LOG_RETENTION_DAYS (six years) and django-axes' login
    records past HANDOFF_LOCKOUT_RETENTION_DAYS (90 days) deleted, in batches (audit.services.access_log_trim,
    accounts.services.lockout_records_trim: idempotent, each batch committed, so a run cut short by the time
    limit is finished by the next); the number of rows deleted."""
    from accounts import services as account_services
    from referrals.audit import services as audit_services

    return audit_services.access_log_trim() + account_services.lockout_records_trim()
