"""Session rows made directly (the session-logging service is another part's) and a final report through
the report service, for the tests of progress reports and of completing a referral."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User
from referrals.handoffs.models import TrainerHandoff
from referrals.library.models import Exercise
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport, SessionExercise, SessionLog
from tests import factories as f


def session(
    handoff: TrainerHandoff,
    day: datetime.date,
    *,
    attendance: str = SessionLog.Attendance.ATTENDED,
    logged_by: User | None = None,
    **fields: Any,
) -> SessionLog:
    """One logged session, stored as it is (no service, no check beyond the database's)."""
    return SessionLog.objects.create(
        handoff=handoff,
        session_date=day,
        attendance=attendance,
        logged_by=logged_by or handoff.trainer,
        **fields,
    )


def exercise_done(
    log: SessionLog,
    *,
    exercise: Exercise | None = None,
    prescribed_id: Any = None,
    done: bool = True,
    load: tuple[str, str] | None = None,
    **fields: Any,
) -> SessionExercise:
    """One exercise row of a session; `load` = (value, unit)."""
    chosen = exercise or f.an_exercise()
    return SessionExercise.objects.create(
        session=log,
        exercise=chosen,
        name=chosen.name,
        prescribed_id=prescribed_id,
        done=done,
        load_value=Decimal(load[0]) if load else None,
        load_unit=load[1] if load else "",
        **fields,
    )


def library_exercise(category: str) -> Exercise:
    f.an_exercise()  # the library loaded
    found = Exercise.objects.filter(category=category).order_by("name").first()
    assert found is not None, f"the library has no {category} exercise"
    return found


def submit_final_report(handoff: TrainerHandoff, actor: User | None = None) -> ProgressReport:
    """The final report completing a referral requires, through the service: the default period (from the
    last report or the acceptance to today), every goal met."""
    draft = progress_reports.report_compose(handoff=handoff)
    return progress_reports.report_submit(
        handoff=handoff,
        actor=actor or handoff.trainer,
        period_start=draft.period_start,
        period_end=draft.period_end,
        impressions="Goals reached; the client trains on their own now.",
        goals=["met"] * len(draft.goals),
        final=True,
    )
