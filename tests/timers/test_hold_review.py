"""A hold and its review (issue 16): holding asks for a review date (default 14 days, or the clinic's own);
on that day the trainer is asked to resume or close the referral, seven days later the clinic is told,
each once; the trainer may set a new date. The page, the API and the service share one rule of what date
is allowed, and a bad one changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from referrals.errors import InvalidTransition, NotPermitted
from referrals.handoffs import refer_back as handoffs_refer_back
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from referrals.timers import hold as timers_hold
from referrals.timers.models import ClinicTimers
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import World, login
from tests.timers.test_idle_timers import ACCEPTED, accepted, log_session, new_plan

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
HELD = datetime.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # Thursday 5 March 2026, 15:00 UTC
HELD_DAY = HELD.date()


def in_progress(world: World, capture: Any, plan: Any = None) -> TrainerHandoff:
    handoff = accepted(world, capture, plan=plan)
    log_session(handoff, world, (ACCEPTED + datetime.timedelta(days=1)).date(), capture)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS
    return handoff


def hold(
    handoff: TrainerHandoff, world: World, capture: Any, review_on: datetime.date | None = None
) -> TrainerHandoff:
    with time_machine.travel(HELD, tick=False), capture(execute=True):
        return handoffs_services.handoff_hold(
            handoff=handoff, actor=world.trainer, reason="Travelling for work.", review_on=review_on
        )


def sweep(at: datetime.datetime, capture: Any) -> list[str]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return [a.step for a in timers_hold.hold_sweep()]


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=UTC)  # the world's clinic is in UTC


def events(handoff: TrainerHandoff, *kinds: str) -> list[HandoffEvent]:
    return list(HandoffEvent.objects.filter(handoff=handoff, kind__in=kinds).order_by("id"))


def told(event: HandoffEvent) -> set[int]:
    return set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))


def test_a_hold_without_a_date_is_reviewed_14_days_later_and_any_other_move_clears_it(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = hold(in_progress(world, capture), world, capture)
    assert handoff.hold_review_on == HELD_DAY + datetime.timedelta(days=14)
    with time_machine.travel(HELD + datetime.timedelta(days=1), tick=False), capture(execute=True):
        handoffs_services.handoff_resume(handoff=handoff, actor=world.trainer)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS and handoff.hold_review_on is None


def test_the_clinics_own_hold_review_days_are_the_default(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    ClinicTimers.objects.create(clinic=world.plan.patient.clinic, hold_review_days=30)
    handoff = hold(
        in_progress(world, django_capture_on_commit_callbacks), world, django_capture_on_commit_callbacks
    )
    assert handoff.hold_review_on == HELD_DAY + datetime.timedelta(days=30)


@pytest.mark.parametrize(
    ("review_on", "message"),
    [
        (HELD_DAY, "after today"),
        (HELD_DAY - datetime.timedelta(days=3), "after today"),
        (HELD_DAY + datetime.timedelta(days=181), "within 180 days"),
        ("2026-04-01", "Enter a date"),
    ],
)
def test_a_bad_review_date_is_refused_on_its_field_and_nothing_changes(
    world: World, django_capture_on_commit_callbacks: Any, review_on: Any, message: str
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = in_progress(world, capture)
    before = HandoffEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        hold(handoff, world, capture, review_on=review_on)
    assert message in " ".join(error.value.message_dict["review_on"])
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS and handoff.hold_review_on is None
    assert HandoffEvent.objects.count() == before


def test_the_review_day_asks_the_trainer_then_a_week_later_tells_the_clinic_each_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=10)
    handoff = hold(in_progress(world, capture), world, capture, review_on=review_on)
    assert sweep(at_nine(review_on) - datetime.timedelta(minutes=1), capture) == []
    assert sweep(at_nine(review_on), capture) == [timers_hold.REVIEW]
    assert sweep(at_nine(review_on) + datetime.timedelta(hours=3), capture) == []  # once
    (asked,) = events(handoff, HandoffEvent.Kind.HOLD_REVIEW)
    assert asked.actor is None and "resume the sessions" in asked.text
    assert told(asked) == {world.trainer.pk}
    overdue_at = at_nine(review_on + datetime.timedelta(days=7))
    assert sweep(overdue_at - datetime.timedelta(days=1), capture) == []
    assert sweep(overdue_at, capture) == [timers_hold.OVERDUE]
    assert sweep(overdue_at + datetime.timedelta(days=3), capture) == []
    (late,) = events(handoff, HandoffEvent.Kind.HOLD_OVERDUE)
    assert told(late) == {world.physio.pk}
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ON_HOLD  # the timers move nothing


def test_beat_down_for_two_weeks_acts_on_both_missed_steps_once_in_the_order_they_fell_due(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=3)
    hold(in_progress(world, capture), world, capture, review_on=review_on)
    back = at_nine(review_on + datetime.timedelta(days=14))
    with time_machine.travel(back, tick=False), capture(execute=True):
        acted = timers_hold.hold_sweep()
    assert [a.step for a in acted] == [timers_hold.REVIEW, timers_hold.OVERDUE]
    assert acted[0].due < acted[1].due
    assert sweep(back, capture) == []


def test_a_new_review_date_restarts_the_review_and_the_old_dates_steps_never_come(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=5)
    handoff = hold(in_progress(world, capture), world, capture, review_on=review_on)
    assert sweep(at_nine(review_on), capture) == [timers_hold.REVIEW]
    new_day = review_on + datetime.timedelta(days=20)
    login(client, world.trainer)
    with (
        time_machine.travel(at_nine(review_on) + datetime.timedelta(hours=2), tick=False),
        capture(execute=True),
    ):
        page = client.get(reverse("handoff_detail", args=[handoff.public_id])).content.decode()
        assert "Review due since" in page and 'data-testid="hold-review-form"' in page
        response = client.post(
            reverse("handoff_hold_review", args=[handoff.public_id]),
            {"hold_review-review_on": new_day.isoformat()},
        )
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.hold_review_on == new_day and handoff.status == HandoffStatus.ON_HOLD
    (set_event,) = events(handoff, HandoffEvent.Kind.HOLD_REVIEW_SET)
    assert set_event.actor == world.trainer and told(set_event) == {world.physio.pk}
    # the old date's clinic step (review + 7) does not come; the new date is asked in its turn
    assert sweep(at_nine(review_on + datetime.timedelta(days=7)), capture) == []
    assert sweep(at_nine(new_day), capture) == [timers_hold.REVIEW]
    assert len(events(handoff, HandoffEvent.Kind.HOLD_REVIEW)) == 2


def test_held_again_after_its_review_the_new_hold_is_reviewed_in_its_turn(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=4)
    handoff = hold(in_progress(world, capture), world, capture, review_on=review_on)
    assert sweep(at_nine(review_on), capture) == [timers_hold.REVIEW]
    with (
        time_machine.travel(at_nine(review_on) + datetime.timedelta(hours=1), tick=False),
        capture(execute=True),
    ):
        handoffs_services.handoff_resume(handoff=handoff, actor=world.trainer)
        handoffs_services.handoff_hold(
            handoff=handoff,
            actor=world.trainer,
            reason="Injured on holiday.",
            review_on=review_on + datetime.timedelta(days=2),
        )
    assert sweep(at_nine(review_on + datetime.timedelta(days=2)), capture) == [timers_hold.REVIEW]


def test_a_client_referred_back_has_no_review_and_no_date_can_be_set(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = in_progress(world, capture)
    with time_machine.travel(HELD, tick=False), capture(execute=True):
        handoffs_refer_back.handoff_refer_back(
            handoff=handoff, actor=world.trainer, note="Swelling.", end=False
        )
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ON_HOLD and handoff.hold_review_on is None
    assert sweep(at_nine(HELD_DAY + datetime.timedelta(days=60)), capture) == []
    with pytest.raises(InvalidTransition):
        handoffs_services.handoff_hold_review_set(
            handoff=handoff, actor=world.trainer, review_on=HELD_DAY + datetime.timedelta(days=5)
        )


def test_only_the_trainer_sets_a_review_date(world: World, django_capture_on_commit_callbacks: Any) -> None:
    handoff = hold(
        in_progress(world, django_capture_on_commit_callbacks), world, django_capture_on_commit_callbacks
    )
    before = handoff.hold_review_on
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_hold_review_set(
            handoff=handoff, actor=world.physio, review_on=HELD_DAY + datetime.timedelta(days=5)
        )
    handoff.refresh_from_db()
    assert handoff.hold_review_on == before


def test_the_sweep_reads_in_three_queries_whatever_the_number_of_holds_not_yet_due(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=5)
    hold(in_progress(world, capture), world, capture, review_on=review_on)
    counts = []
    for extra in (2, 7):  # the trainer takes at most 10 clients
        while TrainerHandoff.objects.filter(status=HandoffStatus.ON_HOLD).count() < extra + 1:
            other = in_progress(world, capture, plan=new_plan(world))
            hold(other, world, capture, review_on=review_on + datetime.timedelta(days=60))
        before = at_nine(review_on) - datetime.timedelta(hours=1)
        with time_machine.travel(before, tick=False), CaptureQueriesContext(connection) as queries:
            assert timers_hold.hold_sweep() == []
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


def test_a_review_day_across_a_daylight_saving_change_falls_at_nine_local(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    clinic = world.plan.patient.clinic
    clinic.time_zone = "Europe/Berlin"
    clinic.save(update_fields=["time_zone"])
    review_on = datetime.date(2026, 3, 29)  # clocks go forward at 02:00: 09:00 CEST is 07:00 UTC
    hold(in_progress(world, capture), world, capture, review_on=review_on)
    nine_cest = datetime.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert sweep(nine_cest - datetime.timedelta(minutes=1), capture) == []
    assert sweep(nine_cest, capture) == [timers_hold.REVIEW]
    assert sweep(nine_cest + datetime.timedelta(hours=1), capture) == []  # the hour the clocks skipped


# --- the page and the API -------------------------------------------------------------------------------


def test_the_page_holds_with_a_review_date_and_shows_a_bad_one_as_a_form_error(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = in_progress(world, capture)
    login(client, world.trainer)
    url = reverse("handoff_action", args=[handoff.public_id, "hold"])
    with time_machine.travel(HELD, tick=False), capture(execute=True):
        page = client.get(reverse("handoff_detail", args=[handoff.public_id])).content.decode()
        assert "Empty: in 14 days" in page
        bad = client.post(url, {"hold-text": "Away.", "hold-review_on": HELD_DAY.isoformat()})
        assert bad.status_code == 400
        assert "after today" in str(
            bad.context["actions"][[a[0] for a in bad.context["actions"]].index("hold")][2].errors[
                "review_on"
            ]
        )
        handoff.refresh_from_db()
        assert handoff.status == HandoffStatus.IN_PROGRESS
        good = client.post(
            url, {"hold-text": "Away.", "hold-review_on": (HELD_DAY + datetime.timedelta(days=9)).isoformat()}
        )
    assert good.status_code == 302
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ON_HOLD
    assert handoff.hold_review_on == HELD_DAY + datetime.timedelta(days=9)


def test_the_homes_show_the_review_date_to_the_trainer_and_a_hold_past_it_to_the_pt(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=5)
    hold(in_progress(world, capture), world, capture, review_on=review_on)
    with time_machine.travel(HELD + datetime.timedelta(days=1), tick=False):
        login(client, world.trainer)
        assert "review on 10 Mar 2026" in client.get("/").content.decode()
    with time_machine.travel(at_nine(review_on), tick=False):
        login(client, world.trainer)
        assert "review due: resume or close (10 Mar 2026)" in client.get("/").content.decode()
        login(client, world.physio)
        assert client.get("/").context["hold_due"] == []  # the trainer has the day itself
    with time_machine.travel(at_nine(review_on + datetime.timedelta(days=1)), tick=False):
        login(client, world.physio)
        response = client.get("/")
        page = response.content.decode()
    assert len(response.context["hold_due"]) == 1
    assert "On hold past its review date" in page and "past its review date (10 Mar 2026)" in page


def test_the_api_holds_with_a_review_date_and_the_trainer_sets_a_new_one(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    handoff = in_progress(world, capture)
    api = token_client(world.trainer)
    hold_url = f"{API}/handoffs/{handoff.public_id}/hold/"
    with time_machine.travel(HELD, tick=False), capture(execute=True):
        body = assert_error(
            api.post(hold_url, {"reason": "Away.", "review_on": "2026-03-01"}, format="json"), 400, "invalid"
        )
        assert "review_on" in body["fields"]
        assert_error(api.post(hold_url, {"reason": "Away.", "review_on": "soon"}, format="json"), 400)
        handoff.refresh_from_db()
        assert handoff.status == HandoffStatus.IN_PROGRESS
        held = api.post(hold_url, {"reason": "Away.", "review_on": "2026-03-20"}, format="json")
        assert held.status_code == 200, held.content
        assert held.json()["hold_review_on"] == "2026-03-20"
        review_url = f"{API}/handoffs/{handoff.public_id}/hold-review/"
        assert_error(
            token_client(world.physio).post(review_url, {"review_on": "2026-04-01"}, format="json"),
            403,
            "not_permitted",
        )
        assert_error(api.post(review_url, {"review_on": "2027-03-01"}, format="json"), 400, "invalid")
        assert_error(api.post(review_url, {}, format="json"), 400, "invalid")
        moved = api.post(review_url, {"review_on": "2026-04-01"}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["hold_review_on"] == "2026-04-01"
    handoff.refresh_from_db()
    assert handoff.hold_review_on == datetime.date(2026, 4, 1)


def test_a_hold_whose_steps_are_done_leaves_the_sweeps_index_and_a_new_date_brings_it_back(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=3)
    handoff = hold(in_progress(world, capture), world, capture, review_on=review_on)
    later = at_nine(review_on + datetime.timedelta(days=8))
    assert sweep(later, capture) == [timers_hold.REVIEW, timers_hold.OVERDUE]
    handoff.refresh_from_db()
    assert handoff.hold_steps_done == 2
    with time_machine.travel(later, tick=False):
        assert timers_hold._due(later) == []
        # a row done before the marker was kept: the sweep finds its keys, marks it, and reads it no more
        TrainerHandoff.objects.filter(pk=handoff.pk).update(hold_steps_done=0)
        assert timers_hold._due(later) == []
    handoff.refresh_from_db()
    assert handoff.hold_steps_done == 2
    with time_machine.travel(later, tick=False), capture(execute=True):
        handoffs_services.handoff_hold_review_set(
            handoff=handoff, actor=world.trainer, review_on=later.date() + datetime.timedelta(days=2)
        )
    handoff.refresh_from_db()
    assert handoff.hold_steps_done == 0
    assert sweep(at_nine(later.date() + datetime.timedelta(days=2)), capture) == [timers_hold.REVIEW]
    handoff.refresh_from_db()
    assert handoff.hold_steps_done == 1


def test_the_pt_home_reads_a_hold_past_its_review_date_on_the_clinics_calendar_not_the_servers(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    review_on = HELD_DAY + datetime.timedelta(days=5)  # 10 Mar 2026
    handoff = hold(in_progress(world, capture), world, capture, review_on=review_on)
    handoff.clinic.time_zone = "Pacific/Kiritimati"  # UTC+14: already 11 Mar there at 12:00 UTC on 10 Mar
    handoff.clinic.save(update_fields=["time_zone"])
    with time_machine.travel(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False):
        login(client, world.physio)
        assert [h for h, _ in client.get("/").context["hold_due"]] == [handoff]
    handoff.clinic.time_zone = "Pacific/Pago_Pago"  # UTC-11: still 10 Mar there at 06:00 UTC on 11 Mar
    handoff.clinic.save(update_fields=["time_zone"])
    with time_machine.travel(datetime.datetime(2026, 3, 11, 6, 0, tzinfo=UTC), tick=False):
        login(client, world.physio)
        response = client.get("/")
        assert response.context["hold_due"] == []
        page = response.content.decode()
    assert "past its review date" not in page and "10 Mar 2026" in page  # listed open, not yet overdue
