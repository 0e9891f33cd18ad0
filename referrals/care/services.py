"""Writes of the care area: patients, plans with their exercises, precautions and red flags, consent.
Each runs in one transaction and validates with field-level errors."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Organization, User
from referrals.care import policies as care_policies
from referrals.care.models import (
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    REPORT_INTERVAL_DEFAULT,
    Consent,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TreatmentPlan,
)
from referrals.common import _clean_text, _validate, text_limit
from referrals.errors import (
    DomainError,
    DuplicatePatient,
    NotPermitted,
)
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs.lifecycle import S, handoff_transition, is_active_physio
from referrals.handoffs.models import (
    OPEN_STATUSES,
    TrainerHandoff,
)
from referrals.library.models import Exercise

# --- patients, plans, consent --------------------------------------------------------------------------

PATIENT_FIELDS = ("full_name", "date_of_birth", "email", "phone")


PLAN_FIELDS = ("diagnosis", "icd10_code", "goals", "start_date", "report_interval_weeks")


EXERCISE_FIELDS = (
    "exercise",
    "sets",
    "reps",
    "hold_seconds",
    "duration_minutes",
    "load_unit",
    "load_value",
    "frequency_per_week",
    "tempo",
    "rest_seconds",
    "notes",
    "progression_note",
)


PRECAUTION_FIELDS = (
    "kind",
    "body_region",
    "limit_value",
    "limit_unit",
    "weight_bearing",
    "valid_until",
    "detail",
)


def _only(data: Mapping[str, Any], allowed: Sequence[str], *, prefix: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({f"{prefix}.{key}": "Unknown field." for key in unknown})
    return dict(data)


def _same_name(name: str) -> str:
    """A name as people mean it: case and spacing do not make another person."""
    return " ".join(str(name).split()).casefold()


def patient_namesake(
    *, clinic_id: int, full_name: str, date_of_birth: datetime.date, exclude_pk: int | None = None
) -> Patient | None:
    """The clinic's patient with this name (whatever its case and spacing) and date of birth, if any: the
    one duplicate rule of the pages, the API (through `patient_create`) and the admin."""
    wanted = _same_name(full_name)
    namesakes = Patient.objects.filter(clinic_id=clinic_id, date_of_birth=date_of_birth)
    if exclude_pk is not None:
        namesakes = namesakes.exclude(pk=exclude_pk)
    return next((p for p in namesakes.order_by("pk") if _same_name(p.full_name) == wanted), None)


def patient_create(
    *,
    clinic: Organization,
    actor: User,
    full_name: str,
    date_of_birth: datetime.date,
    email: str = "",
    phone: str = "",
    confirm_distinct: bool = False,
) -> Patient:
    """Add a patient. One already in the clinic with the same name (whatever its case and spacing) and date
    of birth raises DuplicatePatient carrying them, unless `confirm_distinct` says this is another person."""
    if not care_policies.can_create_patient(actor, clinic.pk):
        raise NotPermitted("Only a physiotherapist of this clinic can add its patients.")
    patient = Patient(
        clinic=clinic,
        created_by=actor,
        full_name=" ".join(str(full_name).split()),
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
    _validate(patient)
    with transaction.atomic():
        # One add at a time per clinic: two people typing the same patient cannot both miss the other.
        Organization.objects.select_for_update().filter(pk=clinic.pk).first()
        if not confirm_distinct:
            existing = patient_namesake(
                clinic_id=clinic.pk, full_name=patient.full_name, date_of_birth=patient.date_of_birth
            )
            if existing is not None:
                raise DuplicatePatient(
                    f"{existing.full_name}, born {existing.date_of_birth:%Y-%m-%d}, is already a patient of "
                    f"{clinic.name}. Open that record, or confirm that this is a different person.",
                    existing=existing,
                )
        patient.save()
    return patient


def patient_update(*, patient: Patient, actor: User, **fields: Any) -> Patient:
    data = _only(fields, PATIENT_FIELDS, prefix="patient")
    with transaction.atomic():
        locked = Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient.pk)
        if not care_policies.can_edit_patient(actor, locked):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can edit the patient.")
        for key, value in data.items():
            setattr(locked, key, value)
        _validate(locked)
        locked.save(update_fields=[*data.keys(), "updated_at"])
    return locked


ROW_CAPS = {
    "exercises": (PLAN_MAX_EXERCISES, "exercises"),
    "precautions": (PLAN_MAX_PRECAUTIONS, "precautions"),
    "red_flags": (PLAN_MAX_RED_FLAGS, "red flags"),
}


def row_cap_message(key: str) -> str:
    """ "At most 60 exercises per plan": the one message of the page, the API and the admin."""
    cap, noun = ROW_CAPS[key]
    return f"At most {cap} {noun} per plan."


def _build_children(
    plan: TreatmentPlan,
    exercises: Sequence[Mapping[str, Any]] | None,
    precautions: Sequence[Mapping[str, Any]] | None,
    red_flags: Sequence[str] | None,
) -> None:
    """Validate every child row first, then replace the plan's rows: all or nothing. Too many rows are
    refused before any is looked at (a page or an API call of thousands of rows costs nothing)."""
    errors: dict[str, Any] = {}
    limits = (
        ("exercises", exercises, PLAN_MAX_EXERCISES),
        ("precautions", precautions, PLAN_MAX_PRECAUTIONS),
        ("red_flags", red_flags, PLAN_MAX_RED_FLAGS),
    )
    for key, rows, cap in limits:
        if rows is not None and len(rows) > cap:
            errors[key] = [row_cap_message(key)]
    if errors:
        raise ValidationError(errors)
    new_exercises: list[PlanExercise] = []
    for i, row in enumerate(exercises or []):
        try:
            data = _only(row, EXERCISE_FIELDS, prefix=f"exercises.{i}")
            if not isinstance(data.get("exercise"), Exercise):
                try:
                    found = Exercise.objects.filter(pk=int(data.get("exercise"))).first()  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    found = None
                if found is None:
                    raise ValidationError({f"exercises.{i}.exercise": "No such exercise in the library."})
                data["exercise"] = found
            item = PlanExercise(plan=plan, position=i, **data)
            _validate(item, prefix=f"exercises.{i}", exclude=["plan"])
            new_exercises.append(item)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    new_precautions: list[Precaution] = []
    for i, row in enumerate(precautions or []):
        try:
            precaution = Precaution(plan=plan, **_only(row, PRECAUTION_FIELDS, prefix=f"precautions.{i}"))
            _validate(precaution, prefix=f"precautions.{i}", exclude=["plan"])
            new_precautions.append(precaution)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    new_flags: list[RedFlag] = []
    for i, text in enumerate(red_flags or []):
        try:
            flag = RedFlag(
                plan=plan,
                description=_clean_text(
                    text, field=f"red_flags.{i}", required=True, max_length=text_limit(RedFlag, "description")
                ),
            )
            new_flags.append(flag)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if exercises is not None:
        _keep_public_ids(plan.exercises.all(), new_exercises, key=lambda row: row.exercise_id)
        plan.exercises.all().delete()
        PlanExercise.objects.bulk_create(new_exercises)
    if precautions is not None:
        _keep_public_ids(plan.precautions.all(), new_precautions, key=lambda row: (row.kind, row.body_region))
        plan.precautions.all().delete()
        Precaution.objects.bulk_create(new_precautions)
    if red_flags is not None:
        _keep_public_ids(plan.red_flags.all(), new_flags, key=lambda row: row.description)
        plan.red_flags.all().delete()
        RedFlag.objects.bulk_create(new_flags)


def _keep_public_ids(old: QuerySet[Any], new: Sequence[Any], *, key: Callable[[Any], object]) -> None:
    """A row the edit keeps keeps its public id (its id in the guidelines snapshot), so a session log and
    a revision can name it across edits: the same library exercise, the same kind of precaution on the
    same region, the same red flag text; the first old row of a key goes to the first new row of it."""
    spare: dict[object, list[uuid.UUID]] = {}
    for row in old.order_by("pk"):
        spare.setdefault(key(row), []).append(row.public_id)
    for row in new:
        ids = spare.get(key(row))
        if ids:
            row.public_id = ids.pop(0)


def plan_create(
    *,
    patient: Patient,
    actor: User,
    diagnosis: str,
    goals: str,
    icd10_code: str = "",
    start_date: datetime.date | None = None,
    report_interval_weeks: int = REPORT_INTERVAL_DEFAULT,
    exercises: Iterable[Mapping[str, Any]] = (),
    precautions: Iterable[Mapping[str, Any]] = (),
    red_flags: Iterable[str] = (),
) -> TreatmentPlan:
    if not care_policies.can_edit_patient(actor, patient):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can write their plan.")
    plan = TreatmentPlan(
        patient=patient,
        physiotherapist=actor,
        diagnosis=diagnosis,
        goals=goals,
        icd10_code=(icd10_code or "").strip().upper(),
        start_date=start_date or timezone.localdate(),
        report_interval_weeks=report_interval_weeks,
    )
    _validate(plan)
    with transaction.atomic():
        plan.save()
        _build_children(plan, list(exercises), list(precautions), list(red_flags))
    return plan


def plan_update(
    *,
    plan: TreatmentPlan,
    actor: User,
    exercises: Iterable[Mapping[str, Any]] | None = None,
    precautions: Iterable[Mapping[str, Any]] | None = None,
    red_flags: Iterable[str] | None = None,
    **fields: Any,
) -> TreatmentPlan:
    """Edit a plan. A handoff already sent keeps its snapshot: what the trainer was sent does not change."""
    data = _only(fields, PLAN_FIELDS, prefix="plan")
    if "icd10_code" in data:
        data["icd10_code"] = (data["icd10_code"] or "").strip().upper()
    with transaction.atomic():
        locked = (
            TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
        )
        if not care_policies.can_edit_plan(actor, locked):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can edit their plan.")
        for key, value in data.items():
            setattr(locked, key, value)
        changed = [*data.keys()]
        if not is_active_physio(locked.physiotherapist, locked.patient.clinic_id):
            # Its physiotherapist left the clinic with nobody named to take over: the colleague who edits
            # the plan takes it on (the plan always has a physiotherapist of the patient's clinic).
            locked.physiotherapist = actor
            changed.append("physiotherapist")
        _validate(locked)
        if precautions is None and "start_date" in data:
            _check_precautions_outlast_start(locked)
        locked.save(update_fields=[*changed, "updated_at"])
        _build_children(
            locked,
            None if exercises is None else list(exercises),
            None if precautions is None else list(precautions),
            None if red_flags is None else list(red_flags),
        )
    return locked


def _check_precautions_outlast_start(plan: TreatmentPlan) -> None:
    """A new start date must not come after the end of a precaution the plan keeps."""
    ends = plan.precautions.filter(valid_until__lt=plan.start_date).order_by("valid_until")
    first = ends.values_list("valid_until", flat=True).first()
    if first is not None:
        raise ValidationError(
            {"start_date": f"A precaution of this plan ends on {first:%Y-%m-%d}, before this start date."}
        )


def consent_record(*, patient: Patient, gym: Organization, scope: str, actor: User) -> Consent:
    if not care_policies.can_record_consent(actor, patient):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can record their consent.")
    if gym.kind != Organization.Kind.GYM:
        raise ValidationError({"gym": "Consent is given for a gym."})
    if (
        not handoffs_eligibility.gym_list_partners_for_clinic(clinic=patient.clinic)
        .filter(pk=gym.pk)
        .exists()
    ):
        raise ValidationError(
            {"gym": f"{gym.name} is not a partner gym of {patient.clinic.name}: consent is recorded for one."}
        )
    consent = Consent(patient=patient, gym=gym, scope=scope, recorded_by=actor)
    with transaction.atomic():
        if (
            Consent.objects.select_for_update()
            .filter(patient=patient, gym=gym, withdrawn_at__isnull=True)
            .exists()
        ):
            message = f"The patient already has an active consent for {gym}; withdraw it to record a new one."
            raise ValidationError({"gym": message})
        _validate(consent)
        try:
            with transaction.atomic():
                consent.save()
        except IntegrityError as exc:  # a concurrent record for the same gym won the constraint
            message = f"The patient already has an active consent for {gym}; withdraw it to record a new one."
            raise ValidationError({"gym": message}) from exc
    return consent


def consent_withdraw(*, consent: Consent, actor: User, reason: str = "") -> Consent:
    """Withdraw consent and cancel the open handoffs to that gym: the trainer loses the guidelines."""
    reason = _clean_text(
        reason, field="reason", required=False, max_length=text_limit(Consent, "withdrawal_reason")
    )
    with transaction.atomic():
        locked = (
            Consent.objects.select_for_update(of=("self",))
            .select_related("patient", "gym")
            .get(pk=consent.pk)
        )
        if not care_policies.can_record_consent(actor, locked.patient):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can withdraw their consent.")
        if locked.withdrawn_at is not None:
            raise DomainError("This consent was already withdrawn.", code="consent_withdrawn")
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.withdrawal_reason = reason
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        # Locked and filtered in one statement: a handoff the trainer closed a moment ago is not reopened
        # to be cancelled, and none can be answered while the withdrawal runs.
        open_handoffs = (
            TrainerHandoff.objects.select_for_update(of=("self",))
            .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
            .filter(plan__patient=locked.patient, gym=locked.gym, status__in=OPEN_STATUSES)
            .order_by("pk")
        )
        for handoff in open_handoffs:
            handoff_transition(
                handoff=handoff,
                to=S.CANCELLED,
                actor=actor,
                reason="The patient withdrew their consent to share with this gym.",
            )
    return locked
