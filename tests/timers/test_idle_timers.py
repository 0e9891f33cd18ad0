"""Care that stalls (issue 16): an accepted referral with no session for 14 days, one in progress with none
for 21, has its trainer and its clinic nudged once per quiet spell; a session logged starts a new one."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress import services as progress_services
from referrals.timers import idle as timers_idle
from tests.conftest import World

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
ACCEPTED = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _accepted(world: World, capture: Any) -> TrainerHandoff:
    with time_machine.travel(ACCEPTED - datetime.timedelta(hours=2), tick=False), capture(execute=True):
        sent = handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
    with time_machine.travel(ACCEPTED, tick=False), capture(execute=True):
        return handoffs_services.handoff_accept(handoff=sent, actor=world.trainer)


def _sweep(at: datetime.datetime, capture: Any) -> list[str]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return [a.step for a in timers_idle.idle_sweep()]


def _log(handoff: TrainerHandoff, world: World, day: datetime.date, capture: Any) -> None:
    evening = datetime.datetime.combine(day, datetime.time(18), tzinfo=UTC)
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
    handoff = _accepted(world, capture)
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
    handoff = _accepted(world, capture)
    first = (ACCEPTED + datetime.timedelta(days=2)).date()
    _log(handoff, world, first, capture)  # the first attended session starts the referral
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS
    later = first + datetime.timedelta(days=10)
    _log(handoff, world, later, capture)
    morning = datetime.time(9, tzinfo=UTC)
    assert _sweep(datetime.datetime.combine(later + datetime.timedelta(days=20), morning), capture) == []
    assert _sweep(datetime.datetime.combine(later + datetime.timedelta(days=21), morning), capture) == [
        "idle-in-progress"
    ]
    assert _nudges(handoff) == [f"idle-in-progress:{handoff.pk}:{later.isoformat()}"]
    again = later + datetime.timedelta(days=25)
    _log(handoff, world, again, capture)  # care resumed: a new spell
    assert _sweep(datetime.datetime.combine(again + datetime.timedelta(days=21), morning), capture) == [
        "idle-in-progress"
    ]
    assert len(_nudges(handoff)) == 2


def test_a_closed_referral_is_never_nudged(world: World, django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = _accepted(world, capture)
    with time_machine.travel(ACCEPTED + datetime.timedelta(days=1), tick=False), capture(execute=True):
        handoffs_services.handoff_cancel(handoff=handoff, actor=world.physio, reason="Moved away.")
    assert _sweep(ACCEPTED + datetime.timedelta(days=60), capture) == []
