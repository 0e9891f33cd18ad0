"""Serializers of the care area."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from referrals.api.serializers.common import (
    OrganizationRefSerializer,
    PersonRefSerializer,
    UpperCodeField,
    _dose,
    _rows_error,
    _text,
    decimal_input,
    either_case,
    or_blank,
)
from referrals.care.models import (
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    REPORT_INTERVAL_DEFAULT,
    REPORT_INTERVAL_WEEKS,
    Consent,
    LoadUnit,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TreatmentPlan,
    decimal_shape,
    icd10_validator,
    tempo_validator,
)
from referrals.common import text_limit
from referrals.library.models import BodyRegion

# --- patients ------------------------------------------------------------------------------------------


class PatientSerializer(serializers.Serializer[Patient]):
    id = serializers.UUIDField(source="public_id")
    clinic = OrganizationRefSerializer()
    full_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    email = serializers.EmailField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PatientInputSerializer(serializers.Serializer[Any]):
    clinic = serializers.UUIDField(
        required=False, help_text="The clinic's id; needed only when you work for more than one clinic."
    )
    full_name = _text(Patient, "full_name")
    date_of_birth = serializers.DateField()
    email = serializers.EmailField(max_length=text_limit(Patient, "email"), required=False, allow_blank=True)
    phone = _text(Patient, "phone", required=False, allow_blank=True)
    confirm_distinct = serializers.BooleanField(
        default=False,
        help_text="The clinic has a patient with this name and date of birth (a 409 duplicate_patient named "
        "them) and this is a different person: add them anyway.",
    )


class PatientUpdateSerializer(serializers.Serializer[Any]):
    full_name = _text(Patient, "full_name", required=False)
    date_of_birth = serializers.DateField(required=False)
    email = serializers.EmailField(max_length=text_limit(Patient, "email"), required=False, allow_blank=True)
    phone = _text(Patient, "phone", required=False, allow_blank=True)


# --- plans ---------------------------------------------------------------------------------------------


class PlanExerciseSerializer(serializers.Serializer[PlanExercise]):
    exercise = serializers.IntegerField(source="exercise_id", help_text="The library exercise's id.")
    exercise_name = serializers.CharField(source="exercise.name")
    position = serializers.IntegerField()
    sets = serializers.IntegerField()
    reps = serializers.IntegerField(allow_null=True)
    hold_seconds = serializers.IntegerField(allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    load_unit = serializers.CharField(allow_blank=True)
    load_value = serializers.DecimalField(**decimal_shape(PlanExercise, "load_value"), allow_null=True)
    frequency_per_week = serializers.IntegerField()
    tempo = serializers.CharField(allow_blank=True)
    rest_seconds = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    progression_note = serializers.CharField(allow_blank=True)
    dose = serializers.CharField(source="dose_text")


class PrecautionSerializer(serializers.Serializer[Precaution]):
    kind = serializers.CharField()
    body_region = serializers.CharField(allow_blank=True)
    limit_value = serializers.DecimalField(**decimal_shape(Precaution, "limit_value"), allow_null=True)
    limit_unit = serializers.CharField(allow_blank=True)
    weight_bearing = serializers.CharField(allow_blank=True)
    valid_until = serializers.DateField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)
    summary = serializers.CharField()


class PlanSerializer(serializers.Serializer[TreatmentPlan]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    physiotherapist = PersonRefSerializer()
    diagnosis = serializers.CharField()
    icd10_code = serializers.CharField(allow_blank=True)
    goals = serializers.CharField()
    start_date = serializers.DateField()
    report_interval_weeks = serializers.IntegerField(
        help_text="How often a progress report is due, in weeks."
    )
    status = serializers.ChoiceField(choices=TreatmentPlan.Status.choices)
    discharged_at = serializers.DateTimeField(allow_null=True)
    exercises = PlanExerciseSerializer(many=True)
    precautions = PrecautionSerializer(many=True)
    red_flags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_red_flags(self, plan: TreatmentPlan) -> list[str]:
        return [flag.description for flag in plan.red_flags.all()]


class PlanExerciseInputSerializer(serializers.Serializer[Any]):
    exercise = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="A library exercise id.")
    sets = _dose("sets", required=False)
    reps = _dose("reps", required=False, allow_null=True)
    hold_seconds = _dose("hold_seconds", required=False, allow_null=True)
    duration_minutes = _dose("duration_minutes", required=False, allow_null=True)
    load_unit = serializers.ChoiceField(choices=LoadUnit.choices, required=False, allow_blank=True)
    load_value = decimal_input(**decimal_shape(PlanExercise, "load_value"), required=False, allow_null=True)
    frequency_per_week = _dose("frequency_per_week", required=False)
    tempo = _text(
        PlanExercise, "tempo", required=False, allow_blank=True, validators=[or_blank(tempo_validator)]
    )
    rest_seconds = _dose("rest_seconds", required=False, allow_null=True)
    notes = _text(PlanExercise, "notes", required=False, allow_blank=True)
    progression_note = _text(PlanExercise, "progression_note", required=False, allow_blank=True)


class PrecautionInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=Precaution.Kind.choices)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices, required=False, allow_blank=True)
    limit_value = decimal_input(**decimal_shape(Precaution, "limit_value"), required=False, allow_null=True)
    limit_unit = serializers.ChoiceField(choices=Precaution.Unit.choices, required=False, allow_blank=True)
    weight_bearing = serializers.ChoiceField(
        choices=Precaution.WeightBearing.choices, required=False, allow_blank=True
    )
    valid_until = serializers.DateField(required=False, allow_null=True)
    detail = _text(Precaution, "detail", required=False, allow_blank=True)


class PlanUpdateSerializer(serializers.Serializer[Any]):
    """Partial update. A list given (exercises, precautions, red_flags) replaces the plan's rows."""

    diagnosis = _text(TreatmentPlan, "diagnosis", required=False)
    icd10_code = UpperCodeField(
        max_length=text_limit(TreatmentPlan, "icd10_code"),
        required=False,
        allow_blank=True,
        validators=[or_blank(either_case(icd10_validator))],
    )
    goals = _text(TreatmentPlan, "goals", required=False)
    start_date = serializers.DateField(required=False)
    report_interval_weeks = serializers.IntegerField(
        min_value=REPORT_INTERVAL_WEEKS[0],
        max_value=REPORT_INTERVAL_WEEKS[1],
        required=False,
        help_text=f"How often the trainer sends a progress report, in weeks ({REPORT_INTERVAL_WEEKS[0]}-"
        f"{REPORT_INTERVAL_WEEKS[1]}; {REPORT_INTERVAL_DEFAULT} for a new plan without it).",
    )
    # Too many rows are refused before any is parsed, with the service's message.
    exercises: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=PlanExerciseInputSerializer(),
        required=False,
        max_length=PLAN_MAX_EXERCISES,
        error_messages=_rows_error("exercises"),
    )
    precautions: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=PrecautionInputSerializer(),
        required=False,
        max_length=PLAN_MAX_PRECAUTIONS,
        error_messages=_rows_error("precautions"),
    )
    red_flags = serializers.ListField(
        child=_text(RedFlag, "description"),
        required=False,
        max_length=PLAN_MAX_RED_FLAGS,
        error_messages=_rows_error("red_flags"),
    )


class PlanInputSerializer(PlanUpdateSerializer):
    """A new plan: the update's fields, with the patient, the diagnosis and the goals required."""

    patient = serializers.UUIDField(help_text="The patient's id.")
    diagnosis = _text(TreatmentPlan, "diagnosis")
    goals = _text(TreatmentPlan, "goals")


# --- consents ------------------------------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer[Consent]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    gym = OrganizationRefSerializer()
    scope = serializers.ChoiceField(choices=Consent.Scope.choices)
    active = serializers.BooleanField(source="is_active")
    recorded_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)


class ConsentInputSerializer(serializers.Serializer[Any]):
    patient = serializers.UUIDField()
    gym = serializers.UUIDField(help_text="The id of a partner gym.")
    scope = serializers.ChoiceField(choices=Consent.Scope.choices)


class ConsentWithdrawSerializer(serializers.Serializer[Any]):
    reason = _text(Consent, "withdrawal_reason", required=False, allow_blank=True)
