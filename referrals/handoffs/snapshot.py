"""The guidelines snapshot a referral carries, and what a user is shown of a referral (consent decides)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import User
from referrals import access as referrals_access
from referrals.care.models import Consent, PlanExercise, TreatmentPlan
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs.models import (
    HandoffEvent,
    HandoffStatus,
    TrainerHandoff,
)

# --- the pages: guidelines preview, discharge candidates, lists ----------------------------------------


# The shape of the guidelines snapshot. 2: each exercise, precaution and red flag has an `id` (its row's
# public_id, the same in every snapshot of that row) and red flags are {"id", "description"}; exercises
# name their library entry (`library_slug`). 1 (or none): neither; `guidelines_read` reads it as a 2.
GUIDELINES_SCHEMA = 2


# Ids of the entries of a schema-1 snapshot: uuid5 of "<handoff public id>/<section>/<position>".
_OLD_ENTRY_IDS = uuid.UUID("0c6d5a3e-7b0f-4d8e-9a51-3f2b8c1e6d47")


def guidelines_snapshot(
    *, plan: TreatmentPlan, consent: Consent, sent_at: datetime.datetime
) -> dict[str, Any]:
    """What the trainer is sent, frozen: later edits to the plan do not change it."""
    exercises = PlanExercise.objects.filter(plan=plan).select_related("exercise").order_by("position", "id")
    return {
        "schema": GUIDELINES_SCHEMA,
        "sent_at": sent_at.isoformat(),
        "clinic": plan.patient.clinic.name,
        "physiotherapist": plan.physiotherapist.full_name,
        "physiotherapist_email": plan.physiotherapist.email,
        "patient": {"name": plan.patient.full_name, "email": plan.patient.email, "phone": plan.patient.phone},
        "consent_scope": consent.scope,
        "diagnosis": (
            {"text": plan.diagnosis, "icd10_code": plan.icd10_code} if consent.includes_diagnosis else None
        ),
        "goals": plan.goals,
        "exercises": [
            {
                "id": str(item.public_id),
                "library_slug": item.exercise.slug,
                "name": item.exercise.name,
                "category": item.exercise.get_category_display(),
                "body_region": item.exercise.get_body_region_display(),
                "equipment": item.exercise.equipment,
                "instructions": item.exercise.instructions,
                "sets": item.sets,
                "reps": item.reps,
                "hold_seconds": item.hold_seconds,
                "duration_minutes": item.duration_minutes,
                "load_unit": item.load_unit,
                "load_value": None if item.load_value is None else str(item.load_value),
                "frequency_per_week": item.frequency_per_week,
                "tempo": item.tempo,
                "rest_seconds": item.rest_seconds,
                "notes": item.notes,
                "progression_note": item.progression_note,
                "dose": item.dose_text,
            }
            for item in exercises
        ],
        "precautions": [
            {
                "id": str(p.public_id),
                "kind": p.kind,
                "kind_label": p.get_kind_display(),
                "body_region": p.get_body_region_display() if p.body_region else "",
                "limit_value": None if p.limit_value is None else str(p.limit_value),
                "limit_unit": p.get_limit_unit_display() if p.limit_unit else "",
                "weight_bearing": p.get_weight_bearing_display() if p.weight_bearing else "",
                "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                "detail": p.detail,
                "summary": p.summary,
            }
            for p in plan.precautions.all()
        ],
        "red_flags": [
            {"id": str(flag.public_id), "description": flag.description} for flag in plan.red_flags.all()
        ],
    }


def guidelines_read(
    snapshot: dict[str, Any] | None, *, handoff_public_id: uuid.UUID
) -> dict[str, Any] | None:
    """A stored snapshot in the current shape (GUIDELINES_SCHEMA), whatever shape it was stored in: the one
    reader of `TrainerHandoff.snapshot`, so every page, the API and the next issues see one shape. A
    schema-1 snapshot gets ids derived from the handoff and the entry's position (the same on every read)
    and its red flags become {"id", "description"}; the stored JSON is never rewritten."""
    if not snapshot:
        return None
    if snapshot.get("schema") == GUIDELINES_SCHEMA:
        return snapshot

    def old_id(section: str, position: int) -> str:
        return str(uuid.uuid5(_OLD_ENTRY_IDS, f"{handoff_public_id}/{section}/{position}"))

    return {
        **snapshot,
        "schema": GUIDELINES_SCHEMA,
        "exercises": [
            {"id": old_id("exercises", i), "library_slug": "", **item}
            for i, item in enumerate(snapshot.get("exercises") or [])
        ],
        "precautions": [
            {"id": old_id("precautions", i), **item}
            for i, item in enumerate(snapshot.get("precautions") or [])
        ],
        "red_flags": [
            flag if isinstance(flag, dict) else {"id": old_id("red_flags", i), "description": str(flag)}
            for i, flag in enumerate(snapshot.get("red_flags") or [])
        ],
    }


def guidelines_preview(*, plan: TreatmentPlan, consent: Consent) -> dict[str, Any]:
    """The guidelines exactly as the trainer would receive them if the plan were sent now."""
    return guidelines_snapshot(plan=plan, consent=consent, sent_at=timezone.now())


# --- what of a handoff a viewer sees: policies.handoff_shown, as the values a surface renders -----------


@dataclass(frozen=True)
class HandoffView:
    """One handoff as one viewer may see it on one surface; what is hidden is "" or None. The clinic
    reads its live records; the trainer reads the snapshot, what was sent."""

    shown: frozenset[handoffs_policies.Shown]
    is_clinic_side: bool
    clinic: str
    physiotherapist: str
    patient_name: str
    client_label: str  # the patient's name, or a neutral label saying why it is not shown
    guidelines: dict[str, Any] | None  # the snapshot, its diagnosis taken out unless shown
    trainer_id: int | None

    @property
    def diagnosis(self) -> dict[str, Any] | None:
        return (
            (self.guidelines or {}).get("diagnosis")
            if handoffs_policies.Shown.DIAGNOSIS in self.shown
            else None
        )

    def names_actor(self, event: HandoffEvent) -> bool:
        """Whether a timeline names who did it: the trainer always; the clinic's people only while the
        physiotherapist is shown; never a person for the system's events (it is named, not hidden)."""
        if event.actor_id is None:
            return False
        return event.actor_id == self.trainer_id or handoffs_policies.Shown.PHYSIOTHERAPIST in self.shown

    def actor_name(self, event: HandoffEvent) -> str:
        """Who did it, on a timeline: the person when `names_actor`, "Handoff (automatic)" for the
        system, otherwise the clinic."""
        if event.actor is None:
            return event.actor_display
        if self.names_actor(event):
            return event.actor.full_name
        return self.clinic or "The clinic"


def neutral_client_label(*, status: str, consent_withdrawn: bool) -> str:
    if consent_withdrawn:
        return "Client (consent withdrawn)"
    if status in handoffs_policies.GUIDELINES_WITHDRAWN:
        return f"Client (referral {HandoffStatus(status).label.lower()})"
    return "Client (not shared)"


def _view(
    *,
    shown: frozenset[handoffs_policies.Shown],
    is_clinic_side: bool,
    names: tuple[str, str, str],
    snapshot: dict[str, Any] | None,
    status: str,
    consent_withdrawn: bool,
    trainer_id: int | None,
) -> HandoffView:
    S_ = handoffs_policies.Shown
    clinic, physiotherapist, patient_name = names
    guidelines = None
    if S_.GUIDELINES in shown and snapshot:
        guidelines = snapshot if S_.DIAGNOSIS in shown else {**snapshot, "diagnosis": None}
        guidelines = {**guidelines, "precautions": precautions_marked(guidelines.get("precautions") or [])}
    patient_name = patient_name if S_.PATIENT_NAME in shown else ""
    return HandoffView(
        shown=shown,
        is_clinic_side=is_clinic_side,
        clinic=clinic if S_.CLINIC in shown else "",
        physiotherapist=physiotherapist if S_.PHYSIOTHERAPIST in shown else "",
        patient_name=patient_name,
        client_label=patient_name or neutral_client_label(status=status, consent_withdrawn=consent_withdrawn),
        guidelines=guidelines,
        trainer_id=trainer_id,
    )


def precautions_marked(precautions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each precaution with `ended`: True the day after its `valid_until` (it stays in the guidelines,
    shown as ended; timers.precautions tells the trainer that day)."""
    today = timezone.localdate().isoformat()
    return [
        {**p, "ended": bool(p.get("valid_until")) and str(p.get("valid_until")) < today} for p in precautions
    ]


def handoff_view_for_user(
    *, user: User, handoff: TrainerHandoff, surface: handoffs_policies.Surface
) -> HandoffView:
    """`handoff` (with its plan, patient, clinic, physiotherapist and consent joined, as
    `handoff_list_for_user` reads it) as `user` may see it on `surface`."""
    shown = handoffs_policies.handoff_shown(user, handoff, surface)
    is_clinic_side = referrals_access.is_clinic_physio(user, handoff.clinic_id)
    snapshot = guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id)
    if is_clinic_side:
        plan = handoff.plan
        names = (plan.patient.clinic.name, plan.physiotherapist.full_name, plan.patient.full_name)
    else:
        sent = snapshot or {}
        names = (
            str(sent.get("clinic") or handoff.plan.patient.clinic.name),
            str(sent.get("physiotherapist", "")),
            str((sent.get("patient") or {}).get("name", "")),
        )
    consent = handoff.consent
    return _view(
        shown=shown,
        is_clinic_side=is_clinic_side,
        names=names,
        snapshot=snapshot,
        status=handoff.status,
        consent_withdrawn=consent is None or consent.withdrawn_at is not None,
        trainer_id=handoff.trainer_id,
    )


def handoff_summary_view_for_user(
    *, user: User, row: dict[str, Any], surface: handoffs_policies.Surface
) -> HandoffView:
    """A row of `handoff_summary_list_for_user` as `user` may see it on a list `surface`."""
    shown = handoffs_policies.handoff_shown_of_summary(user, row, surface)
    is_clinic_side = referrals_access.is_clinic_physio(user, row["clinic_id"])
    if is_clinic_side:
        names = (
            row["clinic__name"],
            row["plan__physiotherapist__full_name"],
            row["plan__patient__full_name"],
        )
    else:
        names = (
            str(row["snapshot_clinic"] or ""),
            str(row["snapshot_physiotherapist"] or ""),
            str(row["snapshot_patient"] or ""),
        )
    return _view(
        shown=shown,
        is_clinic_side=is_clinic_side,
        names=names,
        snapshot=None,
        status=row["status"],
        consent_withdrawn=row["consent_id"] is None or row["consent__withdrawn_at"] is not None,
        trainer_id=row["trainer_id"],
    )
