"""Logging a session (progress.services.session_log): the policy, each validation, the first attended
session starting the referral, and the safety fast lane's urgent concern."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Certification, User
from referrals.care import services as care_services
from referrals.care.models import Consent, LoadUnit, Precaution
from referrals.concerns import services as concerns_services
from referrals.concerns.models import Concern
from referrals.errors import NoLongerEligible, NotPermitted
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.library.models import Exercise
from referrals.notify.models import Notification, OutboxMessage
from referrals.progress import safety as progress_safety
from referrals.progress import services as progress_services
from referrals.progress.models import SessionExercise, SessionLog
from tests.conftest import World
from tests.progress.conftest import guidelines, log, typical_rows, yesterday

S = HandoffStatus


def _nothing_stored(handoff: TrainerHandoff) -> None:
    assert not SessionLog.objects.filter(handoff=handoff).exists()
    assert not SessionExercise.objects.exists()
    assert not Concern.objects.filter(handoff=handoff).exists()


def _row(handoff: TrainerHandoff, **changes: Any) -> list[dict[str, Any]]:
    rows = typical_rows(handoff)
    rows[0].update(changes)
    return rows


def _retired() -> Exercise:
    exercise = Exercise.objects.filter(retired_at__isnull=True).order_by("-name").first()
    assert exercise is not None
    exercise.retired_at = timezone.now()
    exercise.save(update_fields=["retired_at"])
    return exercise


# each bad input -> that field's error, and nothing stored
BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("pain 11", lambda h: {"pain_after": 11}, "pain_after"),
    ("pain -1", lambda h: {"pain_before": -1}, "pain_before"),
    ("rpe 12", lambda h: {"rpe": 12}, "rpe"),
    ("rpe not a number", lambda h: {"rpe": "hard"}, "rpe"),
    ("heart rate 400", lambda h: {"peak_heart_rate": 400}, "peak_heart_rate"),
    ("minutes 601", lambda h: {"mvpa_minutes": 601}, "mvpa_minutes"),
    ("attendance unknown", lambda h: {"attendance": "late"}, "attendance"),
    (
        "date in the future",
        lambda h: {"session_date": timezone.localdate() + datetime.timedelta(days=1)},
        "session_date",
    ),
    (
        "date before accepted",
        lambda h: {"session_date": timezone.localdate() - datetime.timedelta(days=30)},
        "session_date",
    ),
    ("date not a date", lambda h: {"session_date": "yesterday"}, "session_date"),
    (
        "12,000 kg",
        lambda h: {"exercises": _row(h, load_unit=LoadUnit.KG, load_value="12000")},
        "exercises.0.load_value",
    ),
    (
        "% of 1RM 120",
        lambda h: {"exercises": _row(h, load_unit=LoadUnit.PERCENT_1RM, load_value=120)},
        "exercises.0.load_value",
    ),
    (
        "bodyweight with a number",
        lambda h: {"exercises": _row(h, load_unit=LoadUnit.BODYWEIGHT, load_value=10)},
        "exercises.0.load_value",
    ),
    ("load without a unit", lambda h: {"exercises": _row(h, load_value=10)}, "exercises.0.load_unit"),
    (
        "load with 3 decimals",
        lambda h: {"exercises": _row(h, load_unit=LoadUnit.KG, load_value="2.125")},
        "exercises.0.load_value",
    ),
    ("unknown load unit", lambda h: {"exercises": _row(h, load_unit="stone")}, "exercises.0.load_unit"),
    ("sets 21", lambda h: {"exercises": _row(h, sets=21)}, "exercises.0.sets"),
    ("reps 201", lambda h: {"exercises": _row(h, reps=201)}, "exercises.0.reps"),
    ("hold 901 s", lambda h: {"exercises": _row(h, hold_seconds=901)}, "exercises.0.hold_seconds"),
    (
        "duration 301 min",
        lambda h: {"exercises": _row(h, duration_minutes=301)},
        "exercises.0.duration_minutes",
    ),
    (
        "prescribed id not in the snapshot",
        lambda h: {"exercises": _row(h, prescribed_id=str(uuid.uuid4()))},
        "exercises.0.prescribed_id",
    ),
    (
        "prescribed twice",
        lambda h: {"exercises": [typical_rows(h)[0], typical_rows(h)[0]]},
        "exercises.1.prescribed_id",
    ),
    (
        "added exercise unknown",
        lambda h: {"exercises": [{"exercise": "no-such-exercise"}]},
        "exercises.0.exercise",
    ),
    (
        "added exercise retired",
        lambda h: {"exercises": [{"exercise": _retired().slug}]},
        "exercises.0.exercise",
    ),
    ("neither prescribed nor added", lambda h: {"exercises": [{"done": True}]}, "exercises.0.exercise"),
    (
        "unknown row field",
        lambda h: {"exercises": [{"prescribed_id": typical_rows(h)[0]["prescribed_id"], "weight": 3}]},
        "exercises.0",
    ),
    ("too many rows", lambda h: {"exercises": [{"exercise": "x"}] * 81}, "exercises"),
    ("red flag not in the snapshot", lambda h: {"red_flags": [str(uuid.uuid4())]}, "red_flags"),
    ("note too long", lambda h: {"note": "x" * 2001}, "note"),
    (
        "no-show with exercises done",
        lambda h: {"attendance": "no_show", "rpe": None, "mvpa_minutes": None},
        "exercises.0.done",
    ),
    (
        "no-show with an effort",
        lambda h: {"attendance": "no_show", "exercises": [], "mvpa_minutes": None},
        "rpe",
    ),
]


@pytest.mark.parametrize(("case", "changes", "field"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_each_bad_field_is_named_and_nothing_is_stored(
    accepted: TrainerHandoff, world: World, case: str, changes: Any, field: str
) -> None:
    if case == "date before accepted":
        HandoffEvent.objects.filter(handoff=accepted, to_status=S.ACCEPTED).update(
            created_at=timezone.now() - datetime.timedelta(days=3)
        )
    with pytest.raises(ValidationError) as caught:
        log(accepted, world.trainer, **changes(accepted))
    assert field in caught.value.message_dict, caught.value.message_dict
    _nothing_stored(accepted)
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED


def test_a_date_on_the_day_of_acceptance_in_local_time_is_accepted(
    accepted: TrainerHandoff, world: World
) -> None:
    accepted_at = timezone.now() - datetime.timedelta(days=2)
    HandoffEvent.objects.filter(handoff=accepted, to_status=S.ACCEPTED).update(created_at=accepted_at)
    session = log(accepted, world.trainer, session_date=timezone.localtime(accepted_at).date())
    assert session.session_date == timezone.localtime(accepted_at).date()
    with pytest.raises(ValidationError) as caught:
        log(
            accepted,
            world.trainer,
            session_date=timezone.localtime(accepted_at).date() - datetime.timedelta(days=1),
        )
    assert "before the referral was accepted" in caught.value.message_dict["session_date"][0]


def test_a_typical_session_stores_each_exercise_with_its_name_from_the_guidelines(
    accepted: TrainerHandoff, world: World
) -> None:
    added = Exercise.objects.filter(retired_at__isnull=True).order_by("-name").first()
    assert added is not None
    rows = typical_rows(accepted)
    rows[1]["done"] = False
    rows.append({"exercise": added.slug, "sets": 2, "reps": 10, "load_unit": "kg", "load_value": "7.5"})
    session = log(accepted, world.trainer, exercises=rows, note="  Good session.  ")
    stored = list(session.exercises.order_by("position"))
    names = [item["name"] for item in guidelines(accepted)["exercises"]]
    assert [e.name for e in stored] == [*names, added.name]
    assert [str(e.prescribed_id) if e.prescribed_id else None for e in stored] == [
        rows[0]["prescribed_id"],
        rows[1]["prescribed_id"],
        None,
    ]
    assert stored[1].done is False and stored[1].sets is None and stored[1].hold_seconds is None
    assert stored[2].added and stored[2].load_value == 7.5 and stored[2].load_unit == "kg"
    assert session.note == "Good session." and session.logged_by == world.trainer
    assert session.concern is None


def test_the_first_attended_session_starts_the_referral_with_the_start_event(
    accepted: TrainerHandoff, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        log(accepted, world.trainer)
    accepted.refresh_from_db()
    assert accepted.status == S.IN_PROGRESS
    start = HandoffEvent.objects.get(handoff=accepted, to_status=S.IN_PROGRESS)
    assert (start.kind, start.from_status, start.actor) == (
        HandoffEvent.Kind.TRANSITION,
        S.ACCEPTED,
        world.trainer,
    )
    # a second session moves nothing more
    log(accepted, world.trainer)
    assert HandoffEvent.objects.filter(handoff=accepted, to_status=S.IN_PROGRESS).count() == 1


@pytest.mark.parametrize("attendance", ["no_show", "cancelled_client", "cancelled_gym"])
def test_a_session_not_attended_does_not_start_the_referral(
    accepted: TrainerHandoff, world: World, attendance: str
) -> None:
    session = log(accepted, world.trainer, attendance=attendance, exercises=[], rpe=None, mvpa_minutes=None)
    assert session.attendance == attendance and session.exercises.count() == 0
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED
    assert not HandoffEvent.objects.filter(handoff=accepted, to_status=S.IN_PROGRESS).exists()


def test_when_the_start_is_refused_the_refusal_is_recorded_and_the_session_is_not_stored(
    accepted: TrainerHandoff, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NoLongerEligible) as caught:
        log(accepted, world.trainer, pain_after=9)
    assert caught.value.codes == ["certification_expired"]
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED
    _nothing_stored(accepted)
    refusal = HandoffEvent.objects.get(handoff=accepted, kind=HandoffEvent.Kind.REFUSAL)
    assert refusal.text.startswith("Could not start:")  # recorded as the start action's refusal is
    assert Notification.objects.filter(event=refusal, recipient=world.physio).exists()


def test_a_no_show_is_logged_even_when_the_trainer_could_no_longer_start(
    accepted: TrainerHandoff, world: World
) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    log(accepted, world.trainer, attendance="no_show", exercises=[], rpe=None, mvpa_minutes=None)
    assert SessionLog.objects.filter(handoff=accepted).count() == 1
    assert not HandoffEvent.objects.filter(handoff=accepted, kind=HandoffEvent.Kind.REFUSAL).exists()


# --- the safety fast lane ------------------------------------------------------------------------------


def _flag_id(handoff: TrainerHandoff) -> str:
    return str(guidelines(handoff)["red_flags"][0]["id"])


TRIGGERS: list[tuple[str, Any, str, str]] = [
    (
        "pain before above the rule",
        lambda h: {"pain_before": 6},
        "pain",
        "Pain before the session 6 is above the pain rule's 5.",
    ),
    (
        "pain after above the rule",
        lambda h: {"pain_after": 8},
        "pain",
        "Pain after the session 8 is above the pain rule's 5.",
    ),
    ("rpe above the cap", lambda h: {"rpe": 8}, "rpe", "Session RPE 8 is above the effort cap's RPE 7."),
    (
        "heart rate above the cap",
        lambda h: {"peak_heart_rate": 151},
        "heart_rate",
        "Peak heart rate 151 bpm is above the effort cap's 150 bpm.",
    ),
    (
        "a red flag ticked",
        lambda h: {"red_flags": [_flag_id(h)]},
        "red_flag",
        "Red flag seen: Night pain or numbness down the arm",
    ),
]


@pytest.mark.parametrize(("case", "changes", "trigger", "text"), TRIGGERS, ids=[t[0] for t in TRIGGERS])
def test_each_trigger_raises_exactly_one_urgent_concern_to_the_pt(
    accepted: TrainerHandoff,
    world: World,
    django_capture_on_commit_callbacks: Any,
    case: str,
    changes: Any,
    trigger: str,
    text: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        session = log(accepted, world.trainer, **changes(accepted))
    concern = Concern.objects.get(handoff=accepted)
    assert session.concern == concern
    assert concern.state == Concern.State.RAISED and not concern.put_on_hold
    assert concern.event.urgent and concern.event.kind == HandoffEvent.Kind.CONCERN
    assert text in concern.event.text
    notes = Notification.objects.filter(event=concern.event)
    assert [(n.recipient, n.urgent) for n in notes] == [(world.physio, True)]
    assert "pain" not in notes[0].title.lower() and "heart" not in notes[0].title.lower()
    assert OutboxMessage.objects.filter(event=concern.event, recipient=world.physio).count() == 1
    alerts = progress_safety.session_alerts(session)
    assert [a.trigger for a in alerts] == [trigger]
    assert alerts[0].action == progress_safety.STOP_GUIDANCE and alerts[0].guideline


def test_values_at_the_limits_raise_nothing(accepted: TrainerHandoff, world: World) -> None:
    session = log(accepted, world.trainer, pain_before=5, pain_after=5, rpe=7, peak_heart_rate=150)
    assert session.concern is None and progress_safety.session_alerts(session) == []
    assert not Concern.objects.exists()
    assert not Notification.objects.filter(event__kind=HandoffEvent.Kind.CONCERN).exists()


def test_several_triggers_raise_one_concern_naming_each(accepted: TrainerHandoff, world: World) -> None:
    session = log(accepted, world.trainer, pain_after=9, rpe=10, red_flags=[_flag_id(accepted)])
    assert Concern.objects.count() == 1
    assert session.concern is not None
    text = session.concern.event.text
    assert "Pain after" in text and "RPE 10" in text and "Red flag" in text
    assert [a.trigger for a in progress_safety.session_alerts(session)] == ["pain", "rpe", "red_flag"]


def test_a_pain_rule_that_ended_before_the_session_date_does_not_fire(
    accepted: TrainerHandoff, world: World
) -> None:
    snapshot = dict(accepted.snapshot or {})
    snapshot["precautions"] = [
        {**p, "valid_until": (timezone.localdate() - datetime.timedelta(days=1)).isoformat()}
        if p["kind"] == Precaution.Kind.PAIN_RULE
        else p
        for p in snapshot["precautions"]
    ]
    TrainerHandoff.objects.filter(pk=accepted.pk).update(snapshot=snapshot)
    session = log(accepted, world.trainer, pain_after=9)
    assert session.concern is None


def test_the_concern_life_cycle_applies_to_a_fast_lane_concern(
    accepted: TrainerHandoff, world: World
) -> None:
    session = log(accepted, world.trainer, pain_after=9)
    assert session.concern is not None
    resolved = concerns_services.concern_resolve(concern=session.concern, actor=world.physio, note="Seen.")
    assert resolved.state == Concern.State.RESOLVED


# --- who may log --------------------------------------------------------------------------------------


def test_the_physio_cannot_log_a_session(accepted: TrainerHandoff, world: World) -> None:
    with pytest.raises(NotPermitted):
        log(accepted, world.physio)
    _nothing_stored(accepted)


def test_another_trainer_cannot_log_a_session(accepted: TrainerHandoff, other_trainer: User) -> None:
    with pytest.raises(NotPermitted):
        log(accepted, other_trainer)


def test_a_session_cannot_be_logged_on_a_requested_referral(requested: TrainerHandoff, world: World) -> None:
    with pytest.raises(NotPermitted):
        log(requested, world.trainer)


def test_after_consent_withdrawal_the_trainer_cannot_log(accepted: TrainerHandoff, world: World) -> None:
    assert accepted.consent is not None
    care_services.consent_withdraw(consent=accepted.consent, actor=world.physio, reason="Asked.")
    with pytest.raises(NotPermitted):
        log(accepted, world.trainer)
    _nothing_stored(accepted)


def test_consent_withdrawn_on_a_referral_in_progress_refuses_the_log(
    accepted: TrainerHandoff, world: World
) -> None:
    log(accepted, world.trainer)
    assert accepted.consent is not None
    Consent.objects.filter(pk=accepted.consent.pk).update(withdrawn_at=timezone.now())
    with pytest.raises(NotPermitted):
        log(accepted, world.trainer, pain_after=9)
    assert SessionLog.objects.filter(handoff=accepted).count() == 1
    assert not Concern.objects.exists()


def test_handoff_raise_concern_still_works_alone(accepted: TrainerHandoff, world: World) -> None:
    handoffs_services.handoff_start(handoff=accepted, actor=world.trainer)
    event = concerns_services.handoff_raise_concern(
        handoff=accepted, actor=world.trainer, text="Knee.", hold=True
    )
    assert event.concern.put_on_hold
    accepted.refresh_from_db()
    assert accepted.status == S.ON_HOLD


def test_session_log_takes_dataclass_rows(accepted: TrainerHandoff, world: World) -> None:
    row = typical_rows(accepted)[0]
    session = progress_services.session_log(
        handoff=accepted,
        actor=world.trainer,
        session_date=timezone.localdate(),
        attendance="attended",
        exercises=[
            progress_services.SessionExerciseInput(prescribed_id=row["prescribed_id"], sets=2, reps=8)
        ],
    )
    only = session.exercises.get()
    assert (only.sets, only.reps, only.done) == (2, 8, True)
