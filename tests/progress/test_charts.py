"""The progress charts: the series from known rows, the SVG (well-formed, titled, one point per session,
escaped), the table of the same numbers, one query whatever the number of sessions, and the pages."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from referrals.care import services as care_services
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import charts as progress_charts
from referrals.progress import series as progress_series
from referrals.progress.models import SessionLog
from tests.conftest import World
from tests.factories import an_exercise
from tests.progress import factories_charts as fc

A = SessionLog.Attendance
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & <b onload=1>'


def day(week: int, weekday: int = 0) -> datetime.date:
    return fc.MONDAY + datetime.timedelta(weeks=week, days=weekday)


@pytest.fixture
def handoff(world: World) -> TrainerHandoff:
    return fc.accepted_handoff(world)


@pytest.fixture
def logged(handoff: TrainerHandoff) -> TrainerHandoff:
    """Week 0: two sessions attended and a no-show; week 1: nothing; week 2: one attended, two cancelled."""
    rx = fc.prescribed_ids(handoff)[0]
    fc.session(
        handoff, day=day(0), pain_before=3, pain_after=2, rpe=5, mvpa_minutes=40, loads={rx: Decimal("20")}
    )
    fc.session(
        handoff,
        day=day(0, 2),
        pain_before=4,
        pain_after=4,
        rpe=6,
        mvpa_minutes=50,
        loads={rx: Decimal("22.5")},
    )
    fc.session(handoff, day=day(0, 4), attendance=A.NO_SHOW)
    fc.session(
        handoff, day=day(2), pain_before=2, pain_after=1, rpe=7, mvpa_minutes=60, loads={rx: Decimal("25")}
    )
    fc.session(handoff, day=day(2, 2), attendance=A.CANCELLED_CLIENT)
    fc.session(handoff, day=day(2, 3), attendance=A.CANCELLED_GYM)
    return handoff


def _svg(chart: progress_charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own output, no entities or DTD


def _chart(charts: list[progress_charts.Chart], kind: str) -> progress_charts.Chart:
    return next(c for c in charts if c.key.split("-")[2] == kind)


# --- the series ----------------------------------------------------------------------------------------


def test_the_series_count_attendance_per_iso_week_with_the_empty_week_between(logged: TrainerHandoff) -> None:
    series = progress_series.series_for_handoff(handoff=logged)
    assert [(w.label, w.attended, w.missed, w.cancelled) for w in series.attendance] == [
        ("2026-W10", 2, 1, 0),
        ("2026-W11", 0, 0, 0),
        ("2026-W12", 1, 0, 2),
    ]
    assert [(w.label, w.minutes) for w in series.minutes] == [
        ("2026-W10", 90),
        ("2026-W11", 0),
        ("2026-W12", 60),
    ]
    assert series.sessions == 6
    assert series.totals == {
        "attended": 3,
        "missed": 1,
        "cancelled": 2,
        "weeks": 3,
        "minutes": 150,
        "weeks_meeting_guideline": 0,
    }


def test_the_series_hold_pain_and_rpe_per_session_and_the_load_against_the_prescription(
    logged: TrainerHandoff,
) -> None:
    series = progress_series.series_for_handoff(handoff=logged)
    assert [(p.session_date, p.pain_before, p.pain_after, p.rpe) for p in series.pain] == [
        (day(0), 3, 2, 5),
        (day(0, 2), 4, 4, 6),
        (day(2), 2, 1, 7),
    ]
    (load,) = series.loads
    snapshot_exercise = (logged.snapshot or {})["exercises"][0]
    assert str(load.prescribed_id) == snapshot_exercise["id"]
    assert load.name == snapshot_exercise["name"]
    assert (load.unit, load.prescribed) == ("kg", Decimal("20"))
    assert [(p.session_date, p.load) for p in load.points] == [
        (day(0), Decimal("20")),
        (day(0, 2), Decimal("22.5")),
        (day(2), Decimal("25")),
    ]


def test_a_period_keeps_only_its_sessions_and_its_weeks(logged: TrainerHandoff) -> None:
    series = progress_series.series_for_handoff(handoff=logged, start=day(1), end=day(2, 6))
    assert [(w.label, w.attended, w.cancelled) for w in series.attendance] == [
        ("2026-W11", 0, 0),
        ("2026-W12", 1, 2),
    ]
    assert [p.session_date for p in series.pain] == [day(2)]
    assert [p.load for p in series.loads[0].points] == [Decimal("25")]


def test_an_exercise_not_done_or_added_by_the_trainer_draws_no_load(handoff: TrainerHandoff) -> None:
    rx = fc.prescribed_ids(handoff)[0]
    log = fc.session(handoff, day=day(0), rpe=5)
    fc.session(handoff, day=day(0, 1), rpe=5, loads={rx: Decimal("30")})
    log.exercises.create(exercise=an_exercise(), name="Added", load_unit="kg", load_value=Decimal(99))
    log.exercises.create(
        exercise=an_exercise(),
        name="Skipped",
        prescribed_id=rx,
        done=False,
        load_unit="kg",
        load_value=Decimal(98),
    )
    (load,) = progress_series.series_for_handoff(handoff=handoff).loads
    assert [p.load for p in load.points] == [Decimal("30")]


@pytest.mark.parametrize("count", [5, 200])
def test_the_series_of_any_number_of_sessions_take_one_query(
    handoff: TrainerHandoff, count: int, django_assert_num_queries: Any
) -> None:
    fc.many_sessions(handoff, count)
    with django_assert_num_queries(1):
        series = progress_series.series_for_handoff(handoff=handoff)
    assert len(series.pain) == count
    assert len(series.loads[0].points) == count


# --- the SVG and its table -----------------------------------------------------------------------------


def test_each_chart_is_well_formed_svg_with_a_title_and_a_description_it_is_labelled_by(
    logged: TrainerHandoff,
) -> None:
    charts = progress_charts.progress_charts(handoff=logged)
    assert [c.key.split("-")[2] for c in charts] == ["pain", "attendance", "minutes", "load"]
    for chart in charts:
        root = _svg(chart)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and desc is not None
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text == chart.title and desc.text == chart.description
        assert "<script" not in str(chart.svg)


def test_the_pain_chart_draws_one_point_per_session_and_its_table_has_the_same_numbers(
    handoff: TrainerHandoff,
) -> None:
    fc.many_sessions(handoff, 30)
    fc.session(handoff, day=day(20), rpe=3)  # RPE only: a point on that line, none on the pain lines
    chart = _chart(progress_charts.progress_charts(handoff=handoff), "pain")
    root = _svg(chart)
    points = {
        g.get("data-series"): len(g.findall(f"{SVG}circle"))
        for g in root.iter(f"{SVG}g")
        if g.get("data-series")
    }
    assert points == {"pain_before": 30, "pain_after": 30, "rpe": 31}
    rows = SessionLog.objects.filter(handoff=handoff).order_by("session_date", "id")
    assert chart.table.headers == ("Session date", "Pain before", "Pain after", "RPE")
    assert list(chart.table.rows) == [
        (
            f"{r.session_date:%Y-%m-%d}",
            "" if r.pain_before is None else str(r.pain_before),
            "" if r.pain_after is None else str(r.pain_after),
            str(r.rpe),
        )
        for r in rows
    ]


def test_the_attendance_and_minutes_charts_have_a_column_per_week_and_the_guideline(
    logged: TrainerHandoff,
) -> None:
    charts = progress_charts.progress_charts(handoff=logged)
    attendance = _chart(charts, "attendance")
    attended = next(g for g in _svg(attendance).iter(f"{SVG}g") if g.get("data-series") == "attended")
    assert len(attended.findall(f"{SVG}rect")) == 3
    assert attendance.table.rows == (
        ("2026-W10", "2", "1", "0"),
        ("2026-W11", "0", "0", "0"),
        ("2026-W12", "1", "0", "2"),
    )
    minutes = _chart(charts, "minutes")
    assert len(list(_svg(minutes).iter(f"{SVG}line"))) >= 1
    assert [g for g in _svg(minutes).iter(f"{SVG}line") if g.get("class") == "guideline"]
    assert minutes.table.rows == (("2026-W10", "90", "no"), ("2026-W11", "0", "no"), ("2026-W12", "60", "no"))
    assert "150" in minutes.title


def test_a_hostile_exercise_name_is_escaped_in_the_svg_and_on_the_page(
    logged: TrainerHandoff, client: Client, world: World
) -> None:
    snapshot = dict(logged.snapshot or {})
    snapshot["exercises"] = [{**snapshot["exercises"][0], "name": HOSTILE}, *snapshot["exercises"][1:]]
    TrainerHandoff.objects.filter(pk=logged.pk).update(snapshot=snapshot)
    logged.refresh_from_db()
    chart = _chart(progress_charts.progress_charts(handoff=logged), "load")
    root = _svg(chart)  # still well-formed
    assert HOSTILE in "".join(root.itertext())
    assert "<script" not in str(chart.svg) and "<b onload" not in str(chart.svg)
    assert "&lt;script&gt;" in str(chart.svg)
    client.force_login(world.physio)
    page = client.get(f"/handoffs/{logged.public_id}/").content.decode()
    assert "<script>alert" not in page and "<b onload" not in page
    assert 'data-testid="progress-charts"' in page


def test_no_sessions_no_charts(handoff: TrainerHandoff) -> None:
    assert progress_charts.progress_charts(handoff=handoff) == []


# --- the pages -----------------------------------------------------------------------------------------


def test_the_referral_page_shows_the_charts_to_the_physio_and_the_trainer(
    logged: TrainerHandoff, world: World
) -> None:
    for user in (world.physio, world.trainer):
        client = Client()
        client.force_login(user)
        response = client.get(f"/handoffs/{logged.public_id}/")
        assert response.status_code == 200
        assert [c.key.split("-")[2] for c in response.context["progress_charts"]] == [
            "pain",
            "attendance",
            "minutes",
            "load",
        ]
        assert response.content.decode().count('role="img"') == 4


def test_the_trainer_sees_no_charts_once_consent_is_withdrawn(logged: TrainerHandoff, world: World) -> None:
    consent = logged.consent
    assert consent is not None
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="")
    client = Client()
    client.force_login(world.physio)
    assert client.get(f"/handoffs/{logged.public_id}/").context["progress_charts"]
    client.force_login(world.trainer)
    response = client.get(f"/handoffs/{logged.public_id}/")
    assert response.status_code == 200  # the referral was cancelled with the consent: its name stays
    assert response.context["progress_charts"] == []
    assert 'role="img"' not in response.content.decode()


def _count(client: Client, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_pages_run_the_same_queries_for_5_and_for_200_sessions(
    handoff: TrainerHandoff, world: World
) -> None:
    client = Client()
    client.force_login(world.physio)
    client.get("/account/profile/")  # the first request of a login stamps the session
    patient_url = f"/patients/{world.plan.patient.public_id}/"
    handoff_url = f"/handoffs/{handoff.public_id}/"
    fc.many_sessions(handoff, 5)
    small = {url: _count(client, url)[0] for url in (patient_url, handoff_url)}
    fc.many_sessions(handoff, 195, start=fc.MONDAY + datetime.timedelta(days=20))
    large, response = _count(client, patient_url)
    assert large == small[patient_url]
    ((heading, charts),) = response.context["progress"]
    assert world.gym.name in heading
    assert len(_chart(charts, "pain").table.rows) == 200
    assert _count(client, handoff_url)[0] == small[handoff_url]


def test_the_patient_page_reads_every_referrals_sessions_in_one_query(
    handoff: TrainerHandoff, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A second referral of the patient (after the first failed) with sessions: the page's query count
    does not grow with the number of referrals either."""
    client = Client()
    client.force_login(world.physio)
    client.get("/account/profile/")
    url = f"/patients/{world.plan.patient.public_id}/"
    fc.many_sessions(handoff, 5)
    one, _ = _count(client, url)
    from referrals.handoffs import sending as handoffs_sending
    from referrals.handoffs import services as handoffs_services

    handoffs_services.handoff_fail(handoff=handoff, actor=world.trainer, reason="Moved away.")
    second = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    handoffs_services.handoff_accept(handoff=second, actor=world.trainer)
    fc.many_sessions(second, 5)
    two, response = _count(client, url)
    assert len(response.context["progress"]) == 2
    assert two == one


@pytest.mark.parametrize("apart", [0, 1, 2, 3, 4, 5, 6, 7])
def test_sessions_close_together_draw_every_chart(handoff: TrainerHandoff, apart: int) -> None:
    """Two sessions 0 to 7 days apart (a report of a few days): every chart draws (leather ticks a short
    span in hours, which it cannot do for dates: the axis spans a week at least)."""
    rx = fc.prescribed_ids(handoff)[0]
    for offset in (0, apart):
        fc.session(
            handoff,
            day=day(0, offset),
            pain_before=2,
            pain_after=3,
            rpe=5,
            mvpa_minutes=30,
            loads={rx: Decimal("20")},
        ) if offset == 0 or apart else None
    charts = progress_charts.progress_charts(handoff=handoff, start=day(0), end=day(0, apart))
    assert {c.key.rsplit("-", 1)[-1] for c in charts} >= {"pain", "attendance", "minutes"}
    for chart in charts:
        assert _svg(chart).tag.endswith("svg")
