"""The happy path through the real parts: commit in PostgreSQL, publish to Redis, a worker process sends."""

from __future__ import annotations

import time
from typing import Any

import pytest

from referrals import services
from referrals.models import OutboxMessage
from tests.conftest import World
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration


def wait_for(predicate: Any, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_sent_referral_is_emailed_once_by_a_real_worker(worker: Worker, world: World) -> None:
    handoff = services.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    row = OutboxMessage.objects.get(event__handoff=handoff)
    try:
        elapsed = wait_for(lambda: len(worker.mails()) == 1, timeout=30)
    except AssertionError:
        pytest.fail(f"no email from the worker:\n{worker.log.read_text(errors='replace')[-3000:]}")
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT and row.attempts == 1
    mail = worker.mails()[0]
    assert f"/handoffs/{handoff.public_id}/" in mail and world.trainer.email in mail
    assert world.plan.patient.full_name not in mail
    assert elapsed < 10
    # the sweeper finds nothing left to do, and nothing is sent twice
    services.handoff_accept(handoff=handoff, actor=world.trainer)
    wait_for(lambda: len(worker.mails()) == 2, timeout=30)
    time.sleep(1)
    assert len(worker.mails()) == 2
