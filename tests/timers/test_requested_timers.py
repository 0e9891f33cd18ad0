"""The timers of an unanswered referral (issue 16): the clock moved with time-machine through each step,
asserting its event, who is told and that nothing else changed; idempotence; catching up; the clinic's own
settings; night in the recipient's zone; a daylight-saving change."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from referrals.care.models import TreatmentPlan
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.timers import schedule
from referrals.timers import services as timers_services
from referrals.timers.models import ClinicTimers
from tests.conftest import World, login, login_with_second_factor

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
SENT = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC: every step falls by day
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def _send(world: World, capture: Any, at: datetime.datetime = SENT) -> TrainerHandoff:
    with time_machine.travel(at, tick=False), capture(execute=True):
        draft = handoffs_sending.handoff_create(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        return handoffs_sending.handoff_send(handoff=draft, actor=world.physio)


def _sweep(at: datetime.datetime, capture: Any) -> list[timers_services.Acted]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return timers_services.requested_sweep()


def _timer_events(handoff: TrainerHandoff) -> list[tuple[str, str]]:
    return list(
        HandoffEvent.objects.filter(handoff=handoff, actor__isnull=True)
        .order_by("created_at", "id")
        .values_list("kind", "to_status")
    )


def _told(handoff: TrainerHandoff, kind: str) -> set[int]:
    return set(
        Notification.objects.filter(handoff=handoff, event__kind=kind).values_list("recipient_id", flat=True)
    )


def _state(handoff: TrainerHandoff) -> tuple[Any, ...]:
    handoff.refresh_from_db()
    return (handoff.status, handoff.status_reason, handoff.business_status, handoff.updated_at)


def test_an_unanswered_referral_is_reminded_then_escalated_then_cancelled_each_once(
    world: World, other_trainer: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = _send(world, capture)
    before = _state(handoff)
    notices = Notification.objects.count()

    assert _sweep(SENT + datetime.timedelta(hours=47, minutes=59), capture) == []
    assert _state(handoff) == before and Notification.objects.count() == notices  # nothing yet

    acted = _sweep(SENT + datetime.timedelta(hours=48), capture)
    assert [(a.step, a.handoff_id) for a in acted] == [(schedule.REMIND, handoff.pk)]
    assert _timer_events(handoff) == [(HandoffEvent.Kind.REMINDER, "")]
    assert _told(handoff, HandoffEvent.Kind.REMINDER) == {world.trainer.pk}  # the trainer only
    assert OutboxMessage.objects.filter(event__kind=HandoffEvent.Kind.REMINDER).count() == 1
    assert _state(handoff) == before  # a reminder moves nothing
    assert _sweep(SENT + datetime.timedelta(days=4), capture) == []  # nothing twice

    acted = _sweep(SENT + datetime.timedelta(days=5), capture)
    assert [a.step for a in acted] == [schedule.ESCALATE]
    escalation = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.NO_ANSWER)
    assert escalation.actor is None and escalation.urgent is False
    assert _told(handoff, HandoffEvent.Kind.NO_ANSWER) == {world.physio.pk}  # the clinic only
    # the other trainer of the gym (consented, eligible) is suggested; the one who did not answer is not
    assert other_trainer.full_name in escalation.text and world.trainer.full_name not in escalation.text
    assert _state(handoff) == before

    acted = _sweep(SENT + datetime.timedelta(days=7), capture)
    assert [a.step for a in acted] == [schedule.EXPIRE]
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.CANCELLED
    assert handoff.status_reason == timers_services.NO_RESPONSE_REASON
    assert handoff.business_status == "no-response"
    assert handoff.plan.status == TreatmentPlan.Status.AWAITING_TRAINER  # the PT can offer it again
    cancelled = HandoffEvent.objects.get(handoff=handoff, to_status=HandoffStatus.CANCELLED)
    assert cancelled.actor is None
    assert world.physio.pk in set(
        Notification.objects.filter(event=cancelled).values_list("recipient_id", flat=True)
    )
    assert _timer_events(handoff) == [
        (HandoffEvent.Kind.REMINDER, ""),
        (HandoffEvent.Kind.NO_ANSWER, ""),
        (HandoffEvent.Kind.TRANSITION, HandoffStatus.CANCELLED),
    ]
    assert _sweep(SENT + datetime.timedelta(days=9), capture) == []  # a cancelled one is left alone


def test_a_sweep_after_days_of_downtime_acts_on_each_missed_deadline_once_in_order(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = _send(world, capture)
    acted = _sweep(SENT + datetime.timedelta(days=8), capture)  # beat down the whole time
    assert [a.step for a in acted] == [schedule.REMIND, schedule.ESCALATE, schedule.EXPIRE]
    assert [a.due for a in acted] == sorted(a.due for a in acted)
    assert _sweep(SENT + datetime.timedelta(days=8), capture) == []  # a second beat, the same minute
    assert HandoffEvent.objects.filter(handoff=handoff, timer_key__isnull=False).count() == 3
    assert Notification.objects.filter(handoff=handoff, event__kind=HandoffEvent.Kind.REMINDER).count() == 1


def test_a_step_already_done_is_not_done_again_even_if_the_sweep_read_it_as_due(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Two beats at once: each read the referral as due; the one that locks it second finds the key."""
    capture = django_capture_on_commit_callbacks
    handoff = _send(world, capture)
    at = SENT + datetime.timedelta(hours=49)
    with time_machine.travel(at, tick=False):
        stale = timers_services._due_steps(at)  # what the second beat read before the first one acted
    assert _sweep(at, capture) != []
    with time_machine.travel(at, tick=False):
        assert [timers_services._act(pk=pk, step=step, key=key, now=at) for _, _, pk, step, key in stale] == [
            False
        ]
    assert HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.REMINDER).count() == 1


def test_an_answered_referral_is_never_reminded_nor_cancelled(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = _send(world, capture)
    with time_machine.travel(SENT + datetime.timedelta(hours=30), tick=False), capture(execute=True):
        handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
    assert _sweep(SENT + datetime.timedelta(days=10), capture) == []
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACCEPTED and _timer_events(handoff) == []


def test_a_clinics_own_timers_replace_the_defaults(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    clinic = world.plan.patient.clinic
    ClinicTimers.objects.create(clinic=clinic, remind_after_hours=2, expire_after_days=3)
    handoff = _send(world, capture)
    assert [a.step for a in _sweep(SENT + datetime.timedelta(hours=2), capture)] == [schedule.REMIND]
    # escalation stays the default 5 days, after the clinic's 3-day expiry: left out, it would say less
    assert [a.step for a in _sweep(SENT + datetime.timedelta(days=3), capture)] == [schedule.EXPIRE]
    assert not HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.NO_ANSWER).exists()


def test_a_reminder_due_at_night_in_the_trainers_zone_is_emailed_at_eight_there(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    Organization.objects.filter(pk=world.gym.pk).update(time_zone="Europe/Berlin")
    sent = datetime.datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin (winter, UTC+1)
    handoff = _send(world, capture, at=sent)
    _sweep(sent + datetime.timedelta(hours=48), capture)  # Wednesday 22:30 in Berlin
    message = OutboxMessage.objects.get(event__kind=HandoffEvent.Kind.REMINDER, handoff=handoff)
    assert message.next_attempt_at == datetime.datetime(2026, 3, 5, 8, 0, tzinfo=BERLIN)
    assert message.status == OutboxMessage.Status.PENDING  # not sent at night
    assert Notification.objects.filter(event__kind=HandoffEvent.Kind.REMINDER, handoff=handoff).exists()


@pytest.mark.parametrize(
    ("local", "emailed"),
    [
        ("2026-06-10 20:59", None),
        ("2026-06-10 21:00", "2026-06-11 08:00"),
        ("2026-06-11 03:00", "2026-06-11 08:00"),
        ("2026-06-11 06:59", "2026-06-11 08:00"),
        ("2026-06-11 07:00", None),
        ("2026-10-24 23:30", "2026-10-25 08:00"),  # the night the clocks go back: 8:00 once, UTC+1 by then
        ("2026-03-28 22:00", "2026-03-29 08:00"),  # the night they go forward: 8:00 at UTC+2
    ],
)
def test_night_is_nine_to_seven_in_the_recipients_zone(local: str, emailed: str | None) -> None:
    moment = datetime.datetime.fromisoformat(local).replace(tzinfo=BERLIN)
    expected = None if emailed is None else datetime.datetime.fromisoformat(emailed).replace(tzinfo=BERLIN)
    assert schedule.quiet_until(moment, BERLIN) == expected


def test_deadlines_count_in_the_clinics_calendar_across_a_daylight_saving_change(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    Organization.objects.filter(pk=world.plan.patient.clinic_id).update(time_zone="Europe/Berlin")
    Organization.objects.filter(pk=world.gym.pk).update(time_zone="Europe/Berlin")
    sent = datetime.datetime(2026, 10, 22, 10, 0, tzinfo=BERLIN)  # the clocks go back on the 25th
    due = dict(schedule.requested_deadlines(sent, schedule.default_timers(), BERLIN))
    assert due[schedule.REMIND] - sent == datetime.timedelta(hours=48)  # hours are hours
    assert due[schedule.ESCALATE] == datetime.datetime(2026, 10, 27, 10, 0, tzinfo=BERLIN)  # 10:00 again
    assert due[schedule.ESCALATE] - sent == datetime.timedelta(hours=121)
    handoff = _send(world, capture, at=sent)
    # a sweep every hour from the send to day 8, through the change: each step once
    steps = []
    for hour in range(0, 8 * 24 + 2):
        steps += [a.step for a in _sweep(sent + datetime.timedelta(hours=hour), capture)]
    assert steps == [schedule.REMIND, schedule.ESCALATE, schedule.EXPIRE]
    escalated = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.NO_ANSWER)
    assert escalated.created_at == datetime.datetime(2026, 10, 27, 10, 0, tzinfo=BERLIN)


def test_a_time_zone_must_be_one_the_machine_knows() -> None:
    gym = Organization(name="Somewhere Gym", kind=Organization.Kind.GYM, time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as raised:
        gym.full_clean()
    assert "time_zone" in raised.value.message_dict
    gym.time_zone = "America/New_York"
    gym.full_clean()
    assert gym.zone == zoneinfo.ZoneInfo("America/New_York")


def test_the_pt_home_and_the_trainer_inbox_show_when_an_unanswered_referral_is_cancelled(
    client: Any, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    Organization.objects.filter(pk=world.gym.pk).update(time_zone="America/New_York")
    _send(world, capture)  # Monday 2 March, 10:00 UTC: cancelled on the 9th at 10:00 UTC
    with time_machine.travel(SENT + datetime.timedelta(days=1), tick=False):
        login_with_second_factor(client, world.physio)
        page = client.get("/").content.decode()
        assert "cancelled automatically Mon 9 Mar, 10:00 unless answered" in page  # the clinic's zone: UTC
        assert "No answer:" not in page
        login(client, world.trainer)
        # the gym's zone: New York, on summer time since Sunday the 8th (UTC-4)
        assert "answer by Mon 9 Mar, 06:00" in client.get("/").content.decode()
    with time_machine.travel(SENT + datetime.timedelta(days=5, hours=1), tick=False):
        login_with_second_factor(client, world.physio)
        assert "No answer: cancelled automatically" in client.get("/").content.decode()  # past the escalation
