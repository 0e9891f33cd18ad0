"""The outbox: owed in the same transaction, sent after commit, once, retried, failed after 8 attempts."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from config.celery_app import app as celery_app
from referrals import tasks
from referrals.concerns import services as concerns_services
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify import outbox as notify_outbox
from referrals.notify import services as notify_services
from referrals.notify.models import Notification, OutboxMessage
from tests.celery_switch import broker_at
from tests.conftest import World
from tests.mail_backends import set_failures

pytestmark = pytest.mark.django_db
FLAKY = "tests.mail_backends.FlakyBackend"


class CaptureLogs(logging.Handler):
    def __enter__(self) -> CaptureLogs:
        self.records: list[str] = []
        logging.getLogger("referrals.tasks").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("referrals.tasks").removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.records)


Status = OutboxMessage.Status


def test_no_email_before_commit_then_exactly_one_after(
    world: World, draft: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
        assert mail.outbox == []
    assert len(callbacks) == 1 and mail.outbox == []
    row = OutboxMessage.objects.get()
    assert row.status == Status.PENDING and row.recipient == world.trainer
    assert Notification.objects.get().recipient == world.trainer  # in-app written with the event
    callbacks[0]()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [world.trainer.email]
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1 and row.sent_at is not None


def test_a_rolled_back_action_enqueues_nothing_and_sends_nothing(
    world: World, draft: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
        raise RuntimeError("something later in the same transaction failed")
    assert callbacks == []
    assert mail.outbox == []
    assert not OutboxMessage.objects.exists() and not Notification.objects.exists()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_one_email_per_event_even_when_the_task_runs_twice(world: World, requested: TrainerHandoff) -> None:
    row = OutboxMessage.objects.get()
    assert len(mail.outbox) == 1
    assert tasks.deliver_outbox_message(row.pk) == "skipped"
    assert tasks.deliver_outbox_message.apply(args=(row.pk,)).get() == "skipped"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1
    assert HandoffEvent.objects.get(to_status="requested").delivered_at is not None


def test_a_claim_is_won_by_one_worker_only(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(
        handoff=draft, actor=world.physio
    )  # on_commit not run: the row stays pending
    row = OutboxMessage.objects.get()
    first, second = notify_outbox.claim(row.pk), notify_outbox.claim(row.pk)
    assert first is not None and second is None
    row.refresh_from_db()
    assert row.status == Status.IN_FLIGHT and row.claim_token == first and row.attempts == 1


def test_the_sweeper_does_not_resend_what_a_worker_holds(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert notify_outbox.claim(row.pk) is not None  # a worker is sending it now
    assert tasks.sweep_outbox() == 0
    assert mail.outbox == []


def test_email_names_what_and_where_but_no_patient_or_clinical_detail(
    world: World, requested: TrainerHandoff
) -> None:
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    text = f"{message.subject}\n{message.body}\n{html}"
    assert "New referral from Lakeside Physio" in message.subject
    assert f"/handoffs/{requested.public_id}/" in message.body
    plan = world.plan
    exercise = plan.exercises.first().exercise.name  # type: ignore[union-attr]
    for secret in (
        plan.patient.full_name,
        plan.diagnosis,
        "M75.1",
        plan.goals,
        exercise,
        "Night pain",
        "5 kg",
    ):
        assert secret not in text, secret


def test_urgent_concern_email_goes_to_the_physio(world: World, requested: TrainerHandoff) -> None:
    handoff = handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    mail.outbox.clear()
    concerns_services.handoff_raise_concern(
        handoff=handoff, actor=world.trainer, text="Knee swelling after squats"
    )
    # on_commit outside a test transaction wrapper is deferred: deliver what is owed
    for row in OutboxMessage.objects.filter(status=Status.PENDING):
        tasks.deliver_outbox_message(row.pk)
    subjects = [m.subject for m in mail.outbox]
    assert any("Urgent" in s and "concern" in s for s in subjects)
    assert all("swelling" not in m.body for m in mail.outbox)


@override_settings(EMAIL_BACKEND=FLAKY)
def test_transient_smtp_failure_is_retried_with_backoff_and_sent_once(
    world: World, draft: TrainerHandoff
) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    set_failures(2)
    before = timezone.now()
    assert tasks.deliver_outbox_message(row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    first_wait = (row.next_attempt_at - before).total_seconds()
    assert 4 <= first_wait <= 7
    # not due yet: a duplicate enqueue is a no-op
    assert tasks.deliver_outbox_message(row.pk) == "skipped"
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    assert tasks.deliver_outbox_message(row.pk) == "retry"
    row.refresh_from_db()
    second_wait = (row.next_attempt_at - before).total_seconds()
    assert second_wait > first_wait * 1.5, "backoff grows"
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert tasks.deliver_outbox_message(row.pk) == "sent"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 3 and row.last_error == ""


@override_settings(EMAIL_BACKEND=FLAKY)
def test_permanent_smtp_failure_ends_failed_after_8_attempts(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    set_failures(1000)
    outcomes = []
    for _ in range(10):
        OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outcomes.append(tasks.deliver_outbox_message(row.pk))
    assert outcomes == ["retry"] * 7 + ["failed", "skipped", "skipped"]
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 8
    assert mail.outbox == []
    set_failures(0)


def test_backoff_doubles_and_is_capped() -> None:
    waits = [notify_outbox.backoff_seconds(n) for n in range(1, 12)]
    assert waits[:4] == [5, 10, 20, 40]
    assert max(waits) == 15 * 60


def test_sweeper_reenqueues_rows_pending_past_30_seconds_only(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)  # published never: the broker "lost" it
    row = OutboxMessage.objects.get()
    assert tasks.sweep_outbox() == 0  # fresh: a publish may still be on its way
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=31)
    )
    assert tasks.sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and len(mail.outbox) == 1
    assert tasks.sweep_outbox() == 0


def test_sweeper_recovers_a_row_whose_worker_died_mid_delivery(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    assert notify_outbox.claim(row.pk) is not None  # the worker claims, then dies
    OutboxMessage.objects.filter(pk=row.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and len(mail.outbox) == 1


def test_sweeper_fails_a_row_that_died_on_its_last_attempt(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=Status.IN_FLIGHT, attempts=8, lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.status == Status.FAILED and mail.outbox == []


def test_a_late_worker_cannot_overwrite_the_result_of_the_one_that_took_over(
    world: World, draft: TrainerHandoff
) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    stale_token = notify_outbox.claim(row.pk)
    OutboxMessage.objects.filter(pk=row.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.deliver_outbox_message(row.pk) == "sent"  # the second worker takes over and sends
    # the first worker's outcome write matches nothing: its token is gone
    assert OutboxMessage.objects.filter(pk=row.pk, claim_token=stale_token).update(status=Status.PENDING) == 0
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_admin_resend_reowes_a_failed_message(
    world: World, draft: TrainerHandoff, superuser: Any, django_capture_on_commit_callbacks: Any
) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(status=Status.FAILED, attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        notify_services.outbox_resend(message=row, actor=superuser)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1 and len(mail.outbox) == 1


def test_publishing_with_the_broker_down_returns_at_once_and_keeps_the_row(
    world: World, draft: TrainerHandoff
) -> None:
    """Redis unreachable (a closed port): the publish gives up within the short timeout, never raises."""
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    with broker_at("redis://127.0.0.1:9/0"):
        with celery_app.connection_for_write() as conn:
            assert "127.0.0.1:9" in conn.as_uri()
        started = time.monotonic()
        with CaptureLogs() as logs:
            assert tasks.publish_delivery(row.pk) is False
        elapsed = time.monotonic() - started
    assert "Connection refused" in logs.text or "Error 111" in logs.text, logs.text
    assert elapsed < 3.0, f"publish blocked for {elapsed:.2f}s"
    row.refresh_from_db()
    assert row.status == Status.PENDING and mail.outbox == []


def test_a_swept_row_is_not_republished_at_every_sweep(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    assert notify_outbox.due_message_ids() == [row.pk]
    assert notify_outbox.due_message_ids() == [], "re-published once per grace period, not per sweep"
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=31)
    )
    assert notify_outbox.due_message_ids() == [row.pk]


def test_sweep_outbox_command_delivers_what_is_overdue_in_the_embedded_default(
    world: World, draft: TrainerHandoff
) -> None:
    from io import StringIO

    from django.core.management import call_command

    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=1))
    out = StringIO()
    call_command("sweep_outbox", stdout=out)
    assert "Re-enqueued 1 message(s); now 0 pending, 0 failed." in out.getvalue()
    assert len(mail.outbox) == 1


# --- batches: a task that has sent its own row goes on with other due rows -------------------------------

BATCH = {"HANDOFF_OUTBOX_BATCH_SIZE": 3, "HANDOFF_OUTBOX_BATCH_SECONDS": 30.0}


def owe_to_many(world: World, draft: TrainerHandoff, n: int) -> list[OutboxMessage]:
    """The sent referral's row, plus `n - 1` more rows of the same event for other recipients (pending,
    nothing published: as if the broker had their messages queued behind this one)."""
    from tests.factories import UserFactory

    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)  # on_commit not run: nothing sent yet
    first = OutboxMessage.objects.get()
    others = [UserFactory() for _ in range(n - 1)]
    OutboxMessage.objects.bulk_create([OutboxMessage(event=first.event, recipient=u) for u in others])
    Notification.objects.bulk_create(
        [Notification(event=first.event, recipient=u, title="Batch title") for u in others[1:]]
    )  # others[0] has no in-app notification: its title is built from the event
    return list(OutboxMessage.objects.order_by("pk"))


@override_settings(**BATCH)
def test_one_task_delivers_its_row_then_the_other_due_rows_each_once(
    world: World, draft: TrainerHandoff
) -> None:
    rows = owe_to_many(world, draft, 8)
    assert tasks.deliver_outbox_message(rows[0].pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient.email for r in rows)
    # the other rows' own messages arrive later and find nothing to do
    assert [tasks.deliver_outbox_message(r.pk) for r in rows[1:]] == ["skipped"] * 7
    assert len(mail.outbox) == 8
    for row in OutboxMessage.objects.all():
        assert row.status == Status.SENT and row.attempts == 1 and row.sent_at is not None
    assert HandoffEvent.objects.get(to_status="requested").delivered_at is not None
    titles = {m.to[0]: m.subject for m in mail.outbox}
    assert titles[rows[1].recipient.email] == "[Handoff] New referral from Lakeside Physio"  # from the event
    assert titles[rows[2].recipient.email] == "[Handoff] Batch title"  # the in-app notification's


@override_settings(**BATCH)
def test_a_batch_leaves_alone_rows_another_worker_holds_or_that_are_not_due(
    world: World, draft: TrainerHandoff
) -> None:
    rows = owe_to_many(world, draft, 5)
    held = notify_outbox.claim(rows[1].pk)  # another worker is sending it
    assert held is not None
    later = timezone.now() + datetime.timedelta(minutes=5)
    OutboxMessage.objects.filter(pk=rows[2].pk).update(next_attempt_at=later)  # backing off
    assert tasks.deliver_outbox_message(rows[0].pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient.email for r in (rows[0], *rows[3:]))
    rows[1].refresh_from_db()
    rows[2].refresh_from_db()
    assert rows[1].status == Status.IN_FLIGHT and rows[1].claim_token == held and rows[1].attempts == 1
    assert rows[2].status == Status.PENDING and rows[2].attempts == 0
    assert HandoffEvent.objects.get(to_status="requested").delivered_at is None  # two still owed


@override_settings(**BATCH)
def test_two_batches_racing_over_the_same_rows_send_each_row_once(
    world: World, draft: TrainerHandoff
) -> None:
    rows = owe_to_many(world, draft, 6)
    first_token, first = notify_outbox.claim_due(limit=4)
    second_token, second = notify_outbox.claim_due(limit=4)  # sees the same candidates first
    assert first == [r.pk for r in rows[:4]]
    assert second == [r.pk for r in rows[4:]] and first_token != second_token
    assert notify_outbox.claim_due(limit=4)[1] == []
    assert all(tasks.deliver_outbox_message(r.pk) == "skipped" for r in rows)
    assert mail.outbox == []


@override_settings(EMAIL_BACKEND=FLAKY, **BATCH)
def test_a_failure_in_one_row_of_a_batch_does_not_lose_the_others(
    world: World, draft: TrainerHandoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = owe_to_many(world, draft, 6)
    assert notify_outbox.claim(rows[0].pk) is not None  # its own row is another worker's: a batch only
    published: list[tuple[int, float | None]] = []

    def publish(pk: int, countdown: float | None = None) -> bool:
        published.append((pk, countdown))
        return True

    monkeypatch.setattr(tasks, "publish_delivery", publish)
    set_failures(1)  # the mail server refuses the first email of the run: the batch's first row
    assert tasks.deliver_outbox_message(rows[0].pk) == "skipped"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient.email for r in rows[2:])
    failed = OutboxMessage.objects.get(pk=rows[1].pk)
    assert (
        failed.status == Status.PENDING and failed.attempts == 1 and "ConnectionRefused" in failed.last_error
    )
    assert failed.next_attempt_at > timezone.now()
    assert published == [(rows[1].pk, 5.0)], "the failed row's retry is published with its backoff"
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 4
    set_failures(0)


@override_settings(EMAIL_BACKEND="tests.mail_backends.TickingBackend")
def test_rows_claimed_but_not_reached_in_time_are_given_back_uncounted(
    world: World, draft: TrainerHandoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from tests.mail_backends import TickingBackend

    rows = owe_to_many(world, draft, 5)
    TickingBackend.clock = 0.0
    monkeypatch.setattr(notify_outbox, "time", SimpleNamespace(monotonic=lambda: TickingBackend.clock))
    # 1 s per email, 1.5 s of budget: the own row (1 s), a batch of 4 claimed, its first row sent (2 s)
    report = notify_outbox.deliver(rows[0].pk, batch_size=4, budget_seconds=1.5)
    # its own row, then the first row of the batch (a batch always makes progress); the rest given back
    assert [pk for pk, r in report.results.items() if r.outcome == "sent"] == [rows[0].pk, rows[1].pk]
    assert report.released == [r.pk for r in rows[2:]]
    for row in OutboxMessage.objects.filter(pk__in=report.released):
        assert row.status == Status.PENDING and row.attempts == 0 and row.claim_token is None
        assert row.next_attempt_at <= timezone.now()
    assert len(mail.outbox) == 2


@override_settings(**BATCH)
def test_the_task_republishes_what_its_batch_gave_back(
    world: World, draft: TrainerHandoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = owe_to_many(world, draft, 3)
    published: list[int] = []

    def publish(pk: int, countdown: float | None = None) -> bool:
        published.append(pk)
        return True

    monkeypatch.setattr(tasks, "publish_delivery", publish)
    monkeypatch.setattr(
        notify_outbox,
        "deliver",
        lambda pk, **kw: notify_outbox.BatchReport(
            results={pk: notify_outbox.DeliveryResult("sent")}, released=[rows[1].pk, rows[2].pk]
        ),
    )
    assert tasks.deliver_outbox_message(rows[0].pk) == "sent"
    assert published == [rows[1].pk, rows[2].pk]


# --- a run whose pool child died: its redelivered message takes over at once ---------------------------


def test_a_redelivered_run_takes_over_the_rows_its_dead_run_held(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    token = notify_outbox.claim(row.pk)  # the run claims, then its pool child is SIGKILLed mid-send
    assert token is not None
    # an unrelated duplicate (another token) still finds the row leased
    assert notify_outbox.deliver(row.pk).outcome(row.pk) == "skipped"
    # without the redelivery mark, the same token does not take over either
    assert notify_outbox.deliver(row.pk, token=token).outcome(row.pk) == "skipped"
    assert notify_outbox.deliver(row.pk, token=token, take_over=True).outcome(row.pk) == "sent"
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and len(mail.outbox) == 1
    # once sent, another redelivery of the same message finds nothing of its own in flight
    assert notify_outbox.deliver(row.pk, token=token, take_over=True).outcome(row.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_row_lost_on_its_last_attempt_is_failed_not_retried(world: World, draft: TrainerHandoff) -> None:
    handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=7)
    token = notify_outbox.claim(row.pk)
    assert token is not None
    assert notify_outbox.deliver(row.pk, token=token, take_over=True).outcome(row.pk) == "skipped"
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 8 and "Worker lost" in row.last_error
    assert mail.outbox == []


def test_the_task_takes_over_only_for_a_redelivered_message_without_an_eta(
    world: World, draft: TrainerHandoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def deliver(pk: int, **kw: Any) -> notify_outbox.BatchReport:
        calls.append(kw)
        return notify_outbox.BatchReport()

    monkeypatch.setattr(notify_outbox, "deliver", deliver)
    task = tasks.deliver_outbox_message
    # celery-types gives push_request the task's own parameters; it takes the request's fields
    push_request: Callable[..., None] = task.push_request
    for delivery_info, eta in [
        ({"redelivered": True}, None),
        ({"redelivered": False}, None),
        ({"redelivered": True}, "2026-01-01T00:00:00+00:00"),  # a retry: Redis may hand it out twice
    ]:
        push_request(id="4b4c6a36-8d0b-4a51-9f5e-1f1f9c4e1a10", delivery_info=delivery_info, eta=eta)
        try:
            task.run(1)
        finally:
            task.pop_request()
    assert [c["take_over"] for c in calls] == [True, False, False]
    assert len({c["token"] for c in calls}) == 1, "every copy of one message claims under the same token"
