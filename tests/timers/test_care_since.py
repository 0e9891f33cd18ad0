"""What the care and hold timers read of a referral (issue 16): `care_since`, the last sign of care of an
accepted or in-progress referral in the clinic's calendar (the day it moved into its status, or its latest
session's day if later), and `hold_review_on`, kept by the lifecycle and the session log, and backfilled
the same way by migration 0015 for the referrals of before."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

import pytest
import time_machine
from django.apps import apps

from accounts.models import Organization
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from tests.conftest import World
from tests.progress.factories_reports import submit_final_report
from tests.timers.test_idle_timers import accepted, log_session, new_plan

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
D = datetime.date


def _at(day: D, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC)


def _fields(handoff: TrainerHandoff) -> tuple[D | None, D | None]:
    handoff.refresh_from_db()
    return handoff.care_since, handoff.hold_review_on


def _in_berlin(world: World) -> None:
    Organization.objects.filter(pk=world.plan.patient.clinic_id).update(time_zone="Europe/Berlin")


def test_care_since_follows_each_move_in_the_clinics_calendar_and_only_a_later_session_moves_it_on(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    _in_berlin(world)
    late = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 March in Berlin
    handoff = accepted(world, capture, at=late)
    assert _fields(handoff) == (D(2026, 3, 3), None)  # accepted: the clinic's day, not UTC's

    with time_machine.travel(_at(D(2026, 3, 5)), tick=False), capture(execute=True):
        handoffs_services.handoff_start(handoff=handoff, actor=world.trainer)
    assert _fields(handoff) == (D(2026, 3, 5), None)  # started

    log_session(handoff, world, D(2026, 3, 8), capture)
    assert _fields(handoff) == (D(2026, 3, 8), None)  # a later session moves it on
    log_session(handoff, world, D(2026, 3, 6), capture, logged=D(2026, 3, 9))
    assert _fields(handoff) == (D(2026, 3, 8), None)  # a backdated one does not

    with time_machine.travel(_at(D(2026, 3, 10)), tick=False), capture(execute=True):
        handoffs_services.handoff_hold(handoff=handoff, actor=world.trainer, reason="Travelling.")
    assert _fields(handoff) == (None, D(2026, 3, 24))  # on hold: reviewed 14 days later

    with time_machine.travel(_at(D(2026, 3, 12)), tick=False), capture(execute=True):
        handoffs_services.handoff_resume(handoff=handoff, actor=world.trainer)
    assert _fields(handoff) == (D(2026, 3, 12), None)  # resumed: from the day of the resume

    with time_machine.travel(_at(D(2026, 3, 14)), tick=False), capture(execute=True):
        submit_final_report(handoff)
        handoffs_services.handoff_complete(handoff=handoff, actor=world.trainer)
    assert _fields(handoff) == (None, None)  # completed


def test_a_cancelled_referral_has_no_last_sign_of_care(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = accepted(world, capture)
    assert handoff.care_since is not None
    with time_machine.travel(_at(D(2026, 3, 4)), tick=False), capture(execute=True):
        handoffs_services.handoff_cancel(handoff=handoff, actor=world.physio, reason="Moved away.")
    assert _fields(handoff) == (None, None)


def _backfill() -> None:
    module = importlib.import_module("referrals.migrations.0015_hold_review_and_care")
    module.fill_timer_fields(apps, None)


def test_the_migrations_backfill_sets_what_the_lifecycle_would_have(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    _in_berlin(world)
    trainer = world.trainer

    def move(handoff: TrainerHandoff, day: D, *steps: str) -> None:
        with time_machine.travel(_at(day), tick=False), capture(execute=True):
            for step in steps:
                if step == "start":
                    handoffs_services.handoff_start(handoff=handoff, actor=trainer)
                elif step == "hold":
                    handoffs_services.handoff_hold(handoff=handoff, actor=trainer, reason="Travelling.")
                else:
                    handoffs_services.handoff_resume(handoff=handoff, actor=trainer)

    late = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 3 March in Berlin
    only_accepted = accepted(world, capture, at=late)
    with_session = accepted(world, capture, plan=new_plan(world))
    move(with_session, D(2026, 3, 4), "start")
    log_session(with_session, world, D(2026, 3, 7), capture)
    resumed = accepted(world, capture, plan=new_plan(world))
    log_session(resumed, world, D(2026, 3, 5), capture)  # starts it
    move(resumed, D(2026, 3, 6), "hold")
    move(resumed, D(2026, 3, 9), "resume")  # later than its last session
    backdated = accepted(world, capture, plan=new_plan(world))
    move(backdated, D(2026, 3, 10), "start")
    log_session(backdated, world, D(2026, 3, 8), capture, logged=D(2026, 3, 11))
    on_hold = accepted(world, capture, plan=new_plan(world))
    move(on_hold, D(2026, 3, 6), "start", "hold")
    cancelled = accepted(world, capture, plan=new_plan(world))
    with time_machine.travel(_at(D(2026, 3, 4)), tick=False), capture(execute=True):
        handoffs_services.handoff_cancel(handoff=cancelled, actor=world.physio, reason="Moved away.")

    expected = {
        only_accepted.pk: (D(2026, 3, 3), None),
        with_session.pk: (D(2026, 3, 7), None),
        resumed.pk: (D(2026, 3, 9), None),
        backdated.pk: (D(2026, 3, 10), None),
        on_hold.pk: (None, D(2026, 3, 20)),  # put on hold on the 6th: reviewed 14 days later
        cancelled.pk: (None, None),
    }
    fields = ("pk", "care_since", "hold_review_on")

    def stored() -> dict[int, tuple[D | None, D | None]]:
        return {pk: (care, review) for pk, care, review in TrainerHandoff.objects.values_list(*fields)}

    assert stored() == expected  # what the lifecycle set
    TrainerHandoff.objects.update(care_since=None, hold_review_on=None)  # the referrals of before
    _backfill()
    assert stored() == expected
