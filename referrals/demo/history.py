"""A demo referral's past: weeks of session logs, a missed week, a pain spike, a report and its
acknowledgement, written through the services on the days they happened.

The services stamp what they write with the clock (an acceptance, a session's date checked against it,
a report's period, an acknowledgement), so the demo replays each step at its own date with time-machine
rather than writing rows by hand: the fast lane, the start on the first attended session and the report's
frozen figures are the ones a real history would have produced."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import time_machine
from django.utils import timezone

from accounts.models import User
from referrals.care.models import Precaution
from referrals.demo.data import History
from referrals.handoffs.models import TrainerHandoff
from referrals.handoffs.snapshot import guidelines_read
from referrals.progress import reports as progress_reports
from referrals.progress import services as progress_services
from referrals.progress.models import ProgressReport, SessionLog

SESSION_DAYS = (0, 3)  # two sessions a week: on the first and the fourth day of each week


@contextmanager
def on(day: datetime.date, hour: int = 18) -> Iterator[None]:
    """The clock at `hour` o'clock of `day`, local time (the demo's steps happen in the evening)."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    with time_machine.travel(moment, tick=False):
        yield


def _load(value: Any, week: int) -> Decimal | None:
    """The prescribed load, progressed by 10% every two weeks, to the half kilogram."""
    if value in (None, ""):
        return None
    stepped = Decimal(str(value)) * (1 + Decimal("0.1") * (week // 2))
    return (stepped * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def _pain_limit(guidelines: dict[str, Any]) -> int | None:
    limits = [
        int(Decimal(str(p["limit_value"])))
        for p in guidelines.get("precautions", [])
        if p.get("kind") == "pain_rule" and p.get("limit_value") not in (None, "")
    ]
    return min(limits) if limits else None


def _rpe_cap(guidelines: dict[str, Any]) -> int:
    caps = [
        int(Decimal(str(p["limit_value"])))
        for p in guidelines.get("precautions", [])
        if p.get("kind") == "effort_cap"
        and p.get("limit_unit") == Precaution.Unit.RPE.label  # the snapshot keeps the unit's label
        and p.get("limit_value") not in (None, "")
    ]
    return min([6, *caps])


def replay(
    *, handoff: TrainerHandoff, trainer: User, physio: User, history: History, accepted_on: datetime.date
) -> int:
    """Log the sessions of `history` from `accepted_on` up to yesterday, then the report and its
    acknowledgement; a session that would fall on or after today is not logged. Returns the number of
    sessions logged."""
    today = timezone.localdate()
    guidelines = guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id) or {}
    pain_limit = _pain_limit(guidelines)
    rpe = _rpe_cap(guidelines)
    logged = 0
    for week in range(history.weeks):
        for number, offset in enumerate(SESSION_DAYS):
            day = accepted_on + datetime.timedelta(days=1 + 7 * week + offset)
            if day >= today:
                break
            logged += 1
            with on(day):
                if week == history.missed_week:
                    progress_services.session_log(
                        handoff=handoff,
                        actor=trainer,
                        session_date=day,
                        attendance=SessionLog.Attendance.NO_SHOW,
                        exercises=[],
                        note="No-show; messaged to rebook.",
                    )
                    continue
                spike = week == history.spike_week and number == 1 and pain_limit is not None
                progress_services.session_log(
                    handoff=handoff,
                    actor=trainer,
                    session_date=day,
                    attendance=SessionLog.Attendance.ATTENDED,
                    exercises=[
                        {
                            "prescribed_id": item["id"],
                            "done": True,
                            "sets": item["sets"],
                            "reps": item["reps"],
                            "hold_seconds": item["hold_seconds"],
                            "duration_minutes": item["duration_minutes"],
                            "load_unit": item.get("load_unit") or "",
                            "load_value": _load(item.get("load_value"), week),
                        }
                        for item in guidelines.get("exercises", [])
                    ],
                    rpe=max(3, rpe - 1 - (number + week) % 2),
                    pain_before=1 + week % 2,
                    pain_after=(pain_limit or 0) + 2 if spike else 1 + (week + number) % 2,
                    mvpa_minutes=35 + 5 * ((week + number) % 3),
                    note="Pain went up during the step-downs; stopped that set." if spike else "",
                )
        if history.report_after_weeks is not None and week + 1 == history.report_after_weeks:
            _report(
                handoff=handoff,
                trainer=trainer,
                physio=physio,
                day=accepted_on + datetime.timedelta(weeks=week + 1),
            )
    return logged


def _report(*, handoff: TrainerHandoff, trainer: User, physio: User, day: datetime.date) -> None:
    if day >= timezone.localdate():
        return
    with on(day, hour=20):
        draft = progress_reports.report_compose(handoff=handoff)
        report = progress_reports.report_submit(
            handoff=handoff,
            actor=trainer,
            period_start=draft.period_start,
            period_end=draft.period_end,
            impressions="Turns up and works hard; load up 10% since the start.",
            obstacles="One missed week (work travel).",
            adherence="Home exercises most days, by the client's own account.",
            recommendations="Keep progressing the load every two weeks while pain stays within the rule.",
            goals=[ProgressReport.GoalStatus.PARTLY] * len(draft.goals),
        )
    with on(day + datetime.timedelta(days=1), hour=9):
        progress_reports.report_acknowledge(report=report, actor=physio)
