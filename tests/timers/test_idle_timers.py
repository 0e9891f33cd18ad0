"""Care that stalls (issue 16): an accepted referral with no session for 14 days, one in progress with none
for 21 (or the clinic's own days), has its trainer and its clinic nudged once per quiet spell; a session
logged starts a new one. The sweep reads only the referrals that can be due, in a fixed number of
queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from referrals.care.models import TreatmentPlan
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress import services as progress_services
from referrals.timers import idle as timers_idle
from referrals.timers import schedule
from referrals.timers.models import ClinicTimers
from tests import factories as f
from tests.conftest import World, make_physio

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
ACCEPTED = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def new_plan(world: World, clinic: Organization | None = None) -> TreatmentPlan:
    """Another plan of the world's physiotherapist (or of a physiotherapist of `clinic`), consented for the
    world's gym: one more referral to the same trainer."""
    physio = world.physio if clinic is None else make_physio(clinic)
    patient = f.PatientFactory(clinic=clinic or world.plan.patient.clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=physio)
    return plan


def accepted(
    world: World, capture: Any, at: datetime.datetime = ACCEPTED, plan: TreatmentPlan | None = None
) -> TrainerHandoff:
    """The world's plan (or `plan`) sent to the world's trainer two hours before `at`, accepted at `at`."""
    plan = plan or world.plan
    with time_machine.travel(at - datetime.timedelta(hours=2), tick=False), capture(execute=True):
        sent = handoffs_sending.plan_discharge(
            plan=plan, trainer=world.trainer, gym=world.gym, actor=plan.physiotherapist
        )
    with time_machine.travel(at, tick=False), capture(execute=True):
        return handoffs_services.handoff_accept(handoff=sent, actor=world.trainer)


def _sweep(at: datetime.datetime, capture: Any) -> list[str]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return [a.step for a in timers_idle.idle_sweep()]


def log_session(
    handoff: TrainerHandoff,
    world: World,
    day: datetime.date,
    capture: Any,
    logged: datetime.date | None = None,
) -> None:
    """An attended session of `day`, logged at 18:00 UTC that day (or on `logged`: a backdated one)."""
    evening = datetime.datetime.combine(logged or day, datetime.time(18), tzinfo=UTC)
    with time_machine.travel(evening, tick=False), capture(execute=True):
        progress_services.session_log(
            handoff=handoff, actor=world.trainer, session_date=day, attendance="attended", exercises=[]
        )


def _nudges(handoff: TrainerHandoff) -> list[str | None]:
    return list(
        HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.NO_SESSION)
        .order_by("id")
        .values_list("timer_key", flat=True)
    )


def test_an_accepted_referral_without_a_session_nudges_both_sides_once_after_14_days(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    assert _sweep(ACCEPTED + datetime.timedelta(days=13, hours=22), capture) == []  # 16 Mar, 08:00 UTC
    assert _sweep(ACCEPTED + datetime.timedelta(days=13, hours=23), capture) == ["idle-accepted"]  # 09:00
    event = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.NO_SESSION)
    assert event.actor is None and "14 days" in event.text
    told = set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    assert told == {world.trainer.pk, world.physio.pk}
    assert _sweep(ACCEPTED + datetime.timedelta(days=20), capture) == []  # once per spell
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACCEPTED  # a nudge moves nothing


def test_in_progress_the_spell_counts_from_the_last_session_and_a_new_session_starts_a_new_one(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    first = (ACCEPTED + datetime.timedelta(days=2)).date()
    log_session(handoff, world, first, capture)  # the first attended session starts the referral
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS
    later = first + datetime.timedelta(days=10)
    log_session(handoff, world, later, capture)
    morning = datetime.time(9, tzinfo=UTC)
    assert _sweep(datetime.datetime.combine(later + datetime.timedelta(days=20), morning), capture) == []
    assert _sweep(datetime.datetime.combine(later + datetime.timedelta(days=21), morning), capture) == [
        "idle-in-progress"
    ]
    assert _nudges(handoff) == [f"idle-in-progress:{handoff.pk}:{later.isoformat()}"]
    again = later + datetime.timedelta(days=25)
    log_session(handoff, world, again, capture)  # care resumed: a new spell
    assert _sweep(datetime.datetime.combine(again + datetime.timedelta(days=21), morning), capture) == [
        "idle-in-progress"
    ]
    assert len(_nudges(handoff)) == 2


def test_a_closed_referral_is_never_nudged(world: World, django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    with time_machine.travel(ACCEPTED + datetime.timedelta(days=1), tick=False), capture(execute=True):
        handoffs_services.handoff_cancel(handoff=handoff, actor=world.physio, reason="Moved away.")
    assert _sweep(ACCEPTED + datetime.timedelta(days=60), capture) == []


def test_a_clinics_own_idle_days_replace_the_defaults_in_the_sweep_and_in_the_nudge(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    ClinicTimers.objects.create(clinic=world.plan.patient.clinic, accept_idle_days=3, session_idle_days=5)
    handoff = accepted(world, capture)  # Monday 2 March
    assert _sweep(ACCEPTED + datetime.timedelta(days=2, hours=22), capture) == []  # 5 Mar, 08:00
    assert _sweep(ACCEPTED + datetime.timedelta(days=2, hours=23), capture) == ["idle-accepted"]  # 09:00
    event = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.NO_SESSION)
    assert "3 days without one" in event.text
    day = datetime.date(2026, 3, 6)
    log_session(handoff, world, day, capture)  # in progress: five days from this session
    morning = datetime.time(9, tzinfo=UTC)
    assert _sweep(datetime.datetime.combine(day + datetime.timedelta(days=4), morning), capture) == []
    assert _sweep(datetime.datetime.combine(day + datetime.timedelta(days=5), morning), capture) == [
        "idle-in-progress"
    ]
    texts = HandoffEvent.objects.filter(kind=HandoffEvent.Kind.NO_SESSION).order_by("id").values_list("text")
    assert ["5 days without one" in text for (text,) in texts] == [False, True]


def test_another_clinics_shorter_idle_days_do_not_hasten_this_clinics_nudge(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """The sweep reads this referral early (the shortest days anywhere bound what it reads), and still
    nudges it on its own clinic's day."""
    capture = django_capture_on_commit_callbacks
    ClinicTimers.objects.create(clinic=f.ClinicFactory(), accept_idle_days=1)
    handoff = accepted(world, capture)
    at = ACCEPTED + datetime.timedelta(days=5)
    bound = schedule.care_since_bound(
        at, schedule.shortest_nudge_days(timers_idle.idle_timers_rows().values())
    )
    assert list(timers_idle.idle_candidates(bound).values_list("pk", flat=True)) == [handoff.pk]
    assert _sweep(at, capture) == []
    assert _sweep(ACCEPTED + datetime.timedelta(days=13, hours=23), capture) == ["idle-accepted"]
    assert "14 days without one" in HandoffEvent.objects.get(kind=HandoffEvent.Kind.NO_SESSION).text


@pytest.mark.parametrize("quiet", [3, 30])
def test_the_sweep_reads_only_the_referrals_that_can_be_due_in_three_queries_however_many_are_not(
    world: World, django_capture_on_commit_callbacks: Any, quiet: int
) -> None:
    capture = django_capture_on_commit_callbacks
    world.trainer.trainer_profile.max_active_clients = 100
    world.trainer.trainer_profile.save()
    stalled = accepted(world, capture)  # due on 16 March, 09:00
    recent = ACCEPTED + datetime.timedelta(days=8)  # due on the 24th
    for _ in range(quiet):
        accepted(world, capture, at=recent, plan=new_plan(world))
    at = ACCEPTED + datetime.timedelta(days=13, hours=23)
    bound = schedule.care_since_bound(at, schedule.shortest_nudge_days([]))
    assert list(timers_idle.idle_candidates(bound).values_list("pk", flat=True)) == [stalled.pk]
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as read:
        due = timers_idle._due(at)
    # the clinics' own idle days, the referrals that can be due with their zones, the keys already written
    assert len(read) == 3, [q["sql"] for q in read.captured_queries]
    assert [(s.handoff_id, s.days) for s in due] == [(stalled.pk, 14)]
    assert _sweep(at, capture) == ["idle-accepted"]
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as read:
        assert timers_idle._due(at) == []  # the one due was nudged: marked, it is not read again
    assert len(read) == 2
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as read:
        assert timers_idle._due(at - datetime.timedelta(days=2)) == []  # none can be due: no keys read
    assert len(read) == 2


def test_a_session_logged_after_the_sweep_read_the_referral_stops_its_nudge(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A session logged between the sweep's read and its lock moves the last sign of care on, the status
    unchanged: the nudge of the spell that ended is not written."""
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    with time_machine.travel(ACCEPTED + datetime.timedelta(days=1), tick=False), capture(execute=True):
        handoffs_services.handoff_start(handoff=handoff, actor=world.trainer)  # in progress from 3 March
    at = datetime.datetime(2026, 3, 24, 9, 30, tzinfo=UTC)  # 21 days later
    with time_machine.travel(at, tick=False):
        stale = timers_idle._due(at)
    assert [(s.handoff_id, s.anchor) for s in stale] == [(handoff.pk, datetime.date(2026, 3, 3))]
    log_session(handoff, world, at.date(), capture)
    handoff.refresh_from_db()
    assert (handoff.status, handoff.care_since) == (HandoffStatus.IN_PROGRESS, at.date())
    with time_machine.travel(at + datetime.timedelta(hours=9), tick=False), capture(execute=True):
        assert timers_idle._nudge(stale[0], now=at) is False
    assert _nudges(handoff) == []
    assert _sweep(at + datetime.timedelta(hours=10), capture) == []  # a new spell, from the session


def test_a_nudged_referral_leaves_the_sweeps_index_until_a_session_starts_a_new_spell(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    due = ACCEPTED + datetime.timedelta(days=15)
    assert _sweep(due, capture) == ["idle-accepted"]
    handoff.refresh_from_db()
    assert handoff.care_nudged
    bound = schedule.care_since_bound(due, 14)
    assert list(timers_idle.idle_candidates(bound)) == []  # done: not read again
    # nudged before the marker was kept: the next sweep finds the key, marks it, and reads it no more
    TrainerHandoff.objects.filter(pk=handoff.pk).update(care_nudged=False)
    assert _sweep(due, capture) == []
    assert list(timers_idle.idle_candidates(bound)) == []
    log_session(handoff, world, due.date(), capture)
    fresh = TrainerHandoff.objects.get(pk=handoff.pk)
    assert not fresh.care_nudged and fresh.care_since == due.date()
