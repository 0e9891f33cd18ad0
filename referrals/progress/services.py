"""Writing what comes back from the gym: the trainer logs a session.

`session_log` is the one write of a session, for the page and the API alike: the policy, the validation
(field-level, nothing stored), the first attended session starting the referral, and the safety fast
lane (progress.safety), all in one transaction on the locked referral."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from referrals.care.models import LoadUnit
from referrals.common import _clean_text
from referrals.concerns import services as concerns_services
from referrals.concerns.models import CONCERN_MAX_LENGTH
from referrals.errors import Blocker, NoLongerEligible, NotPermitted
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.lifecycle import handoff_care_seen, handoff_lock
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.snapshot import guidelines_read
from referrals.library.models import Exercise
from referrals.progress import policies as progress_policies
from referrals.progress import safety as progress_safety
from referrals.progress.models import (
    HEART_RATE_RANGE,
    MVPA_MINUTES_RANGE,
    SCORE_RANGE,
    SESSION_DURATION_MINUTES_RANGE,
    SESSION_HOLD_SECONDS_RANGE,
    SESSION_LOAD_LIMITS,
    SESSION_MAX_EXERCISES,
    SESSION_NOTE_MAX_LENGTH,
    SESSION_REPS_RANGE,
    SESSION_SETS_RANGE,
    SessionExercise,
    SessionLog,
)

DOSE_RANGES: dict[str, tuple[int, int]] = {
    "sets": SESSION_SETS_RANGE,
    "reps": SESSION_REPS_RANGE,
    "hold_seconds": SESSION_HOLD_SECONDS_RANGE,
    "duration_minutes": SESSION_DURATION_MINUTES_RANGE,
}
LOAD_DIGITS = (6, 2)  # SessionExercise.load_value: max_digits, decimal_places


@dataclass(frozen=True)
class SessionExerciseInput:
    """One exercise of a logged session: a prescribed one by its id in the guidelines (`prescribed_id`),
    or one the trainer added from the library by its slug (`exercise`). A row not done carries no dose."""

    prescribed_id: uuid.UUID | str | None = None
    exercise: str = ""
    done: bool = True
    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    duration_minutes: int | None = None
    load_unit: str = ""
    load_value: Decimal | str | int | None = None


INPUT_FIELDS = frozenset(f.name for f in dataclasses.fields(SessionExerciseInput))


class _Errors(dict[str, list[str]]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _whole(errors: _Errors, field: str, value: object, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "Enter a whole number.")
        return None
    low, high = bounds
    if not low <= value <= high:
        errors.add(field, f"Give a number from {low} to {high}.")
        return None
    return value


def _row(raw: object, index: int, errors: _Errors) -> SessionExerciseInput | None:
    if isinstance(raw, SessionExerciseInput):
        return raw
    if not isinstance(raw, Mapping):
        errors.add(f"exercises.{index}", "Give each exercise as an object.")
        return None
    unknown = sorted(set(raw) - INPUT_FIELDS)
    if unknown:
        errors.add(f"exercises.{index}", f"Unknown fields: {', '.join(map(str, unknown))}.")
        return None
    return SessionExerciseInput(**raw)


def _load(errors: _Errors, prefix: str, unit: object, value: object) -> tuple[str, Decimal | None]:
    if not isinstance(unit, str) or (unit and unit not in LoadUnit.values):
        errors.add(f"{prefix}.load_unit", "Choose a load unit from the list.")
        return "", None
    if value is None or value == "":
        return unit, None
    try:
        load = Decimal(str(value)) if not isinstance(value, bool) else None
    except (InvalidOperation, ValueError):
        load = None
    _, places = LOAD_DIGITS
    exponent = load.as_tuple().exponent if load is not None and load.is_finite() else None
    if load is None or not isinstance(exponent, int) or -exponent > places:
        errors.add(f"{prefix}.load_value", f"Enter a number with at most {places} decimals.")
        return unit, None
    if unit in SESSION_LOAD_LIMITS:
        low, high = SESSION_LOAD_LIMITS[unit]
        if not low <= load <= high:
            errors.add(
                f"{prefix}.load_value",
                f"A load in {LoadUnit(unit).label} must be between {low.normalize():f} "
                f"and {high.normalize():f}.",
            )
            return unit, None
    elif unit:
        errors.add(f"{prefix}.load_value", f"A {LoadUnit(unit).label.lower()} load takes no number.")
        return unit, None
    else:
        errors.add(f"{prefix}.load_unit", "Choose the unit of the load.")
        return unit, None
    return unit, load


def _accepted_on(handoff: TrainerHandoff) -> datetime.date:
    """The local date the referral was accepted (its accept event): no session is logged before it."""
    accepted_at = (
        HandoffEvent.objects.filter(
            handoff=handoff, kind=HandoffEvent.Kind.TRANSITION, to_status=HandoffStatus.ACCEPTED
        )
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    )
    when = accepted_at or handoff.sent_at or handoff.created_at
    return timezone.localtime(when).date()


def _exercises(
    rows: Sequence[SessionExerciseInput], guidelines: Mapping[str, Any], attended: bool, errors: _Errors
) -> list[SessionExercise]:
    prescribed = {str(item.get("id")): item for item in guidelines.get("exercises") or []}
    slugs = {str(p.get("library_slug") or "") for p in prescribed.values()} | {r.exercise for r in rows}
    names = {str(p.get("name") or "") for p in prescribed.values() if not p.get("library_slug")}
    library = list(Exercise.objects.filter(Q(slug__in=slugs - {""}) | Q(name__in=names - {""})))
    by_slug = {e.slug: e for e in library}
    by_name = {e.name: e for e in library}
    seen: set[str] = set()
    out: list[SessionExercise] = []
    for i, row in enumerate(rows):
        prefix = f"exercises.{i}"
        done: object = row.done
        if not isinstance(done, bool):
            errors.add(f"{prefix}.done", "Expected true or false.")
            continue
        if row.done and not attended:
            errors.add(f"{prefix}.done", "The client did not attend: no exercise was done.")
        exercise: Exercise | None = None
        prescribed_id: uuid.UUID | None = None
        name = ""
        if row.prescribed_id not in (None, "") and row.exercise:
            errors.add(prefix, "Give the prescribed exercise or a library exercise, not both.")
            continue
        if row.prescribed_id not in (None, ""):
            key = str(row.prescribed_id).lower()
            item = prescribed.get(key)
            if item is None:
                errors.add(f"{prefix}.prescribed_id", "Not an exercise of this referral's guidelines.")
                continue
            if key in seen:
                errors.add(f"{prefix}.prescribed_id", "This exercise is logged twice: keep one row.")
                continue
            seen.add(key)
            prescribed_id, name = uuid.UUID(key), str(item.get("name") or "")
            exercise = by_slug.get(str(item.get("library_slug") or "")) or by_name.get(name)
            if exercise is None:
                errors.add(f"{prefix}.prescribed_id", "This exercise is no longer in the library.")
                continue
        elif isinstance(row.exercise, str) and row.exercise:
            exercise = by_slug.get(row.exercise)
            if exercise is None:
                errors.add(f"{prefix}.exercise", "No such exercise in the library.")
                continue
            if exercise.retired_at is not None:
                errors.add(f"{prefix}.exercise", "This exercise was retired from the library.")
                continue
            name = exercise.name
        else:
            errors.add(f"{prefix}.exercise", "Name the exercise: a prescribed one or one from the library.")
            continue
        doses = {f: _whole(errors, f"{prefix}.{f}", getattr(row, f), b) for f, b in DOSE_RANGES.items()}
        unit, load = _load(errors, prefix, row.load_unit, row.load_value)
        if not row.done:  # a row not done carries no dose
            doses = dict.fromkeys(doses)
            unit, load = "", None
        out.append(
            SessionExercise(
                position=i,
                prescribed_id=prescribed_id,
                exercise=exercise,
                name=name[:200],
                done=row.done,
                load_unit=unit,
                load_value=load,
                **doses,
            )
        )
    return out


@dataclass
class _Clean:
    session: SessionLog
    exercises: list[SessionExercise]
    alerts: list[progress_safety.Alert]


def _validated(
    *,
    handoff: TrainerHandoff,
    guidelines: Mapping[str, Any],
    session_date: object,
    attendance: object,
    exercises: Iterable[object],
    scores: dict[str, object],
    red_flags: Iterable[object],
    note: object,
) -> _Clean:
    errors = _Errors()
    if attendance not in SessionLog.Attendance.values:
        errors.add("attendance", "Choose attended, no-show, cancelled by the client or by the gym.")
    attended = attendance == SessionLog.Attendance.ATTENDED
    day: datetime.date | None = None
    if not isinstance(session_date, datetime.date) or isinstance(session_date, datetime.datetime):
        errors.add("session_date", "Enter a date.")
    elif session_date > timezone.localdate():
        errors.add("session_date", "The session date cannot be in the future.")
    elif session_date < (accepted := _accepted_on(handoff)):
        errors.add(
            "session_date",
            f"The session date cannot be before the referral was accepted ({accepted:%Y-%m-%d}).",
        )
    else:
        day = session_date
    ranges = {
        "rpe": SCORE_RANGE,
        "pain_before": SCORE_RANGE,
        "pain_after": SCORE_RANGE,
        "peak_heart_rate": HEART_RATE_RANGE,
        "mvpa_minutes": MVPA_MINUTES_RANGE,
    }
    values = {name: _whole(errors, name, scores[name], bounds) for name, bounds in ranges.items()}
    if attendance in SessionLog.Attendance.values and not attended:
        for name in ("rpe", "peak_heart_rate", "mvpa_minutes"):
            if values[name] is not None:
                errors.add(
                    name, "Only an attended session has an effort, a heart rate or minutes of activity."
                )
    raw_rows = list(exercises)
    rows: list[SessionExerciseInput] = []
    if len(raw_rows) > SESSION_MAX_EXERCISES:
        errors.add("exercises", f"Log at most {SESSION_MAX_EXERCISES} exercises in one session.")
    else:
        rows = [r for i, raw in enumerate(raw_rows) if (r := _row(raw, i, errors)) is not None]
    exercise_rows = _exercises(rows, guidelines, attended, errors) if len(rows) == len(raw_rows) else []
    flags = {str(flag.get("id")): flag for flag in guidelines.get("red_flags") or []}
    seen: list[dict[str, str]] = []
    for flag_id in red_flags:
        key = str(flag_id).lower()
        if key not in flags:
            errors.add("red_flags", "Tick only the red flags of this referral's guidelines.")
            break
        if any(s["id"] == key for s in seen):
            errors.add("red_flags", "A red flag is ticked twice.")
            break
        seen.append({"id": key, "description": str(flags[key].get("description", ""))})
    try:
        text = _clean_text(note, field="note", required=False, max_length=SESSION_NOTE_MAX_LENGTH)
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
        text = ""
    if errors or day is None:
        raise ValidationError(dict(errors))
    session = SessionLog(
        handoff=handoff,
        session_date=day,
        attendance=str(attendance),
        red_flags_seen=seen,
        note=text,
        **values,
    )
    alerts = progress_safety.safety_alerts(
        guidelines=guidelines,
        session_date=day,
        rpe=session.rpe,
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        peak_heart_rate=session.peak_heart_rate,
        red_flags=seen,
    )
    return _Clean(session=session, exercises=exercise_rows, alerts=alerts)


def session_log(
    *,
    handoff: TrainerHandoff,
    actor: User,
    session_date: datetime.date,
    attendance: str,
    exercises: Sequence[SessionExerciseInput | Mapping[str, Any]],
    rpe: int | None = None,
    pain_before: int | None = None,
    pain_after: int | None = None,
    peak_heart_rate: int | None = None,
    mvpa_minutes: int | None = None,
    red_flags: Iterable[uuid.UUID | str] = (),
    note: str = "",
) -> SessionLog:
    """The trainer logs a session of an accepted or in-progress referral (progress.policies.can_log_session,
    else NotPermitted). Bad input is a ValidationError naming each field (`exercises.<n>.<field>` for a
    row), and nothing is stored.

    The first attended session of an accepted referral starts it, by the start action's own step
    (handoffs.services.handoff_start_locked: the eligibility checked again, the start event, the clinic
    told). When the referral is no longer eligible the start's refusal is recorded and committed (the PT
    told) and NoLongerEligible is raised: the session is not stored, neither half nor whole (a session that
    would have been the first of a referral its trainer may no longer take on); its safety alerts wait for
    the trainer's concern, which the referral page still offers. A no-show or a cancellation moves nothing.

    The safety fast lane (progress.safety.safety_alerts): a pain above the plan's pain rule, an RPE or a
    heart rate above an effort cap, or a ticked red flag raises one urgent concern to the PT in the same
    transaction (concerns.services.concern_raise_locked), saying what was exceeded, linked as the
    session's `concern`."""
    refused: list[Blocker] = []
    with transaction.atomic():
        locked = handoff_lock(handoff)
        if not progress_policies.can_log_session(actor, locked):
            raise NotPermitted(
                "Only the referral's trainer logs its sessions, while it is accepted or in progress and the "
                "client's consent stands."
            )
        guidelines = guidelines_read(locked.snapshot, handoff_public_id=locked.public_id) or {}
        clean = _validated(
            handoff=locked,
            guidelines=guidelines,
            session_date=session_date,
            attendance=attendance,
            exercises=exercises,
            scores={
                "rpe": rpe,
                "pain_before": pain_before,
                "pain_after": pain_after,
                "peak_heart_rate": peak_heart_rate,
                "mvpa_minutes": mvpa_minutes,
            },
            red_flags=red_flags,
            note=note,
        )
        session = clean.session
        if session.attended and locked.status == HandoffStatus.ACCEPTED:
            refused = handoffs_services.handoff_start_locked(handoff=locked, actor=actor)
        if not refused:
            if clean.alerts:
                text = progress_safety.concern_text(session.session_date, clean.alerts)
                session.concern = concerns_services.concern_raise_locked(
                    handoff=locked, actor=actor, text=text[:CONCERN_MAX_LENGTH]
                )
            session.logged_by = actor
            session.save()
            for row in clean.exercises:
                row.session = session
            SessionExercise.objects.bulk_create(clean.exercises)
            handoff_care_seen(locked, session.session_date)
    if refused:
        raise NoLongerEligible(refused)
    session.handoff = locked
    return session
