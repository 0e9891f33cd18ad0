"""The benchmark's own parts: the data it builds obeys the schema, the baseline returns the very rows the
inbox API returns, the query counter counts, the recording mail backend records."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.db.models import F, Max
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organization, User
from accounts.services import api_token_create
from bench import data
from bench import report as bench_report
from bench.mail import RecordingBackend
from bench.middleware import HEADER, QueryCountMiddleware
from bench.views import inbox_baseline
from referrals.care import selectors as care_selectors
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.snapshot import guidelines_read
from tests.conftest import World
from tests.test_query_counts import _discharge


@pytest.fixture
def built(db: Any) -> data.Network:
    builder = data.Builder()
    net = builder.network()
    builder.focus()
    builder.discharge_pool(3)
    builder.history(net.handoffs + 40)
    builder.finish()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys are checked now, not at commit
    return net


@pytest.mark.postgresql  # the benchmark builds its PostgreSQL database with COPY and deferred constraints
def test_the_built_network_obeys_the_schema_and_the_selectors_see_the_focus_inbox(
    built: data.Network,
) -> None:
    trainer = User.objects.get(pk=built.focus_trainer)
    assert TrainerHandoff.objects.count() == built.handoffs
    # every handoff carries its plan's clinic, as handoff_create sets it
    assert not TrainerHandoff.objects.exclude(clinic_id=F("plan__patient__clinic_id")).exists()
    visible = handoffs_selectors.handoff_list_for_user(user=trainer)
    assert visible.count() == data.FOCUS_CASELOAD + data.FOCUS_HISTORY
    assert handoffs_selectors.inbox_list_for_user(user=trainer).count() == data.FOCUS_CASELOAD
    long = visible.get(public_id=built.focus_handoff)
    assert long.events.count() == 4 + 2 * data.FOCUS_HOLDS
    # a pool plan can really be discharged, through the service, to the trainer it names
    entry = built.discharge_pool[0]
    physio = User.objects.get(pk=built.focus_physio)
    handoff = handoffs_sending.plan_discharge(
        plan=care_selectors.plan_get_for_user(user=physio, public_id=entry["plan"]),
        trainer=User.objects.get(public_id=entry["trainer"]),
        gym=Organization.objects.get(public_id=entry["gym"]),
        actor=physio,
    )
    assert handoff.status == HandoffStatus.REQUESTED


@pytest.mark.postgresql  # as above: COPY
def test_the_built_sessions_are_what_the_pages_read_and_the_bench_session_posts_is_accepted(
    built: data.Network,
) -> None:
    from bench import report
    from referrals.progress import series as progress_series
    from referrals.progress.models import SessionExercise, SessionLog

    active = TrainerHandoff.objects.filter(status__in=data.SESSION_STATUSES)
    assert active.exists()
    # every referral in progress or on hold has its sessions, no other has any; none is in the future
    assert set(SessionLog.objects.values_list("handoff_id", flat=True)) == set(
        active.values_list("pk", flat=True)
    )
    assert not SessionLog.objects.filter(session_date__gt=timezone.localdate()).exists()
    progress = TrainerHandoff.objects.get(public_id=built.focus_progress_handoff)
    assert progress.sessions.count() == data.SESSIONS_PER_REFERRAL
    # each attended session names every prescribed exercise of its guidelines by its id there
    guidelines = guidelines_read(progress.snapshot, handoff_public_id=progress.public_id) or {}
    prescribed = {e["id"] for e in guidelines["exercises"]}
    assert len(prescribed) == data.SNAPSHOT_EXERCISES
    rows = SessionExercise.objects.filter(session__handoff=progress)
    assert {str(x) for x in rows.values_list("prescribed_id", flat=True)} == prescribed
    # what the PT's progress page draws: a pain point per attended session, the load of each exercise
    drawn = progress_series.series_for_handoff(handoff=progress)
    attended = progress.sessions.filter(attendance=SessionLog.Attendance.ATTENDED).count()
    assert drawn.sessions == data.SESSIONS_PER_REFERRAL and len(drawn.pain) == attended
    assert len(drawn.loads) == data.SNAPSHOT_EXERCISES
    # the session the bench POSTs again and again is a valid one, stored through the API
    target = TrainerHandoff.objects.get(public_id=built.focus_session_handoff)
    before = target.sessions.count()
    _, raw = api_token_create(user=User.objects.get(pk=built.focus_trainer), name="bench test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = report.session_body(built)
    for _ in range(2):
        response = client.post(f"/api/v1/handoffs/{target.public_id}/sessions/", body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["concern"] is None
    assert target.sessions.count() == before + 2


@pytest.mark.postgresql  # as above: COPY
def test_the_built_referrals_carry_the_timer_fields_the_lifecycle_would_have_set(
    built: data.Network,
) -> None:
    """care_since: accepted or in progress, the later of the clinic's day of its last move into its status
    and its last session's day; hold_review_on: on hold, 14 days after the day it was put on hold; neither
    in any other status. So the timers' sweep of the benchmark reads what the app would have."""
    from referrals.progress.models import SessionLog
    from referrals.timers import idle as timers_idle
    from referrals.timers import schedule

    moved: dict[tuple[int, str], datetime.datetime] = {}
    events = HandoffEvent.objects.filter(kind=HandoffEvent.Kind.TRANSITION).order_by("created_at", "id")
    for handoff_id, to_status, at in events.values_list("handoff_id", "to_status", "created_at"):
        moved[(handoff_id, to_status)] = at  # the last move into each status
    last_session = dict(
        SessionLog.objects.values("handoff_id")
        .annotate(last=Max("session_date"))
        .values_list("handoff_id", "last")
    )
    seen: set[str] = set()
    rows = TrainerHandoff.objects.values_list(
        "pk", "status", "care_since", "hold_review_on", "clinic__time_zone"
    )
    for pk, status, care_since, hold_review_on, time_zone in rows:
        day = moved[(pk, status)].astimezone(schedule.zone_named(time_zone)).date()
        if status in (HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS):
            last = last_session.get(pk)
            assert (care_since, hold_review_on) == (max(day, last) if last else day, None), pk
        elif status == HandoffStatus.ON_HOLD:
            assert (care_since, hold_review_on) == (None, day + datetime.timedelta(days=14)), pk
        else:
            assert (care_since, hold_review_on) == (None, None), pk
        seen.add(status)
    # each kind of row was checked (the fixture's history, seed 7, holds one referral on hold)
    assert {HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS, HandoffStatus.ON_HOLD} <= seen
    # a session later than the move: the focus world's in-progress referral counts from its last session
    progress = TrainerHandoff.objects.get(public_id=built.focus_progress_handoff)
    assert progress.care_since == last_session[progress.pk] > moved[(progress.pk, progress.status)].date()
    # the focus world's accepted referral, accepted months ago with no session, is due a nudge
    quiet = TrainerHandoff.objects.get(public_id=built.focus_accepted_handoff)
    assert quiet.pk in {s.handoff_id for s in timers_idle._due(timezone.now())}


def test_the_baseline_returns_the_same_page_of_rows_as_the_inbox_api(world: World, gym: Organization) -> None:
    world.trainer.trainer_profile.max_active_clients = 100
    world.trainer.trainer_profile.save()
    _discharge(world, gym, world.trainer, 30)
    _, raw = api_token_create(user=world.trainer, name="bench test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api_ids = [row["id"] for row in client.get("/api/v1/handoffs/").json()["results"]]
    request = RequestFactory().get("/", {"trainer": world.trainer.pk})
    baseline = json.loads(inbox_baseline(request).content)["results"]
    assert len(api_ids) == 25
    assert [row["public_id"] for row in baseline] == api_ids


def test_the_query_counter_reports_the_queries_a_request_ran(db: Any) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        User.objects.count()
        User.objects.exists()
        return HttpResponse("ok")

    response = QueryCountMiddleware(view)(RequestFactory().get("/"))
    assert response[HEADER] == "2"


def test_the_recording_backend_writes_one_line_per_email_naming_the_handoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "mail.jsonl"
    monkeypatch.setenv("BENCH_MAIL_LOG", str(log))
    handoff_id = "0b6f4a52-3f5e-4b8e-9d0e-1a2b3c4d5e6f"
    messages = [
        mail.EmailMessage("New referral", f"Open http://x/handoffs/{handoff_id}/ now", to=["t@gym.test"]),
        mail.EmailMessage("Other", "no link", to=["p@clinic.test"]),
    ]
    with override_settings(EMAIL_BACKEND="bench.mail.RecordingBackend"):
        assert RecordingBackend().send_messages(messages) == 2
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["handoff"], x["to"]) for x in lines] == [
        (handoff_id, ["t@gym.test"]),
        (None, ["p@clinic.test"]),
    ]
    assert all(x["t"] > 0 and x["bytes"] > 0 for x in lines)


def test_the_tracked_ratio_is_the_median_pair_of_rounds_measured_in_turn() -> None:
    from bench import report

    base = report.Endpoint("baseline", "GET", "http://x/base", {}, "baseline")
    api = report.Endpoint("inbox", "GET", "http://x/api", {}, "list")
    # the machine slows down during the run: measured apart, the ratio would carry the drift
    timings = iter([2.0, 3.0, 4.0, 6.4, 8.0, 11.0, 2.0, 2.8, 4.0, 5.6])
    order: list[str] = []

    def fake_wrk(url: str, headers: dict[str, str], seconds: float) -> dict[str, float]:
        order.append(url)
        assert seconds == report.PAIRED_ROUND_SECONDS
        return {"p50_ms": next(timings)}

    pair = report.paired(api, base, 2.5, fake_wrk)  # 5 pairs
    assert order == ["http://x/base", "http://x/api"] * 5
    assert [r["ratio"] for r in pair["rounds"]] == [1.5, 1.6, 1.38, 1.4, 1.4]
    assert pair["ratio"] == 1.4 and pair["baseline_p50_ms"] in (4.0, 2.0)


def test_growth_is_judged_on_the_paired_ratio_to_the_baseline_at_both_volumes() -> None:
    from bench import report

    growth = {"ratio": 0.77, "paired_ratio": 1.05, "full_handoffs": 100_000, "small_handoffs": 1_000}
    assert report._growth(growth) == 1.05
    assert report._growth({"ratio": 1.1}) == 1.1  # a run from before the adjustment


def test_the_burst_is_judged_as_a_ratio_to_the_no_op_tasks_of_the_same_run() -> None:
    pipeline = {
        "burst": {"messages": 100, "emails": 100, "first_to_last_s": 0.5, "deliveries_per_s": 198.0},
        "noop": {"tasks": 100, "ran": 100, "first_to_last_s": 0.3, "tasks_per_s": 330.0},
    }
    pipeline["burst"]["ratio_to_noop"] = 0.6
    short = bench_report.burst_target(pipeline)
    assert not short["pass"] and short["short_by"] == 0.86 and "330.0 no-op tasks/s" in short["measured"]
    pipeline["burst"]["ratio_to_noop"] = 0.75
    assert bench_report.burst_target(pipeline)["pass"]
    pipeline["noop"]["ran"] = 99  # a lost no-op task: the limit itself was not measured
    assert not bench_report.burst_target(pipeline)["pass"]
    pipeline["noop"]["ran"], pipeline["burst"]["emails"] = 100, 99  # a lost email fails whatever the rate
    assert not bench_report.burst_target(pipeline)["pass"]
