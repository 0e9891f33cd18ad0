"""A precaution past its valid-until date (issue 16): the trainer is told once, the day after, and the
guidelines show it as ended, never deleted."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification
from referrals.timers import precautions as timers_precautions
from tests import factories as f
from tests.conftest import World, login

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
START = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
UNTIL = datetime.date(2026, 3, 20)


def _accepted_with_a_precaution_until(world: World, capture: Any) -> TrainerHandoff:
    f.PrecautionFactory(plan=world.plan, valid_until=UNTIL, detail="No jumping until the 20th.")
    with time_machine.travel(START, tick=False), capture(execute=True):
        sent = handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        return handoffs_services.handoff_accept(handoff=sent, actor=world.trainer)


def _sweep(day: datetime.date, capture: Any) -> list[str]:
    at = datetime.datetime.combine(day, datetime.time(10), tzinfo=UTC)
    with time_machine.travel(at, tick=False), capture(execute=True):
        return [a.step for a in timers_precautions.precautions_ended_sweep()]


def test_the_trainer_is_told_once_the_day_after_and_the_guidelines_show_it_ended(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = _accepted_with_a_precaution_until(world, capture)
    assert _sweep(UNTIL, capture) == []  # it still applies on its last day
    assert _sweep(UNTIL + datetime.timedelta(days=1), capture) == ["precaution-ended"]
    assert _sweep(UNTIL + datetime.timedelta(days=2), capture) == []  # once
    event = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.PRECAUTION_ENDED)
    assert event.actor is None and "2026-03-20" in event.text
    assert set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True)) == {
        world.trainer.pk
    }
    login(client, world.trainer)
    url = reverse("handoff_detail", args=[handoff.public_id])
    with time_machine.travel(datetime.datetime(2026, 3, 21, 9, tzinfo=UTC), tick=False):
        page = client.get(url).content.decode()
    assert "Ended (it applied until 2026-03-20):" in page and "No jumping until the 20th." in page
    with time_machine.travel(datetime.datetime(2026, 3, 19, 9, tzinfo=UTC), tick=False):
        assert "Ended (it applied until" not in client.get(url).content.decode()


def test_a_precaution_added_after_the_send_is_not_announced(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(START, tick=False), capture(execute=True):
        sent = handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        handoffs_services.handoff_accept(handoff=sent, actor=world.trainer)
    f.PrecautionFactory(plan=world.plan, valid_until=UNTIL)  # not in the guidelines the trainer has
    assert _sweep(UNTIL + datetime.timedelta(days=1), capture) == []
