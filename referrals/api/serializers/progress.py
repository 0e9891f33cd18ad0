"""Serializers of session logs: the strict input (the ranges of progress.models, the same the service
checks) and the output, with what the guidelines say to do when the safety fast lane fired."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referrals.api.serializers.common import PersonRefSerializer, decimal_input
from referrals.care.models import LoadUnit, decimal_shape
from referrals.concerns.models import Concern
from referrals.progress import safety as progress_safety
from referrals.progress.models import (
    HEART_RATE_RANGE,
    MVPA_MINUTES_RANGE,
    SCORE_RANGE,
    SESSION_DURATION_MINUTES_RANGE,
    SESSION_HOLD_SECONDS_RANGE,
    SESSION_MAX_EXERCISES,
    SESSION_NOTE_MAX_LENGTH,
    SESSION_REPS_RANGE,
    SESSION_SETS_RANGE,
    SessionExercise,
    SessionLog,
)


def _whole(bounds: tuple[int, int], **kwargs: Any) -> serializers.IntegerField:
    low, high = bounds
    return serializers.IntegerField(
        min_value=low, max_value=high, required=False, allow_null=True, default=None, **kwargs
    )


class SessionExerciseInputSerializer(serializers.Serializer[Any]):
    prescribed_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A prescribed exercise: its id in the guidelines.",
    )
    exercise = serializers.SlugField(
        required=False,
        allow_blank=True,
        default="",
        help_text="An exercise added from the library: its slug.",
    )
    done = serializers.BooleanField(default=True)
    sets = _whole(SESSION_SETS_RANGE)
    reps = _whole(SESSION_REPS_RANGE)
    hold_seconds = _whole(SESSION_HOLD_SECONDS_RANGE)
    duration_minutes = _whole(SESSION_DURATION_MINUTES_RANGE)
    load_unit = serializers.ChoiceField(
        choices=LoadUnit.choices, required=False, allow_blank=True, default=""
    )
    load_value = decimal_input(
        **decimal_shape(SessionExercise, "load_value"),
        required=False,
        allow_null=True,
        default=None,
        help_text="In the load unit: kg up to 500, % of 1RM up to 100, RPE up to 10; none for bodyweight "
        "or a band.",
    )


class SessionInputSerializer(serializers.Serializer[Any]):
    session_date = serializers.DateField(help_text="Not in the future, not before the referral was accepted.")
    attendance = serializers.ChoiceField(choices=SessionLog.Attendance.choices)
    exercises = SessionExerciseInputSerializer(
        many=True,
        required=False,
        default=list,
        max_length=SESSION_MAX_EXERCISES,  # type: ignore[call-arg]  # ListSerializer's, not in the stubs
    )
    rpe = _whole(SCORE_RANGE, help_text="Session RPE, Borg CR10.")
    pain_before = _whole(SCORE_RANGE, help_text="Numeric rating scale, 0-10.")
    pain_after = _whole(SCORE_RANGE, help_text="Numeric rating scale, 0-10.")
    peak_heart_rate = _whole(HEART_RATE_RANGE, help_text="Beats per minute.")
    mvpa_minutes = _whole(MVPA_MINUTES_RANGE, help_text="Minutes of moderate-to-vigorous activity.")
    red_flags = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        help_text="The ids of the red flags seen.",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=SESSION_NOTE_MAX_LENGTH,
        trim_whitespace=False,
    )


class SessionExerciseSerializer(serializers.Serializer[SessionExercise]):
    prescribed_id = serializers.UUIDField(
        allow_null=True, help_text="Null for an exercise the trainer added."
    )
    exercise = serializers.SlugField(source="exercise.slug")
    name = serializers.CharField()
    done = serializers.BooleanField()
    sets = serializers.IntegerField(allow_null=True)
    reps = serializers.IntegerField(allow_null=True)
    hold_seconds = serializers.IntegerField(allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    load_unit = serializers.CharField(allow_blank=True)
    load_value = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)


class RedFlagSeenSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    description = serializers.CharField()


class AlertSerializer(serializers.Serializer[progress_safety.Alert]):
    trigger = serializers.ChoiceField(choices=["pain", "rpe", "heart_rate", "red_flag"])
    guideline_id = serializers.CharField(help_text="The precaution's or the red flag's id in the guidelines.")
    exceeded = serializers.CharField(help_text="What was logged against which limit.")
    guideline = serializers.CharField(help_text="What the guidelines say.")
    action = serializers.CharField(help_text="What to do now.")


class SessionConcernSerializer(serializers.Serializer[Concern]):
    id = serializers.UUIDField(source="public_id")
    state = serializers.ChoiceField(choices=Concern.State.choices)


class SessionSerializer(serializers.Serializer[SessionLog]):
    """A logged session, with the alerts of the safety fast lane (empty when nothing went beyond the
    guidelines) and the urgent concern they raised."""

    id = serializers.UUIDField(source="public_id")
    handoff = serializers.UUIDField(source="handoff.public_id")
    session_date = serializers.DateField()
    attendance = serializers.ChoiceField(choices=SessionLog.Attendance.choices)
    rpe = serializers.IntegerField(allow_null=True)
    pain_before = serializers.IntegerField(allow_null=True)
    pain_after = serializers.IntegerField(allow_null=True)
    peak_heart_rate = serializers.IntegerField(allow_null=True)
    mvpa_minutes = serializers.IntegerField(allow_null=True)
    red_flags_seen = RedFlagSeenSerializer(many=True)
    note = serializers.CharField(allow_blank=True)
    exercises = SessionExerciseSerializer(many=True, source="exercises.all")
    concern = SessionConcernSerializer(allow_null=True)
    alerts = serializers.SerializerMethodField()
    logged_by = PersonRefSerializer()
    created_at = serializers.DateTimeField()

    @extend_schema_field(AlertSerializer(many=True))
    def get_alerts(self, session: SessionLog) -> list[dict[str, Any]]:
        alerts: Any = progress_safety.session_alerts(session)
        return list(AlertSerializer(alerts, many=True).data)
