"""Thin Celery tasks: ids in, domain code called, idempotent (a second run of the same task is a no-op)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task

from referrals import notifications

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


@shared_task(ignore_result=True)
def deliver_outbox_message(message_id: int) -> str:
    result = notifications.deliver(message_id)
    if result.outcome == "retry" and result.retry_in is not None:
        publish_delivery(message_id, countdown=result.retry_in)
    return result.outcome


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Periodic: re-enqueue rows the broker lost or a dead worker held; fail rows out of attempts."""
    notifications.fail_exhausted()
    ids = notifications.due_message_ids()
    publish_deliveries(ids)
    return len(ids)
