"""Who may see and change a patient, a plan and a consent."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from referrals.access import is_clinic_physio
from referrals.care.models import Patient, TreatmentPlan

# --- patients and plans -------------------------------------------------------------------------------


def can_view_patient(user: UserOrAnonymous, patient: Patient) -> bool:
    return is_clinic_physio(user, patient.clinic_id)


def can_edit_patient(user: UserOrAnonymous, patient: Patient) -> bool:
    return is_clinic_physio(user, patient.clinic_id)


# --- moving a patient to another clinic (the admin) -- issue 13 -------------------------------------------


def can_change_patient_clinic(patient: Patient) -> bool:
    """A patient moves to another clinic only while they have no treatment plan: plans, their handoffs
    (whose `clinic` column is copied from the patient) and consent belong to the clinic that made them,
    so a patient with plans would be half moved. A new episode at the other clinic is a new patient."""
    return patient.pk is None or not TreatmentPlan.objects.filter(patient_id=patient.pk).exists()


# --- end of the patient-clinic block ---------------------------------------------------------------------


def can_create_patient(user: UserOrAnonymous, clinic_id: int) -> bool:
    return is_clinic_physio(user, clinic_id)


def can_record_consent(user: UserOrAnonymous, patient: Patient) -> bool:
    return is_clinic_physio(user, patient.clinic_id)


def can_view_plan(user: UserOrAnonymous, plan: TreatmentPlan) -> bool:
    return is_clinic_physio(user, plan.patient.clinic_id)


def can_edit_plan(user: UserOrAnonymous, plan: TreatmentPlan) -> bool:
    return is_clinic_physio(user, plan.patient.clinic_id)


def can_discharge(user: UserOrAnonymous, plan: TreatmentPlan) -> bool:
    return is_clinic_physio(user, plan.patient.clinic_id)
