"""Reads of the care area, scoped to the user's organizations (outside the scope is a 404)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.models import User
from referrals.access import Role, _org_ids
from referrals.care.models import Consent, Patient, TreatmentPlan

# --- patients and plans -------------------------------------------------------------------------------


def patient_list_for_user(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)).select_related("clinic")


def patient_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Patient:
    return patient_list_for_user(user=user).get(public_id=public_id)


def plan_list_for_user(*, user: User) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(
        patient__clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)
    ).select_related("patient__clinic", "physiotherapist")


def plan_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TreatmentPlan:
    return (
        plan_list_for_user(user=user)
        .prefetch_related("exercises__exercise", "precautions", "red_flags")
        .get(public_id=public_id)
    )


def plan_row_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TreatmentPlan:
    """`plan_get_for_user` without its exercises, precautions and red flags (a write reads them itself)."""
    return plan_list_for_user(user=user).get(public_id=public_id)


def consent_list_for_user(*, user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(patient__clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)).select_related(
        "patient", "gym", "recorded_by", "withdrawn_by"
    )


def consent_get_active(*, patient: Patient, gym_id: int) -> Consent | None:
    return Consent.objects.filter(patient=patient, gym_id=gym_id, withdrawn_at__isnull=True).first()


def plan_list_for_patient(*, user: User, patient: Patient) -> QuerySet[TreatmentPlan]:
    return (
        plan_list_for_user(user=user)
        .filter(patient=patient)
        .prefetch_related("handoffs__trainer", "handoffs__gym")
        .order_by("-start_date", "-id")
    )


def consent_list_for_patient(*, user: User, patient: Patient) -> QuerySet[Consent]:
    return consent_list_for_user(user=user).filter(patient=patient).order_by("-recorded_at", "-id")


def consent_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Consent:
    return consent_list_for_user(user=user).get(public_id=public_id)
