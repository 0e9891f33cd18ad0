"""Rows for the chart and PDF tests, made directly (the session-logging and report services are another
part's): an accepted referral whose first exercise is prescribed at 20 kg, its sessions, a report."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from referrals.care.models import LoadUnit
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.progress.models import ProgressReport, SessionExercise, SessionLog
from tests.conftest import World
from tests.factories import an_exercise

MONDAY = datetime.date(2026, 3, 2)  # an ISO week's first day, in the past


def accepted_handoff(world: World, *, load: Decimal = Decimal("20")) -> TrainerHandoff:
    """The world's plan sent to its trainer and accepted; the first exercise prescribed at `load` kg."""
    first = world.plan.exercises.order_by("position", "id").first()
    assert first is not None
    first.load_unit, first.load_value = LoadUnit.KG, load
    first.save(update_fields=["load_unit", "load_value"])
    handoff = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    return handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)


def prescribed_ids(handoff: TrainerHandoff) -> list[str]:
    return [item["id"] for item in (handoff.snapshot or {}).get("exercises", [])]


def session(
    handoff: TrainerHandoff,
    *,
    day: datetime.date,
    attendance: str = SessionLog.Attendance.ATTENDED,
    loads: dict[str, Decimal] | None = None,
    by: User | None = None,
    **scores: Any,
) -> SessionLog:
    """One session; `loads` maps a prescribed exercise's id to the kg done; scores: rpe, pain_before,
    pain_after, mvpa_minutes."""
    log = SessionLog.objects.create(
        handoff=handoff, session_date=day, attendance=attendance, logged_by=by or handoff.trainer, **scores
    )
    exercise = an_exercise()
    SessionExercise.objects.bulk_create(
        SessionExercise(
            session=log,
            position=i,
            prescribed_id=rx,
            exercise=exercise,
            name=exercise.name,
            load_unit=LoadUnit.KG,
            load_value=value,
        )
        for i, (rx, value) in enumerate((loads or {}).items())
    )
    return log


def many_sessions(handoff: TrainerHandoff, count: int, *, start: datetime.date = MONDAY) -> list[SessionLog]:
    """`count` attended sessions two days apart, each with scores, minutes and the first exercise's load."""
    rx = prescribed_ids(handoff)[0]
    logs = SessionLog.objects.bulk_create(
        SessionLog(
            handoff=handoff,
            session_date=start + datetime.timedelta(days=2 * i),
            attendance=SessionLog.Attendance.ATTENDED,
            pain_before=i % 7,
            pain_after=(i + 2) % 7,
            rpe=4 + i % 5,
            mvpa_minutes=30 + i % 20,
            logged_by=handoff.trainer,
        )
        for i in range(count)
    )
    exercise = an_exercise()
    SessionExercise.objects.bulk_create(
        SessionExercise(
            session=log,
            prescribed_id=rx,
            exercise=exercise,
            name=exercise.name,
            load_unit=LoadUnit.KG,
            load_value=Decimal(20 + i % 10),
        )
        for i, log in enumerate(SessionLog.objects.filter(handoff=handoff).order_by("session_date", "id"))
    )
    return logs


def report(
    handoff: TrainerHandoff, *, start: datetime.date = MONDAY, end: datetime.date | None = None, **fields: Any
) -> ProgressReport:
    return ProgressReport.objects.create(
        handoff=handoff,
        period_start=start,
        period_end=end or start + datetime.timedelta(days=27),
        submitted_by=handoff.trainer,
        submitted_at=timezone.now(),
        **fields,
    )


def near_colour(pixel: tuple[int, ...], colour: str, tolerance: int = 24) -> bool:
    """Whether a rendered pixel is a chart's colour ("#rrggbb"), give or take anti-aliasing."""
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], wanted, strict=True))
