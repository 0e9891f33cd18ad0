"""A progress report's figures, computed from a referral's session logs for a period: pure functions of the
rows (no query here), typed as `ReportFigures`, the JSON a ProgressReport keeps in `figures` (dates as
ISO strings, counts as ints, rates as floats rounded to two decimals).

The rules, one place:
- The period is [start, end], both days included; `weeks` = its days / 7.
- Attendance counts every logged session by its attendance; `attended_per_week` = attended / weeks.
- The Exercise Vital Signs (HL7 Physical Activity guide) read attended sessions only, by day (two sessions
  on one day are one day, their minutes added):
  - 89555-7 days per week of moderate-to-vigorous activity (d/wk): days with MVPA minutes > 0, / weeks;
  - 68516-4 minutes per day on those days (min/d): their minutes / those days (0 with no such day);
  - 82290-8 minutes per week (min/wk): all MVPA minutes / weeks;
  - 82291-6 strength days per week (d/wk): days with a done exercise that strengthens, / weeks. An
    exercise strengthens when its library category is strength, or when it was done against an external
    load (kg or % of 1RM, above 0): a loaded squat of the functional category counts, a stretch does not.
  Each keeps its LOINC code, its display and its UCUM unit with the value, so the FHIR export writes one
  Observation per sign from the frozen figures.
- Pain before and after (0-10) and the session RPE (0-10): mean and max over the attended sessions that
  recorded them (None when none did), and the series per attended session for the charts.
- Loads: per prescribed exercise, each done row with a load, in date order, with the prescription."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypedDict

from referrals.care.models import LoadUnit

FIGURES_SCHEMA = 1
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
STRENGTH_CATEGORY = "strength"
EXTERNAL_LOAD_UNITS = frozenset({LoadUnit.KG.value, LoadUnit.PERCENT_1RM.value})


class Period(TypedDict):
    start: str
    end: str
    days: int
    weeks: float


class Attendance(TypedDict):
    logged: int
    attended: int
    no_show: int
    cancelled_client: int
    cancelled_gym: int
    attended_per_week: float


class VitalSign(TypedDict):
    code: str  # LOINC
    display: str
    value: float
    unit: str  # UCUM


class VitalSigns(TypedDict):
    mvpa_days_per_week: VitalSign
    mvpa_minutes_per_day: VitalSign
    mvpa_minutes_per_week: VitalSign
    strength_days_per_week: VitalSign


class Score(TypedDict):
    n: int
    mean: float | None
    max: int | None


class SeriesPoint(TypedDict):
    date: str
    pain_before: int | None
    pain_after: int | None
    rpe: int | None
    mvpa_minutes: int | None


class LoadPoint(TypedDict):
    date: str
    value: float
    unit: str


class LoadSeries(TypedDict):
    prescribed_id: str
    name: str
    prescribed_value: float | None
    prescribed_unit: str
    points: list[LoadPoint]


class ReportFigures(TypedDict):
    schema: int
    period: Period
    attendance: Attendance
    vital_signs: VitalSigns
    pain_before: Score
    pain_after: Score
    rpe: Score
    series: list[SeriesPoint]
    loads: list[LoadSeries]


# (key, LOINC code, display, UCUM unit), in the guide's order.
VITAL_SIGNS: tuple[tuple[str, str, str, str], ...] = (
    ("mvpa_days_per_week", "89555-7", "Days per week of moderate to vigorous physical activity", "d/wk"),
    ("mvpa_minutes_per_day", "68516-4", "Minutes per day of moderate to vigorous physical activity", "min/d"),
    (
        "mvpa_minutes_per_week",
        "82290-8",
        "Minutes per week of moderate to vigorous physical activity",
        "min/wk",
    ),
    ("strength_days_per_week", "82291-6", "Days per week of muscle-strengthening physical activity", "d/wk"),
)

# What `compute_figures` reads of each row (the selectors read these with `.values()`).
SESSION_FIELDS = ("id", "session_date", "attendance", "rpe", "pain_before", "pain_after", "mvpa_minutes")
EXERCISE_FIELDS = (
    "session_id",
    "prescribed_id",
    "name",
    "done",
    "load_unit",
    "load_value",
    "exercise__category",
)


def _rate(value: float) -> float:
    return round(value, 2)


def _score(values: Iterable[int | None]) -> Score:
    present = [v for v in values if v is not None]
    if not present:
        return {"n": 0, "mean": None, "max": None}
    return {"n": len(present), "mean": _rate(sum(present) / len(present)), "max": max(present)}


def _strengthens(row: Mapping[str, Any]) -> bool:
    if not row["done"]:
        return False
    if row["exercise__category"] == STRENGTH_CATEGORY:
        return True
    load = row["load_value"]
    return row["load_unit"] in EXTERNAL_LOAD_UNITS and load is not None and Decimal(load) > 0


def _as_date(value: datetime.date | str) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def compute_figures(
    *,
    start: datetime.date,
    end: datetime.date,
    sessions: Iterable[Mapping[str, Any]],
    exercises: Iterable[Mapping[str, Any]] = (),
    prescribed: Iterable[Mapping[str, Any]] = (),
) -> ReportFigures:
    """The figures of [start, end] from the session rows (SESSION_FIELDS), their exercise rows
    (EXERCISE_FIELDS) and the prescribed exercises of the guidelines snapshot ({"id", "name", "load_value",
    "load_unit"}). Rows outside the period are ignored."""
    if end < start:
        raise ValueError("A period ends on or after its start.")
    days = (end - start).days + 1
    weeks = days / 7
    in_period = [s for s in sessions if start <= _as_date(s["session_date"]) <= end]
    in_period.sort(key=lambda s: (_as_date(s["session_date"]), s["id"]))
    counts = {"attended": 0, "no_show": 0, "cancelled_client": 0, "cancelled_gym": 0}
    for s in in_period:
        counts[s["attendance"]] = counts.get(s["attendance"], 0) + 1
    attended = [s for s in in_period if s["attendance"] == "attended"]
    date_of = {s["id"]: _as_date(s["session_date"]) for s in attended}

    minutes_by_day: dict[datetime.date, int] = {}
    for s in attended:
        day = date_of[s["id"]]
        minutes_by_day[day] = minutes_by_day.get(day, 0) + (s["mvpa_minutes"] or 0)
    active_days = [day for day, minutes in minutes_by_day.items() if minutes > 0]
    total_minutes = sum(minutes_by_day.values())
    exercise_rows = [e for e in exercises if e["session_id"] in date_of]
    strength_days = {date_of[e["session_id"]] for e in exercise_rows if _strengthens(e)}
    values = {
        "mvpa_days_per_week": _rate(len(active_days) / weeks),
        "mvpa_minutes_per_day": _rate(total_minutes / len(active_days)) if active_days else 0.0,
        "mvpa_minutes_per_week": _rate(total_minutes / weeks),
        "strength_days_per_week": _rate(len(strength_days) / weeks),
    }
    signs: dict[str, VitalSign] = {
        key: {"code": code, "display": display, "value": values[key], "unit": unit}
        for key, code, display, unit in VITAL_SIGNS
    }
    return {
        "schema": FIGURES_SCHEMA,
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": days, "weeks": _rate(weeks)},
        "attendance": {
            "logged": len(in_period),
            "attended": counts["attended"],
            "no_show": counts["no_show"],
            "cancelled_client": counts["cancelled_client"],
            "cancelled_gym": counts["cancelled_gym"],
            "attended_per_week": _rate(counts["attended"] / weeks),
        },
        "vital_signs": {
            "mvpa_days_per_week": signs["mvpa_days_per_week"],
            "mvpa_minutes_per_day": signs["mvpa_minutes_per_day"],
            "mvpa_minutes_per_week": signs["mvpa_minutes_per_week"],
            "strength_days_per_week": signs["strength_days_per_week"],
        },
        "pain_before": _score(s["pain_before"] for s in attended),
        "pain_after": _score(s["pain_after"] for s in attended),
        "rpe": _score(s["rpe"] for s in attended),
        "series": [
            {
                "date": date_of[s["id"]].isoformat(),
                "pain_before": s["pain_before"],
                "pain_after": s["pain_after"],
                "rpe": s["rpe"],
                "mvpa_minutes": s["mvpa_minutes"],
            }
            for s in attended
        ],
        "loads": _loads(exercise_rows, date_of, prescribed),
    }


def _loads(
    rows: list[Mapping[str, Any]],
    date_of: Mapping[int, datetime.date],
    prescribed: Iterable[Mapping[str, Any]],
) -> list[LoadSeries]:
    """Per prescribed exercise (in the guidelines' order), its done rows with a load, oldest first."""
    points: dict[str, list[tuple[datetime.date, LoadPoint]]] = {}
    for row in rows:
        if row["prescribed_id"] is None or not row["done"] or row["load_value"] is None:
            continue
        day = date_of[row["session_id"]]
        point: LoadPoint = {
            "date": day.isoformat(),
            "value": float(row["load_value"]),
            "unit": row["load_unit"],
        }
        points.setdefault(str(row["prescribed_id"]), []).append((day, point))
    out: list[LoadSeries] = []
    for item in prescribed:
        found = points.get(str(item["id"]))
        if not found:
            continue
        value = item.get("load_value")
        prescribed_value = float(value) if value is not None and value != "" else None
        out.append(
            {
                "prescribed_id": str(item["id"]),
                "name": str(item.get("name", "")),
                "prescribed_value": prescribed_value,
                "prescribed_unit": str(item.get("load_unit") or ""),
                "points": [p for _, p in sorted(found, key=lambda pair: pair[0])],
            }
        )
    return out


def vital_sign_list(figures: Mapping[str, Any]) -> list[VitalSign]:
    """The figures' Exercise Vital Signs in the guide's order (for a table, or one Observation each)."""
    signs = figures.get("vital_signs") or {}
    return [signs[key] for key, *_ in VITAL_SIGNS if key in signs]
