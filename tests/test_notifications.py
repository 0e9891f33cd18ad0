"""The outbox: owed in the same transaction, sent after commit, once, retried, failed after 8 attempts."""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from config.celery_app import app as celery_app
from referrals import notifications, services, tasks
from referrals.models import HandoffEvent, Notification, OutboxMessage, TrainerHandoff
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
        services.handoff_send(handoff=draft, actor=world.physio)
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
        services.handoff_send(handoff=draft, actor=world.physio)
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
    assert tasks.deliver_outbox_message.apply(args=[row.pk]).get() == "skipped"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1
    assert HandoffEvent.objects.get(to_status="requested").delivered_at is not None


def test_a_claim_is_won_by_one_worker_only(world: World, draft: TrainerHandoff) -> None:
    services.handoff_send(handoff=draft, actor=world.physio)  # on_commit not run: the row stays pending
    row = OutboxMessage.objects.get()
    first, second = notifications.claim(row.pk), notifications.claim(row.pk)
    assert first is not None and second is None
    row.refresh_from_db()
    assert row.status == Status.IN_FLIGHT and row.claim_token == first and row.attempts == 1


def test_the_sweeper_does_not_resend_what_a_worker_holds(world: World, draft: TrainerHandoff) -> None:
    services.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert notifications.claim(row.pk) is not None  # a worker is sending it now
    assert tasks.sweep_outbox() == 0
    assert mail.outbox == []


def test_email_names_what_and_where_but_no_patient_or_clinical_detail(
    world: World, requested: TrainerHandoff
) -> None:
    message = mail.outbox[0]
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
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
    handoff = services.handoff_accept(handoff=requested, actor=world.trainer)
    mail.outbox.clear()
    services.handoff_raise_concern(handoff=handoff, actor=world.trainer, text="Knee swelling after squats")
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
    services.handoff_send(handoff=draft, actor=world.physio)
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
    services.handoff_send(handoff=draft, actor=world.physio)
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
    waits = [notifications.backoff_seconds(n) for n in range(1, 12)]
    assert waits[:4] == [5, 10, 20, 40]
    assert max(waits) == 15 * 60


def test_sweeper_reenqueues_rows_pending_past_30_seconds_only(world: World, draft: TrainerHandoff) -> None:
    services.handoff_send(handoff=draft, actor=world.physio)  # published never: the broker "lost" it
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
    services.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    assert notifications.claim(row.pk) is not None  # the worker claims, then dies
    OutboxMessage.objects.filter(pk=row.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and len(mail.outbox) == 1


def test_sweeper_fails_a_row_that_died_on_its_last_attempt(world: World, draft: TrainerHandoff) -> None:
    services.handoff_send(handoff=draft, actor=world.physio)
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
    services.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    stale_token = notifications.claim(row.pk)
    OutboxMessage.objects.filter(pk=row.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.deliver_outbox_message(row.pk) == "sent"  # the second worker takes over and sends
    # the first worker's outcome write matches nothing: its token is gone
    assert OutboxMessage.objects.filter(pk=row.pk, claim_token=stale_token).update(status=Status.PENDING) == 0
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_admin_resend_reowes_a_failed_message(
    world: World, draft: TrainerHandoff, superuser: Any, django_capture_on_commit_callbacks: Any
) -> None:
    services.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(status=Status.FAILED, attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        services.outbox_resend(message=row, actor=superuser)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1 and len(mail.outbox) == 1


def test_publishing_with_the_broker_down_returns_at_once_and_keeps_the_row(
    world: World, draft: TrainerHandoff
) -> None:
    """Redis unreachable (a closed port): the publish gives up within the short timeout, never raises."""
    services.handoff_send(handoff=draft, actor=world.physio)
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
    services.handoff_send(handoff=draft, actor=world.physio)
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    assert notifications.due_message_ids() == [row.pk]
    assert notifications.due_message_ids() == [], "re-published once per grace period, not per sweep"
    OutboxMessage.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=31)
    )
    assert notifications.due_message_ids() == [row.pk]


def test_sweep_outbox_command_delivers_what_is_overdue_in_the_embedded_default(
    world: World, draft: TrainerHandoff
) -> None:
    from io import StringIO

    from django.core.management import call_command

    services.handoff_send(handoff=draft, actor=world.physio)
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=1))
    out = StringIO()
    call_command("sweep_outbox", stdout=out)
    assert "Re-enqueued 1 message(s); now 0 pending, 0 failed." in out.getvalue()
    assert len(mail.outbox) == 1
