"""The happy path through the real parts: commit in PostgreSQL, publish to Redis, a worker process sends."""

from __future__ import annotations

import pytest

from referrals import services
from referrals.models import Notification, OutboxMessage
from tests.conftest import World
from tests.integration.harness import CeleryWorker, wait_for
from tests.mail_backends import MailEdge

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_sent_referral_is_emailed_once_by_a_real_worker(
    worker: CeleryWorker, mail_edge: MailEdge, world: World
) -> None:
    handoff = services.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    row = OutboxMessage.objects.get(event__handoff=handoff)
    elapsed = wait_for(lambda: len(mail_edge.sent()) == 1, 30, "the worker emails the trainer")
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT and row.attempts == 1
    mail = mail_edge.sent()[0]
    assert mail["to"] == world.trainer.email
    assert f"/handoffs/{handoff.public_id}/" in mail["body"]
    assert world.plan.patient.full_name not in mail["body"] + mail["subject"]
    assert Notification.objects.filter(recipient=world.trainer).count() == 1
    assert elapsed < 10
    # the answer goes to the PT; the sweeper runs every second and sends nothing twice
    services.handoff_accept(handoff=handoff, actor=world.trainer)
    wait_for(lambda: len(mail_edge.sent()) == 2, 30, "the worker emails the PT")
    sweeps = len(worker.task_events("sweep_outbox"))
    wait_for(lambda: len(worker.task_events("sweep_outbox")) >= sweeps + 4, 30, "two more sweeps")
    assert [m["to"] for m in mail_edge.sent()] == [world.trainer.email, world.physio.email]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}
