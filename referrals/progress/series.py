"""The numbers behind a referral's progress charts, read from its session logs: pain before and after and
RPE per session, attendance per ISO week, load per prescribed exercise against the prescription, minutes
of moderate-to-vigorous activity per week against the 150-minute guideline.

One query for any number of referrals and sessions (`series_for_handoffs`): the sessions as values(),
each with its logged loads joined through a FilteredRelation (a LEFT JOIN, so a session without one
still comes once). The exercises are named from the referral's guidelines snapshot
(handoffs.snapshot.guidelines_read), whose prescribed load is the reference line."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import FilteredRelation, Q

from referrals.care.models import LoadUnit
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import TrainerHandoff
from referrals.progress.models import SessionLog

# The WHO guideline for adults: at least 150 minutes of moderate-intensity activity a week.
GUIDELINE_MINUTES_PER_WEEK = 150
MISSED = (SessionLog.Attendance.NO_SHOW,)
CANCELLED = (SessionLog.Attendance.CANCELLED_CLIENT, SessionLog.Attendance.CANCELLED_GYM)


@dataclass(frozen=True)
class PainPoint:
    """One session's scores (0-10); None where the trainer recorded none."""

    session_date: datetime.date
    pain_before: int | None
    pain_after: int | None
    rpe: int | None


@dataclass(frozen=True)
class WeekAttendance:
    week_start: datetime.date  # the Monday of the ISO week
    attended: int
    missed: int  # no-show
    cancelled: int  # by the client or by the gym

    @property
    def label(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class LoadPoint:
    session_date: datetime.date
    load: Decimal


@dataclass(frozen=True)
class ExerciseLoad:
    """One prescribed exercise's load as done, session by session, in one unit."""

    prescribed_id: uuid.UUID
    name: str
    unit: str  # a LoadUnit value
    prescribed: Decimal | None  # the guidelines' load, in the same unit (None: none prescribed in it)
    points: tuple[LoadPoint, ...]

    @property
    def unit_label(self) -> str:
        return str(LoadUnit(self.unit).label) if self.unit in LoadUnit.values else self.unit


@dataclass(frozen=True)
class WeekMinutes:
    week_start: datetime.date
    minutes: int

    @property
    def label(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class ProgressSeries:
    pain: tuple[PainPoint, ...] = ()
    attendance: tuple[WeekAttendance, ...] = ()
    loads: tuple[ExerciseLoad, ...] = ()
    minutes: tuple[WeekMinutes, ...] = ()
    sessions: int = 0
    guideline_minutes: int = GUIDELINE_MINUTES_PER_WEEK
    start: datetime.date | None = None
    end: datetime.date | None = None
    # the totals of the period: what the printed report states beside its charts
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.sessions == 0


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _weeks(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every Monday from first's week to last's: a week without a session shows as a gap, not nothing."""
    monday, weeks = _monday(first), []
    while monday <= last:
        weeks.append(monday)
        monday += datetime.timedelta(days=7)
    return weeks


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _rows(
    handoff_ids: Sequence[int], start: datetime.date | None, end: datetime.date | None
) -> list[dict[str, Any]]:
    sessions = SessionLog.objects.filter(handoff_id__in=handoff_ids)
    if start is not None:
        sessions = sessions.filter(session_date__gte=start)
    if end is not None:
        sessions = sessions.filter(session_date__lte=end)
    loads = FilteredRelation(
        "exercises",
        condition=Q(
            exercises__prescribed_id__isnull=False, exercises__load_value__isnull=False, exercises__done=True
        ),
    )
    return list(
        sessions.annotate(load=loads)
        .values(
            "id",
            "handoff_id",
            "session_date",
            "attendance",
            "pain_before",
            "pain_after",
            "rpe",
            "mvpa_minutes",
            "load__prescribed_id",
            "load__load_value",
            "load__load_unit",
        )
        .order_by("handoff_id", "session_date", "id", "load__position", "load__id")
    )


def _build(
    handoff: TrainerHandoff,
    rows: list[dict[str, Any]],
    start: datetime.date | None,
    end: datetime.date | None,
) -> ProgressSeries:
    pain: list[PainPoint] = []
    attendance: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    minutes: dict[datetime.date, int] = defaultdict(int)
    logged: dict[tuple[str, str], list[LoadPoint]] = defaultdict(list)
    seen: set[int] = set()
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            day = row["session_date"]
            week = attendance[_monday(day)]
            if row["attendance"] == SessionLog.Attendance.ATTENDED:
                week[0] += 1
            elif row["attendance"] in MISSED:
                week[1] += 1
            elif row["attendance"] in CANCELLED:
                week[2] += 1
            minutes[_monday(day)] += row["mvpa_minutes"] or 0
            if any(row[k] is not None for k in ("pain_before", "pain_after", "rpe")):
                pain.append(PainPoint(day, row["pain_before"], row["pain_after"], row["rpe"]))
        if row["load__prescribed_id"] is not None:
            key = (str(row["load__prescribed_id"]), row["load__load_unit"] or "")
            logged[key].append(LoadPoint(row["session_date"], Decimal(row["load__load_value"])))
    if not seen:
        return ProgressSeries(start=start, end=end, totals=_totals((), ()))
    dates = [r["session_date"] for r in rows]
    weeks = _weeks(start or min(dates), end or max(dates))
    week_rows = tuple(WeekAttendance(w, *attendance.get(w, (0, 0, 0))) for w in weeks)
    minute_rows = tuple(WeekMinutes(w, minutes.get(w, 0)) for w in weeks)
    return ProgressSeries(
        pain=tuple(pain),
        attendance=week_rows,
        loads=_loads(handoff, logged),
        minutes=minute_rows,
        sessions=len(seen),
        start=start,
        end=end,
        totals=_totals(week_rows, minute_rows),
    )


def _totals(weeks: Sequence[WeekAttendance], minutes: Sequence[WeekMinutes]) -> dict[str, int]:
    return {
        "attended": sum(w.attended for w in weeks),
        "missed": sum(w.missed for w in weeks),
        "cancelled": sum(w.cancelled for w in weeks),
        "weeks": len(weeks),
        "minutes": sum(m.minutes for m in minutes),
        "weeks_meeting_guideline": sum(1 for m in minutes if m.minutes >= GUIDELINE_MINUTES_PER_WEEK),
    }


def _loads(
    handoff: TrainerHandoff, logged: dict[tuple[str, str], list[LoadPoint]]
) -> tuple[ExerciseLoad, ...]:
    """In the guidelines' order; an id the snapshot does not name (it cannot happen through the service)
    comes last, named by its id."""
    guidelines = (
        handoffs_snapshot.guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id) or {}
    )
    order = {item["id"]: (i, item) for i, item in enumerate(guidelines.get("exercises") or [])}
    found = []
    for (exercise_id, unit), points in logged.items():
        position, item = order.get(exercise_id, (len(order), {}))
        prescribed = _decimal(item.get("load_value")) if item.get("load_unit") == unit else None
        name = str(item.get("name") or f"Exercise {exercise_id[:8]}")
        found.append((position, ExerciseLoad(uuid.UUID(exercise_id), name, unit, prescribed, tuple(points))))
    return tuple(load for _, load in sorted(found, key=lambda pair: (pair[0], pair[1].unit)))


def series_for_handoffs(
    *,
    handoffs: Iterable[TrainerHandoff],
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> dict[int, ProgressSeries]:
    """Each referral's series (by its pk), of the sessions from `start` to `end` (inclusive, either open):
    one query whatever the number of referrals and sessions."""
    chosen = {h.pk: h for h in handoffs}
    if not chosen:
        return {}
    by_handoff: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(list(chosen), start, end):
        by_handoff[row["handoff_id"]].append(row)
    return {pk: _build(h, by_handoff.get(pk, []), start, end) for pk, h in chosen.items()}


def series_for_handoff(
    *, handoff: TrainerHandoff, start: datetime.date | None = None, end: datetime.date | None = None
) -> ProgressSeries:
    return series_for_handoffs(handoffs=[handoff], start=start, end=end)[handoff.pk]
