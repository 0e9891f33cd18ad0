"""The timers through the real parts (issue 16): Redis, a worker process with beat, PostgreSQL, the
intervals shortened through the environment. An unanswered referral is reminded, escalated with other
trainers suggested, then cancelled; beat (with its worker) is killed in between and started again, and
each step happens once, each email once."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import HandoffEvent, HandoffStatus
from referrals.periodic.models import PeriodicRun
from tests.conftest import World
from tests.integration.conftest import StartWorker
from tests.integration.harness import CeleryWorker, RedisServer, wait_for
from tests.mail_backends import MailEdge

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

# Seconds, not days: the reminder after 5 s, the clinic told after 30 s, cancelled after 36 s (room for a
# slow worker start between the steps); a sweep each second; no night (the test runs at any hour).
REMIND_S, ESCALATE_S, EXPIRE_S = 5, 30, 36
FAST_TIMERS = {
    "HANDOFF_TIMER_SWEEP_SECONDS": "1",
    "HANDOFF_REMIND_AFTER_HOURS": str(REMIND_S / 3600),
    "HANDOFF_ESCALATE_AFTER_DAYS": str(ESCALATE_S / 86400),
    "HANDOFF_EXPIRE_AFTER_DAYS": str(EXPIRE_S / 86400),
    "HANDOFF_QUIET_HOURS": "0,0,0",
}


def _kinds(handoff_id: int) -> list[str]:
    return list(
        HandoffEvent.objects.filter(handoff_id=handoff_id, actor__isnull=True)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


def _sweeps(worker: CeleryWorker, event: str) -> int:
    return sum(e["event"] == event for e in worker.task_events("referrals.tasks.sweep_timers"))


def test_beat_reminds_escalates_and_cancels_once_each_across_a_killed_beat(
    start_worker: StartWorker,
    broker: RedisServer,
    mail_edge: MailEdge,
    world: World,
    other_trainer: User,
) -> None:
    handoff = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    worker = start_worker(beat=True, **FAST_TIMERS)
    wait_for(lambda: len(mail_edge.sent()) >= 1, 30, "the new referral emailed to the trainer")
    wait_for(lambda: _kinds(handoff.pk) == [HandoffEvent.Kind.REMINDER], 30, "the reminder")
    wait_for(lambda: len(mail_edge.sent()) >= 2, 30, "the reminder emailed")
    worker.kill()  # beat and worker gone, SIGKILL: no clean shutdown, its schedule file left behind
    assert handoff.sent_at is not None
    while time.time() < handoff.sent_at.timestamp() + ESCALATE_S + 1:  # it falls due while nothing runs
        time.sleep(0.5)
    assert _kinds(handoff.pk) == [HandoffEvent.Kind.REMINDER]
    again = start_worker(beat=True, **FAST_TIMERS)
    wait_for(
        lambda: HandoffEvent.objects.filter(handoff=handoff, to_status=HandoffStatus.CANCELLED).exists(),
        40,
        "the escalation and then the cancellation",
    )
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.CANCELLED and handoff.business_status == "no-response"
    escalation = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.NO_ANSWER)
    assert other_trainer.full_name in escalation.text  # the suggestion
    wait_for(lambda: len(mail_edge.sent()) >= 5, 30, "the escalation and the cancellation emailed")
    sweeps = len(again.task_events("referrals.tasks.sweep_timers"))
    wait_for(lambda: len(again.task_events("referrals.tasks.sweep_timers")) >= sweeps + 6, 30, "more sweeps")
    assert _kinds(handoff.pk) == [
        HandoffEvent.Kind.REMINDER,
        HandoffEvent.Kind.NO_ANSWER,
        HandoffEvent.Kind.TRANSITION,
    ]
    subjects = [(m["to"], m["subject"]) for m in mail_edge.sent()]
    assert len(subjects) == len(set(subjects)) == 5, subjects  # sent, reminded, told, cancelled x2: once each
    assert [to for to, _ in subjects].count(world.physio.email) == 2  # the escalation and the cancellation
    # each sweep beat sent is recorded on its entry's row by the worker that ran it (the run a killed worker
    # had started may not be): counted between the runs ended before the read and those started after it
    ended = _sweeps(again, "end")
    run = PeriodicRun.objects.get(name="sweep-timers")
    assert ended <= run.runs <= _sweeps(worker, "start") + _sweeps(again, "start")
    assert run.failures == 0 and run.last_outcome == PeriodicRun.Outcome.OK
