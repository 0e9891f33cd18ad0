"""Input serializers (parse and validate: types, lengths, enums) and output serializers (render)."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Certification, Membership, Organization, Specialization, User
from referrals import policies, selectors
from referrals.models import (
    CONCERN_MAX_LENGTH,
    CONCERN_NOTE_MAX_LENGTH,
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    REASON_MAX_LENGTH,
    BodyRegion,
    Concern,
    Consent,
    Exercise,
    HandoffEvent,
    HandoffStatus,
    LoadUnit,
    Notification,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TrainerHandoff,
    TreatmentPlan,
    decimal_shape,
    dose_bounds,
    icd10_validator,
    tempo_validator,
    text_limit,
)
from referrals.services import row_cap_message

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


def _text(model: type[Any], name: str, **kwargs: Any) -> serializers.CharField:
    """A text input with the model field's own limit: the API, the pages and the admin share it."""
    return serializers.CharField(max_length=text_limit(model, name), **kwargs)


def _dose(name: str, **kwargs: Any) -> serializers.IntegerField:
    """A dose input with the model's range (referrals.models.DOSE_LIMITS), documented in the schema."""
    low, high = dose_bounds(name)
    return serializers.IntegerField(min_value=low, max_value=high, **kwargs)


def _rows_error(key: str) -> dict[str, str | StrPromise]:
    return {"max_length": row_cap_message(key)}


def or_blank(model_rule: RegexValidator) -> RegexValidator:
    """The model's regex rule of an optional text, said in the schema too (drf-spectacular writes a
    RegexValidator as the field's `pattern`): one rule, read from the model, and empty is no value."""
    regex = model_rule.regex
    core = (regex if isinstance(regex, str) else regex.pattern).removeprefix("^").removesuffix("$")
    return RegexValidator(rf"^(?:{core})?$", model_rule.message)


def either_case(model_rule: RegexValidator) -> RegexValidator:
    """The model's rule of an upper-case code (ICD-10) taking lower case too, as the service upper-cases
    what it is given: each character class of the model's pattern gets its letters' lower case."""
    regex = model_rule.regex
    pattern = regex if isinstance(regex, str) else regex.pattern

    def both(match: re.Match[str]) -> str:
        letters = re.findall(r"[A-Z]-[A-Z]|[A-Z]", match[1])
        return f"[{match[1]}{''.join(letters).lower()}]"

    return RegexValidator(re.sub(r"\[([^\]]*)\]", both, pattern), model_rule.message)


class UpperCodeField(serializers.CharField):
    """A code written in any letter case and read in upper case (as the pages and the service do)."""

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(data)).upper()


def decimal_input(*, max_digits: int, decimal_places: int, **kwargs: Any) -> serializers.DecimalField:
    """A non-negative decimal, written as text (`"2.5"`), exactly as the schema's pattern says: the
    pattern the server enforces is the one it documents (DRF alone would accept `"1e2"` and document
    `"-"`, `""` and `"."` as valid)."""
    whole = max_digits - decimal_places
    pattern = rf"^\d{{1,{whole}}}(\.\d{{1,{decimal_places}}})?$"

    @extend_schema_field({"type": "string", "format": "decimal", "pattern": pattern})
    class ExactDecimalField(serializers.DecimalField):
        def to_internal_value(self, data: Any) -> Any:
            if isinstance(data, str) and not re.fullmatch(pattern, data):
                self.fail("invalid")
            return super().to_internal_value(data)

    return ExactDecimalField(max_digits=max_digits, decimal_places=decimal_places, min_value=0, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time WITH its offset (`Z` or `+01:00`), as every `updated_at` the API
    answers is. A naive one is refused rather than guessed (UTC? the clinic's zone? the client's?): a
    poll that silently shifted by an hour would miss changes. In a query string the `+` of an offset
    must be URL-encoded (`%2B`), or a space arrives instead; `Z` needs no encoding."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its offset, e.g. 2026-01-31T09:00:00Z.",
        "naive": "Give the offset too (Z or +01:00, URL-encoded as %2B01:00): a time without one is "
        "ambiguous.",
        "overflow": "This date and time is out of range.",
    }

    def to_internal_value(self, value: Any) -> datetime.datetime:
        if not isinstance(value, str) or len(value) > 40:
            self.fail("invalid")
        parsed = None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            self.fail("invalid")
        if parsed is None:
            self.fail("invalid")
        if not timezone.is_aware(parsed):
            self.fail("naive")
        when: datetime.datetime = super().to_internal_value(parsed)
        return when


# --- errors --------------------------------------------------------------------------------------------


class BlockerSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    detail = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error response: a machine-readable code, a sentence for people, messages per field."""

    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, invalid_transition.")
    detail = serializers.CharField()
    fields = serializers.DictField(  # type: ignore[assignment]  # the metaclass pops declared fields
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested rows); empty when no field is at fault.",
    )
    current_status = serializers.ChoiceField(
        choices=HandoffStatus.choices, required=False, help_text="On 409: the handoff's status now."
    )
    blockers = BlockerSerializer(
        many=True,
        required=False,
        help_text="On a blocked send, or a refused accept, start or resume: every unmet condition.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="On 429: seconds to wait.")
    existing_patient = serializers.UUIDField(
        required=False,
        help_text="On 409 duplicate_patient: the id of the patient already in the clinic with this name and "
        "date of birth (send `confirm_distinct: true` to add another person anyway).",
    )


# --- small shared outputs ------------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.Serializer[Organization]):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class PersonRefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    full_name = serializers.CharField()


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


# --- the exercise library and the trainers directory ---------------------------------------------------


class ExerciseSerializer(serializers.Serializer[Exercise]):
    id = serializers.IntegerField()
    slug = serializers.SlugField(
        help_text="The entry's stable name in the shipped library; a rename keeps it."
    )
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=Exercise.Category.choices)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices)
    instructions = serializers.CharField()
    equipment = serializers.CharField(allow_blank=True)


class ExerciseQuerySerializer(serializers.Serializer[Any]):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Exercise.Category.choices, required=False)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices, required=False)


class CertificationSerializer(serializers.Serializer[Certification]):
    issuing_body = serializers.ChoiceField(choices=Certification.IssuingBody.choices)
    expiry = serializers.DateField()
    verified = serializers.BooleanField()


class TrainerSerializer(serializers.Serializer[Membership]):
    """One trainer at one gym."""

    id = serializers.UUIDField(source="user.public_id")
    full_name = serializers.CharField(source="user.full_name")
    gym = OrganizationRefSerializer(source="organization")
    accepting_new_clients = serializers.SerializerMethodField()
    specializations = serializers.SerializerMethodField()
    certifications = serializers.SerializerMethodField()
    cpr_aed_expiry = serializers.SerializerMethodField()
    bio = serializers.SerializerMethodField()

    def _profile(self, membership: Membership) -> Any:
        return getattr(membership.user, "trainer_profile", None)

    def get_accepting_new_clients(self, membership: Membership) -> bool:
        profile = self._profile(membership)
        return bool(profile and profile.accepting_new_clients)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Specialization.choices)))
    def get_specializations(self, membership: Membership) -> list[str]:
        profile = self._profile(membership)
        return [s.specialization for s in profile.specializations.all()] if profile else []

    @extend_schema_field(CertificationSerializer(many=True))
    def get_certifications(self, membership: Membership) -> list[dict[str, Any]]:
        profile = self._profile(membership)
        if profile is None:
            return []
        return [
            {"issuing_body": c.issuing_body, "expiry": c.expiry.isoformat(), "verified": c.verified}
            for c in profile.certifications.all()
        ]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_cpr_aed_expiry(self, membership: Membership) -> str | None:
        profile = self._profile(membership)
        expiry = profile.cpr_aed_expiry if profile else None
        return expiry.isoformat() if expiry else None

    def get_bio(self, membership: Membership) -> str:
        profile = self._profile(membership)
        return profile.bio if profile else ""


class TrainerQuerySerializer(serializers.Serializer[Any]):
    specialization = serializers.ChoiceField(choices=Specialization.choices, required=False)
    gym = serializers.UUIDField(required=False, help_text="A gym's id.")
    accepting = serializers.BooleanField(required=False)


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


# --- handoffs ------------------------------------------------------------------------------------------


class SnapshotExerciseSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This prescribed exercise, the same in every snapshot of it.")
    library_slug = serializers.CharField(
        allow_blank=True, help_text="Its library entry's slug; empty in guidelines sent before slugs existed."
    )
    name = serializers.CharField()
    category = serializers.CharField()
    body_region = serializers.CharField()
    equipment = serializers.CharField(allow_blank=True)
    instructions = serializers.CharField(allow_blank=True)
    sets = serializers.IntegerField()
    reps = serializers.IntegerField(allow_null=True)
    hold_seconds = serializers.IntegerField(allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    load_unit = serializers.CharField(allow_blank=True)
    load_value = serializers.CharField(allow_null=True)
    frequency_per_week = serializers.IntegerField()
    tempo = serializers.CharField(allow_blank=True)
    rest_seconds = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    progression_note = serializers.CharField(allow_blank=True)
    dose = serializers.CharField()


class SnapshotPrecautionSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This precaution, the same in every snapshot of it.")
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    body_region = serializers.CharField(allow_blank=True)
    limit_value = serializers.CharField(allow_null=True)
    limit_unit = serializers.CharField(allow_blank=True)
    weight_bearing = serializers.CharField(allow_blank=True)
    valid_until = serializers.CharField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)
    summary = serializers.CharField()


class SnapshotRedFlagSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This red flag, the same in every snapshot of it.")
    description = serializers.CharField()


class SnapshotPatientSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class SnapshotDiagnosisSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    icd10_code = serializers.CharField(allow_blank=True)


class GuidelinesSerializer(serializers.Serializer[Any]):
    """What was sent to the trainer, frozen at send time. `diagnosis` is null unless consent covers it."""

    sent_at = serializers.CharField()
    clinic = serializers.CharField()
    physiotherapist = serializers.CharField()
    physiotherapist_email = serializers.CharField(allow_blank=True)
    patient = SnapshotPatientSerializer()
    consent_scope = serializers.ChoiceField(choices=Consent.Scope.choices)
    diagnosis = SnapshotDiagnosisSerializer(allow_null=True)
    goals = serializers.CharField(allow_blank=True)
    exercises = SnapshotExerciseSerializer(many=True)
    precautions = SnapshotPrecautionSerializer(many=True)
    red_flags = serializers.SerializerMethodField(help_text="The red flags' descriptions (`red_flag_items`).")
    red_flag_items = SnapshotRedFlagSerializer(
        many=True, source="red_flags", help_text="The red flags with their ids, in the order of `red_flags`."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_red_flags(self, guidelines: dict[str, Any]) -> list[str]:
        return [str(flag["description"]) for flag in guidelines["red_flags"]]


# Stateless once built: to_representation only reads the fields.
_GUIDELINES = GuidelinesSerializer()


class HandoffSerializer(serializers.Serializer[TrainerHandoff]):
    """A handoff as the requesting user may see it. The clinic sees its plan and patient; a trainer sees
    only the frozen guidelines (`guidelines`), and only while consent stands and the referral is theirs."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=HandoffStatus.choices)
    status_reason = serializers.CharField(allow_blank=True)
    url = serializers.SerializerMethodField(help_text="This handoff.")
    role = serializers.SerializerMethodField(help_text="clinic or trainer: the side you act for.")
    clinic = serializers.SerializerMethodField()
    physiotherapist = serializers.SerializerMethodField(
        help_text="The referring physiotherapist's name; empty for a trainer without consent."
    )
    trainer = PersonRefSerializer()
    gym = OrganizationRefSerializer()
    plan = serializers.SerializerMethodField(help_text="The plan's id; null for the trainer.")
    patient = serializers.SerializerMethodField(help_text="The patient's id; null for the trainer.")
    patient_name = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    guidelines = serializers.SerializerMethodField(
        help_text="The frozen guidelines; null before sending, and for a trainer without consent."
    )

    def _is_clinic(self, handoff: TrainerHandoff) -> bool:
        return policies.is_clinic_physio(self.context["request"].user, handoff.plan.patient.clinic_id)

    def _view(self, handoff: TrainerHandoff) -> selectors.HandoffView:
        """What consent lets the requesting user see of this handoff (policies.handoff_shown)."""
        return selectors.handoff_view_for_user(
            user=self.context["request"].user, handoff=handoff, surface=policies.Surface.API_DETAIL
        )

    @extend_schema_field(serializers.ChoiceField(choices=["clinic", "trainer"]))
    def get_role(self, handoff: TrainerHandoff) -> str:
        return "clinic" if self._is_clinic(handoff) else "trainer"

    def get_clinic(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).clinic

    @extend_schema_field(serializers.URLField())
    def get_url(self, handoff: TrainerHandoff) -> str:
        return str(
            self.context["request"].build_absolute_uri(
                reverse("api:handoff_detail", args=[str(handoff.public_id)])
            )
        )

    def get_physiotherapist(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).physiotherapist

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_plan(self, handoff: TrainerHandoff) -> str | None:
        return str(handoff.plan.public_id) if self._is_clinic(handoff) else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_patient(self, handoff: TrainerHandoff) -> str | None:
        return str(handoff.plan.patient.public_id) if self._is_clinic(handoff) else None

    def get_patient_name(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).patient_name

    @extend_schema_field(GuidelinesSerializer(allow_null=True))
    def get_guidelines(self, handoff: TrainerHandoff) -> dict[str, Any] | None:
        guidelines = self._view(handoff).guidelines
        if guidelines is None:
            return None
        # One serializer for every row: building a nested serializer per row (deep-copying its fields)
        # cost more than the rest of a list page together (make bench, docs/benchmarks.md). Kept (issue
        # 14): 0.03 ms a snapshot against 0.87 ms with a new one (in-process); tests/api/test_shortcuts.py
        # checks the two give the same.
        return dict(_GUIDELINES.to_representation(guidelines))


def _when(value: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    """serializers.DateTimeField's output (ISO 8601 in the current time zone, "Z" for UTC), minus its
    per-call lookups: a list formats three dates a row.

    Kept (issue 14): 1.6 us a date against DRF's 14.6 us (in-process), some 3.9 ms of a 100-row page;
    tests/api/test_shortcuts.py checks it gives DRF's output, in three zones, on both databases."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class HandoffSummarySerializer(serializers.Serializer[Any]):
    """A row of the handoffs list: who, where, what status and when, and the patient's name as you may
    see it. The guidelines are in the handoff's detail (`url`)."""

    # Built from plain values by rows(), not from model instances: the fields document the shape.

    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(read_only=True, help_text="The handoff: its detail, with the guidelines.")
    status = serializers.ChoiceField(choices=HandoffStatus.choices, read_only=True)
    status_reason = serializers.CharField(read_only=True, allow_blank=True)
    role = serializers.ChoiceField(
        choices=["clinic", "trainer"], read_only=True, help_text="clinic or trainer: the side you act for."
    )
    clinic = serializers.CharField(read_only=True, help_text="The referring clinic's name.")
    physiotherapist = serializers.CharField(
        read_only=True,
        allow_blank=True,
        help_text="The referring physiotherapist's name; empty for a trainer without consent.",
    )
    trainer = PersonRefSerializer(read_only=True)
    gym = OrganizationRefSerializer(read_only=True)
    plan = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The plan's id; null for the trainer."
    )
    patient = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The patient's id; null for the trainer."
    )
    patient_name = serializers.CharField(
        read_only=True, allow_blank=True, help_text="Empty for a trainer without consent."
    )
    sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @staticmethod
    def rows(values: list[dict[str, Any]], *, user: User, detail_url: str) -> list[dict[str, Any]]:
        """The list's rows from `selectors.handoff_summaries_for_user`. `detail_url` is a handoff's URL with
        `{id}` for its id, formatted once per row instead of a reverse() per row.

        Kept (issue 14): plain values made into dicts, no serializer per instance: `make bench` 2026-12-02,
        the inbox API in 2 queries at 1.53x its one-query baseline (paired rounds, machine at load 10;
        1.38x on a quiet one), the detail through HandoffSerializer at 2.65x. tests/api/test_shortcuts.py
        checks each row says what the detail's serializer says, URL included, on both databases."""
        out = []
        tz = timezone.get_current_timezone()
        own = {"id": str(getattr(user, "public_id", "")), "full_name": getattr(user, "full_name", "")}
        for row in values:
            clinic_side = policies.is_clinic_physio(user, row["clinic_id"])
            public_id = str(row["public_id"])
            item: dict[str, Any] = {
                "id": public_id,
                "url": detail_url.format(id=public_id),
                "status": row["status"],
                "status_reason": row["status_reason"],
                "role": "clinic" if clinic_side else "trainer",
                "clinic": "",
                "physiotherapist": "",
                # without the trainer columns, every row is the user's own as the trainer (the selector)
                "trainer": (
                    {"id": str(row["trainer__public_id"]), "full_name": row["trainer__full_name"]}
                    if "trainer__public_id" in row
                    else own
                ),
                "gym": {"id": str(row["gym__public_id"]), "name": row["gym__name"]},
                "plan": None,
                "patient": None,
                "patient_name": "",
                "sent_at": _when(row["sent_at"], tz),
                "created_at": _when(row["created_at"], tz),
                "updated_at": _when(row["updated_at"], tz),
            }
            view = selectors.handoff_summary_view_for_user(
                user=user, row=row, surface=policies.Surface.API_LIST
            )
            item["clinic"] = view.clinic
            item["physiotherapist"] = view.physiotherapist
            item["patient_name"] = view.patient_name
            if clinic_side:
                item["plan"] = str(row["plan__public_id"])
                item["patient"] = str(row["plan__patient__public_id"])
            out.append(item)
        return out


class HandoffInputSerializer(serializers.Serializer[Any]):
    plan = serializers.UUIDField()
    trainer = serializers.UUIDField(help_text="The trainer's id (from the trainers directory).")
    gym = serializers.UUIDField(help_text="The gym's id.")
    send = serializers.BooleanField(
        default=False, help_text="Send at once (discharge the patient to the trainer), all or nothing."
    )


class ReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=False)


class OptionalReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class CompleteInputSerializer(serializers.Serializer[Any]):
    summary = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class ConcernInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=CONCERN_MAX_LENGTH)
    hold = serializers.BooleanField(
        default=False, help_text="Also put the handoff on hold (from in progress)."
    )


class ConcernResolveInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        max_length=CONCERN_NOTE_MAX_LENGTH, help_text="What was found or done; the trainer reads it."
    )


class ConcernSerializer(serializers.Serializer[Concern]):
    """Where a concern stands: raised, acknowledged (by whom, when), resolved (by whom, when, the note)."""

    id = serializers.UUIDField(source="public_id")
    state = serializers.ChoiceField(choices=Concern.State.choices)
    put_on_hold = serializers.BooleanField()
    raised_at = serializers.DateTimeField(source="event.created_at")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = PersonRefSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = PersonRefSerializer(allow_null=True)
    resolution_note = serializers.CharField(allow_blank=True)


class EventActorSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(
        allow_null=True,
        help_text="Null when consent no longer lets you see who at the clinic it was, and for the system.",
    )
    full_name = serializers.CharField(
        help_text='The person, the clinic\'s name when consent hides them, or "Handoff (automatic)" when the '
        "system did it (a timer)."
    )


class HandoffEventSerializer(serializers.Serializer[HandoffEvent]):
    """One row of a timeline. Who acted is named as the one consent rule allows (context `view`: the
    handoff as `selectors.handoff_view_for_user` shows it to the asker, as on the page)."""

    id = serializers.UUIDField(source="public_id")
    kind = serializers.ChoiceField(choices=HandoffEvent.Kind.choices)
    actor = serializers.SerializerMethodField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    urgent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    concern = serializers.SerializerMethodField(
        help_text="On a concern: where it stands now (acknowledge and resolve it by its id)."
    )
    regarding = serializers.SerializerMethodField(
        help_text="On an acknowledgement or a resolution: the id of the concern it answers."
    )

    @extend_schema_field(EventActorSerializer())
    def get_actor(self, event: HandoffEvent) -> dict[str, Any]:
        view = self.context["view_of_handoff"]
        if event.actor is not None and view.names_actor(event):
            return {"id": str(event.actor.public_id), "full_name": event.actor.full_name}
        return {"id": None, "full_name": view.actor_name(event)}  # the clinic, or "Handoff (automatic)"

    @extend_schema_field(ConcernSerializer(allow_null=True))
    def get_concern(self, event: HandoffEvent) -> dict[str, Any] | None:
        concern = getattr(event, "concern", None) if event.kind == HandoffEvent.Kind.CONCERN else None
        return dict(ConcernSerializer(concern).data) if concern is not None else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_regarding(self, event: HandoffEvent) -> str | None:
        return str(event.regarding.public_id) if event.regarding_id is not None and event.regarding else None


class HandoffQuerySerializer(serializers.Serializer[Any]):
    status = serializers.MultipleChoiceField(
        choices=HandoffStatus.choices,
        required=False,
        help_text="One or more statuses (repeat the parameter).",
    )
    updated_since = AwareDateTimeField(
        required=False,
        help_text="Only handoffs changed at or after this moment: ISO 8601 with its offset (the "
        "`updated_at` of the newest handoff you hold). Empty, malformed or without an offset: 400.",
    )
    ordering = serializers.ChoiceField(
        choices=["-updated_at", "updated_at", "-created_at", "created_at"],
        required=False,
        default="-updated_at",
    )


# --- notifications -------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer[Notification]):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    urgent = serializers.BooleanField()
    read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text='What kind of event it tells of: "handoff-event" for a referral\'s.'
    )
    handoff = serializers.UUIDField(source="handoff.public_id", allow_null=True)
    event = serializers.UUIDField(source="event.public_id", allow_null=True)

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationQuerySerializer(serializers.Serializer[Any]):
    unread = serializers.BooleanField(required=False)
    updated_since = AwareDateTimeField(
        required=False,
        help_text="Only notifications created or read at or after this moment: ISO 8601 with its "
        "offset. Empty, malformed or without an offset: 400.",
    )


class MarkAllReadSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField()
