"""The embedded default's periodic tasks (manage.py run_periodic): beat's schedule run in process."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from referrals.handoffs.models import HandoffEvent
from referrals.management.commands.run_periodic import schedule
from tests.conftest import World
from tests.timers.test_requested_timers import SENT, _send

pytestmark = pytest.mark.django_db


def test_every_beat_entry_is_run_and_the_timers_act(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert {task for _, task, _ in schedule()} == {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    handoff = _send(world, django_capture_on_commit_callbacks)
    out = StringIO()
    with time_machine.travel(SENT + datetime.timedelta(hours=49), tick=False):
        call_command("run_periodic", "--once", stdout=out)
    assert "sweep-timers: 1" in out.getvalue()  # the reminder
    assert HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.REMINDER).count() == 1
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"{name}:" in out.getvalue()  # each ran once
