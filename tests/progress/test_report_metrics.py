"""The figures of a report, by hand: metrics.compute_figures on plain rows (no database)."""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from referrals.progress import metrics

D = datetime.date
START, END = D(2026, 11, 2), D(2026, 11, 15)  # 14 days: 2 weeks
RX = uuid.uuid4()


def s(pk: int, day: D, attendance: str = "attended", **kw: Any) -> dict[str, Any]:
    row = {"id": pk, "session_date": day, "attendance": attendance, "rpe": None, "pain_before": None}
    return {**row, "pain_after": None, "mvpa_minutes": None, **kw}


def e(session_id: int, category: str = "mobility", done: bool = True, **kw: Any) -> dict[str, Any]:
    row = {"session_id": session_id, "prescribed_id": None, "name": "x", "done": done, "load_unit": ""}
    return {**row, "load_value": None, "exercise__category": category, **kw}


SESSIONS = [
    s(1, D(2026, 11, 2), rpe=5, pain_before=2, pain_after=3, mvpa_minutes=30),
    s(2, D(2026, 11, 2), rpe=7, pain_before=4, pain_after=1, mvpa_minutes=20),  # same day: one day, 50 min
    s(3, D(2026, 11, 5), rpe=6, pain_before=3, mvpa_minutes=40),
    s(4, D(2026, 11, 9), mvpa_minutes=0),  # attended, no MVPA
    s(5, D(2026, 11, 11), "no_show"),
    s(6, D(2026, 11, 12), "cancelled_client"),
    s(7, D(2026, 11, 13), "cancelled_gym"),
    s(8, D(2026, 11, 14), "no_show", mvpa_minutes=60),  # not attended: not counted
    s(9, D(2026, 11, 16), mvpa_minutes=90),  # after the period: ignored
]
EXERCISES = [
    e(1, "strength"),  # day 2 Nov: strength
    e(2, "strength"),  # the same day again
    e(3, "functional", load_value=Decimal("20.00"), load_unit="kg", prescribed_id=RX),  # loaded: strength
    e(4, "strength", done=False),  # not done: no strength day
    e(4, "functional", load_value=Decimal("6"), load_unit="rpe"),  # an RPE load is no external load
    e(5, "strength"),  # a no-show's row: not counted
    e(1, "functional", load_value=Decimal("15.5"), load_unit="kg", prescribed_id=RX),
]
PRESCRIBED = [{"id": str(RX), "name": "Goblet squat", "load_value": "15.00", "load_unit": "kg"}]


@pytest.fixture
def figures() -> metrics.ReportFigures:
    return metrics.compute_figures(
        start=START, end=END, sessions=SESSIONS, exercises=EXERCISES, prescribed=PRESCRIBED
    )


def test_the_period_is_counted_in_days_both_ends_included(figures: metrics.ReportFigures) -> None:
    assert figures["period"] == {"start": "2026-11-02", "end": "2026-11-15", "days": 14, "weeks": 2.0}


def test_attendance_counts_each_logged_session_of_the_period(figures: metrics.ReportFigures) -> None:
    assert figures["attendance"] == {
        "logged": 8,
        "attended": 4,
        "no_show": 2,
        "cancelled_client": 1,
        "cancelled_gym": 1,
        "attended_per_week": 2.0,
    }


def test_the_exercise_vital_signs_by_hand(figures: metrics.ReportFigures) -> None:
    signs = figures["vital_signs"]
    # MVPA days: 2 Nov (50 min) and 5 Nov (40 min) -> 2 days / 2 weeks
    assert signs["mvpa_days_per_week"] == {
        "code": "89555-7",
        "display": "Days per week of moderate to vigorous physical activity",
        "value": 1.0,
        "unit": "d/wk",
    }
    assert signs["mvpa_minutes_per_day"]["value"] == 45.0  # 90 min / 2 days
    assert signs["mvpa_minutes_per_day"]["unit"] == "min/d"
    assert signs["mvpa_minutes_per_day"]["code"] == "68516-4"
    assert signs["mvpa_minutes_per_week"]["value"] == 45.0  # 90 min / 2 weeks
    assert (signs["mvpa_minutes_per_week"]["code"], signs["mvpa_minutes_per_week"]["unit"]) == (
        "82290-8",
        "min/wk",
    )
    # strength days: 2 Nov (category) and 5 Nov (20 kg) -> 2 days / 2 weeks; 9 Nov not (not done, RPE load)
    assert signs["strength_days_per_week"]["value"] == 1.0
    assert (signs["strength_days_per_week"]["code"], signs["strength_days_per_week"]["unit"]) == (
        "82291-6",
        "d/wk",
    )
    assert [v["code"] for v in metrics.vital_sign_list(figures)] == [
        "89555-7",
        "68516-4",
        "82290-8",
        "82291-6",
    ]


def test_pain_and_rpe_over_the_attended_sessions_that_recorded_them(figures: metrics.ReportFigures) -> None:
    assert figures["pain_before"] == {"n": 3, "mean": 3.0, "max": 4}  # 2, 4, 3
    assert figures["pain_after"] == {"n": 2, "mean": 2.0, "max": 3}  # 3, 1
    assert figures["rpe"] == {"n": 3, "mean": 6.0, "max": 7}  # 5, 7, 6
    assert [p["date"] for p in figures["series"]] == ["2026-11-02", "2026-11-02", "2026-11-05", "2026-11-09"]


def test_loads_per_prescribed_exercise_oldest_first_with_the_prescription(
    figures: metrics.ReportFigures,
) -> None:
    assert figures["loads"] == [
        {
            "prescribed_id": str(RX),
            "name": "Goblet squat",
            "prescribed_value": 15.0,
            "prescribed_unit": "kg",
            "points": [
                {"date": "2026-11-02", "value": 15.5, "unit": "kg"},
                {"date": "2026-11-05", "value": 20.0, "unit": "kg"},
            ],
        }
    ]


def test_the_figures_are_json_as_stored(figures: metrics.ReportFigures) -> None:
    assert json.loads(json.dumps(figures)) == figures


def test_a_period_without_sessions_has_zero_rates_and_no_scores() -> None:
    empty = metrics.compute_figures(start=D(2026, 11, 1), end=D(2026, 11, 3), sessions=[])
    assert empty["period"]["weeks"] == 0.43  # 3 / 7
    assert empty["attendance"]["attended_per_week"] == 0.0
    assert all(v["value"] == 0.0 for v in metrics.vital_sign_list(empty))
    assert empty["pain_before"] == {"n": 0, "mean": None, "max": None}
    assert empty["series"] == [] and empty["loads"] == []


def test_rates_of_a_period_that_is_not_whole_weeks() -> None:
    # 10 days = 1.4286 weeks; 3 attended, 100 MVPA minutes on 2 days
    rows = [s(1, D(2026, 1, 1), mvpa_minutes=60), s(2, D(2026, 1, 4), mvpa_minutes=40), s(3, D(2026, 1, 8))]
    got = metrics.compute_figures(start=D(2026, 1, 1), end=D(2026, 1, 10), sessions=rows)
    assert got["attendance"]["attended_per_week"] == 2.1  # 3 / (10/7)
    assert got["vital_signs"]["mvpa_days_per_week"]["value"] == 1.4  # 2 / (10/7)
    assert got["vital_signs"]["mvpa_minutes_per_week"]["value"] == 70.0  # 100 / (10/7)
    assert got["vital_signs"]["mvpa_minutes_per_day"]["value"] == 50.0


def test_a_period_that_ends_before_it_starts_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        metrics.compute_figures(start=D(2026, 1, 2), end=D(2026, 1, 1), sessions=[])
