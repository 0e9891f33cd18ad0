"""The happy path through the real parts: commit in PostgreSQL, publish to Redis, a worker process sends."""

from __future__ import annotations

import pytest

from referrals import tasks
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.notify.models import Notification, OutboxMessage
from tests.conftest import World
from tests.integration.conftest import StartWorker
from tests.integration.harness import CeleryWorker, RedisServer, wait_for
from tests.mail_backends import MailEdge

# PostgreSQL: worker processes read the rows this test commits (they cannot share its SQLite database).
pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_a_sent_referral_is_emailed_once_by_a_real_worker(
    worker: CeleryWorker, mail_edge: MailEdge, world: World
) -> None:
    handoff = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    row = OutboxMessage.objects.get(event__handoff=handoff)
    elapsed = wait_for(lambda: len(mail_edge.sent()) == 1, 30, "the worker emails the trainer")
    # the outcome is written just after the mail server took the email
    wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).status != "in_flight", 10, "the outcome recorded")
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT and row.attempts == 1
    mail = mail_edge.sent()[0]
    assert mail["to"] == world.trainer.email
    assert f"/handoffs/{handoff.public_id}/" in mail["body"]
    assert world.plan.patient.full_name not in mail["body"] + mail["subject"]
    assert Notification.objects.filter(recipient=world.trainer).count() == 1
    assert elapsed < 10
    # the answer goes to the PT; the sweeper runs every second and sends nothing twice
    handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
    wait_for(lambda: len(mail_edge.sent()) == 2, 30, "the worker emails the PT")
    sweeps = len(worker.task_events("sweep_outbox"))
    wait_for(lambda: len(worker.task_events("sweep_outbox")) >= sweeps + 4, 30, "two more sweeps")
    assert [m["to"] for m in mail_edge.sent()] == [world.trainer.email, world.physio.email]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}


def test_a_backlog_drained_by_two_racing_pool_children_in_batches_emails_each_recipient_once(
    start_worker: StartWorker, broker: RedisServer, mail_edge: MailEdge, world: World
) -> None:
    """A backlog queued while no worker ran; then two pool children, each of whose tasks goes on with a
    batch of other due rows (5 at a time here), race over the same rows: every row is sent once, one
    failing send is retried, and the messages whose row a batch already sent find nothing to do."""
    from tests.factories import UserFactory

    handoff = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )  # published to the broker; no worker yet
    first = OutboxMessage.objects.get(event__handoff=handoff)
    others = [UserFactory() for _ in range(39)]
    OutboxMessage.objects.bulk_create([OutboxMessage(event=first.event, recipient=u) for u in others])
    ids = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))
    tasks.publish_deliveries(ids[1:])
    assert broker.queue_length() == 40
    mail_edge.control(fail_next=1, delay=0.02)  # a slow-ish server that refuses one email

    worker = start_worker(concurrency=2, HANDOFF_OUTBOX_BATCH_SIZE="5")
    recipients = sorted([world.trainer.email, *(u.email for u in others)])
    wait_for(lambda: len(mail_edge.sent()) >= 40, 60, "40 emails")
    wait_for(
        lambda: sum(1 for e in worker.task_events("deliver_outbox_message") if e["event"] == "end") >= 41,
        60,
        "every message handled, and the retry",
    )
    assert sorted(m["to"] for m in mail_edge.sent()) == recipients  # once each
    rows = OutboxMessage.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}
    assert sorted(rows.values_list("attempts", flat=True)) == [1] * 39 + [2]
    ends = [e for e in worker.task_events("deliver_outbox_message") if e["event"] == "end"]
    assert len({e["pid"] for e in ends}) == 2  # both children worked
    assert sum(e["retval"] == "skipped" for e in ends) >= 20, "most messages found their row already sent"
    assert "more row(s) delivered in the same run" in worker.log_text()
