"""Creating and sending a referral: the send checks at the moment of sending, the frozen snapshot of the
guidelines, the discharge of the plan (create and send in one pass)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization, TrainerProfile, User
from referrals.care import policies as care_policies
from referrals.care import selectors as care_selectors
from referrals.care.models import (
    Consent,
    TreatmentPlan,
)
from referrals.errors import (
    Blocker,
    InvalidTransition,
    NotPermitted,
    SendBlocked,
)
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.lifecycle import (
    S,
    _check_actor,
    handoff_event_notify,
    handoff_lock,
    handoff_record_event,
    handoff_transition,
)
from referrals.handoffs.models import (
    REFERRED_BACK,
    HandoffEvent,
    TrainerHandoff,
)

# --- handoffs ------------------------------------------------------------------------------------------


def _snapshot(plan: TreatmentPlan, consent: Consent, *, sent_at: datetime.datetime) -> dict[str, Any]:
    """What the trainer is sent, frozen: later edits to the plan do not change it. Built by the selector
    the clinic's "review before send" page uses too, so the preview and the snapshot cannot drift."""
    return handoffs_snapshot.guidelines_snapshot(plan=plan, consent=consent, sent_at=sent_at)


def handoff_create(*, plan: TreatmentPlan, trainer: User, gym: Organization, actor: User) -> TrainerHandoff:
    """A draft offer of the plan to a trainer. The plan may have only one open handoff at a time."""
    if not care_policies.can_discharge(actor, plan):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can refer them.")
    clinic = plan.patient.clinic
    _raise_organization_blockers(
        handoffs_eligibility.handoff_organization_blockers(clinic=clinic, trainer=trainer, gym=gym)
    )
    with transaction.atomic():
        locked_plan = TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
        existing = handoffs_selectors.handoff_get_open_for_plan(plan=plan)
        _check_plan_can_be_offered(
            locked_plan,
            open_status=None if existing is None else existing.status,
            referred_back=existing is not None and existing.is_referred_back,
        )
        handoff = TrainerHandoff(
            plan=plan, clinic_id=plan.patient.clinic_id, trainer=trainer, gym=gym, created_by=actor
        )
        with transaction.atomic():
            _insert_handoff(handoff)
        handoff_record_event(
            handoff=handoff, actor=actor, kind=HandoffEvent.Kind.TRANSITION, to_status=S.DRAFT
        )
    return handoff


def _raise_organization_blockers(blockers: list[Blocker]) -> None:
    """handoff_create's refusal: the organization blockers as a ValidationError, by field."""
    if blockers:
        errors: dict[str, list[str]] = {}
        for blocker in blockers:
            field = "gym" if blocker.code == "no_active_partnership" else "trainer"
            errors.setdefault(field, []).append(blocker.message)
        raise ValidationError(errors)


def _check_plan_can_be_offered(
    locked_plan: TreatmentPlan, *, open_status: str | None, referred_back: bool = False
) -> None:
    """Not a completed plan, nor one with an open referral (`open_status`: that referral's status;
    `referred_back`: it is on hold, the client back with the physiotherapist, the plan active again)."""
    if locked_plan.status == TreatmentPlan.Status.COMPLETED:
        raise InvalidTransition(
            "This plan is completed: it cannot be sent again. A new episode of care is a new plan.",
            current_status=S.COMPLETED,
            code="plan_completed",
        )
    if open_status is not None and referred_back:
        raise InvalidTransition(
            "This plan's referral is on hold, referred back to you: it is still open. If the client goes"
            " back to the same trainer, the trainer resumes it; otherwise end it (refer back, ending the"
            " referral) or cancel it before offering the plan to someone else.",
            current_status=open_status,
            code="plan_has_open_handoff",
        )
    if open_status is not None:
        raise InvalidTransition(
            "This plan already has an open referral; cancel it before offering the plan to someone else.",
            current_status=open_status,
            code="plan_has_open_handoff",
        )


def _insert_handoff(handoff: TrainerHandoff) -> None:
    try:
        handoff.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create won the one-open-handoff constraint
        raise InvalidTransition(
            "This plan already has an open referral.",
            current_status=S.DRAFT,
            code="plan_has_open_handoff",
        ) from exc


def handoff_send(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """draft -> requested: check every precondition, freeze the guidelines, discharge the plan."""
    with transaction.atomic():
        locked = handoff_lock(handoff)
        if not handoffs_policies.can_act(actor, locked, handoffs_registry.ACTIONS["send"].side):
            raise NotPermitted("Only the referring clinic can send a referral.")
        if locked.status != S.DRAFT:
            raise InvalidTransition(
                f"Only a draft can be sent; this referral is {S(locked.status).label.lower()}.",
                current_status=locked.status,
            )
        # Serialize sends to one trainer, so two sends cannot both take the last free place.
        TrainerProfile.objects.select_for_update().filter(user=locked.trainer).first()
        plan = (
            TreatmentPlan.objects.select_for_update(of=("self",))
            .select_related("patient__clinic", "physiotherapist")
            .get(pk=locked.plan_id)
        )
        blockers = handoffs_eligibility.handoff_send_blockers(
            plan=plan, trainer=locked.trainer, gym=locked.gym, exclude_handoff_id=locked.pk
        )
        if blockers:
            raise SendBlocked(blockers)
        consent = care_selectors.consent_get_active(patient=plan.patient, gym_id=locked.gym_id)
        assert consent is not None  # noqa: S101 - handoff_send_blockers checked it under the lock
        now = timezone.now()
        locked.consent = consent
        locked.snapshot = _snapshot(plan, consent, sent_at=now)
        locked.sent_at = now
        locked.save(update_fields=["consent", "snapshot", "sent_at", "updated_at"])
        handoff_transition(handoff=locked, to=S.REQUESTED, actor=actor)  # the plan follows: discharged
    return locked


def plan_discharge(*, plan: TreatmentPlan, trainer: User, gym: Organization, actor: User) -> TrainerHandoff:
    """Discharge the patient to a trainer: create the handoff and send it, all or nothing.

    What `handoff_create` then `handoff_send` do, with the same checks in the same order, the same errors
    and the same rows (the handoff, its draft and requested events, the trainer's notification and
    email), in one transaction that reads each fact once: 11 queries where the two in turn made 35
    (tests/test_query_counts.py; tests/test_services.py compares the two paths). The draft is inserted
    already sent: nobody can see it before the commit, so it needs no lock of its own. The trainer is
    locked first, with the organization facts and the caseload on the same row (handoff_send's order:
    trainer, then plan), then the plan, with its referrals' facts."""
    if not care_policies.can_discharge(actor, plan):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can refer them.")
    clinic = plan.patient.clinic
    today = timezone.localdate()
    with transaction.atomic():
        # Serialize sends to one trainer (handoff_send), reading what the checks need of them with the lock.
        profile = (
            TrainerProfile.objects.select_for_update(of=("self",))
            .filter(user=trainer)
            .annotate(**handoffs_eligibility.trainer_send_columns(clinic=clinic, gym=gym, today=today))
            .first()
        )
        if profile is not None:
            at_gym, partnered = (
                bool(getattr(profile, "send_at_gym", False)),
                bool(getattr(profile, "send_partnered", False)),
            )
        else:  # no profile (the send refuses it below): the two facts on their own
            at_gym, partnered = handoffs_eligibility.handoff_organization_facts(
                clinic=clinic, trainer=trainer, gym=gym
            )
        _raise_organization_blockers(  # handoff_create's check
            handoffs_eligibility.handoff_organization_blockers_from(
                clinic=clinic, trainer=trainer, gym=gym, at_gym=at_gym, partnered=partnered
            )
        )
        locked_plan = (
            TreatmentPlan.objects.select_for_update(of=("self",))
            .select_related("patient__clinic", "physiotherapist")
            .annotate(**handoffs_eligibility.plan_referral_columns())
            .get(pk=plan.pk)
        )
        _check_plan_can_be_offered(
            locked_plan,
            open_status=getattr(locked_plan, "open_handoff_status", None),
            referred_back=getattr(locked_plan, "open_handoff_business_status", "") == REFERRED_BACK,
        )
        handoff = TrainerHandoff(
            plan=locked_plan, clinic_id=clinic.pk, trainer=trainer, gym=gym, created_by=actor
        )
        # handoff_send's checks, on the draft about to be inserted
        if not handoffs_policies.can_act(actor, handoff, handoffs_registry.ACTIONS["send"].side):
            raise NotPermitted("Only the referring clinic can send a referral.")
        consent = care_selectors.consent_get_active(patient=locked_plan.patient, gym_id=gym.pk)
        now = timezone.now()
        snapshot = None if consent is None else _snapshot(locked_plan, consent, sent_at=now)
        blockers = handoffs_eligibility.handoff_send_blockers_from(
            clinic=clinic,
            trainer=trainer,
            gym=gym,
            at_gym=at_gym,
            partnered=partnered,
            consented=consent is not None,
            has_exercises=bool(snapshot["exercises"]) if snapshot else locked_plan.exercises.exists(),
            profile=profile,
            caseload=0 if profile is None else int(getattr(profile, "send_caseload", 0)),
            today=today,
        )
        if blockers:
            raise SendBlocked(blockers)
        assert consent is not None and snapshot is not None  # noqa: S101 - the blockers checked them
        handoff.status, handoff.consent, handoff.snapshot, handoff.sent_at = (
            S.REQUESTED,
            consent,
            snapshot,
            now,
        )
        _check_actor(handoff=handoff, to=S.REQUESTED, actor=actor)
        _insert_handoff(handoff)
        _, requested = HandoffEvent.objects.bulk_create(  # handoff_record_event's two rows, in one insert
            [
                HandoffEvent(
                    handoff=handoff, kind=HandoffEvent.Kind.TRANSITION, actor=actor, to_status=S.DRAFT
                ),
                HandoffEvent(
                    handoff=handoff,
                    kind=HandoffEvent.Kind.TRANSITION,
                    actor=actor,
                    from_status=S.DRAFT,
                    to_status=S.REQUESTED,
                ),
            ]
        )
        # the plan follows its referrals (plan_status_from_referrals): those sent before, and this one
        completed = bool(getattr(locked_plan, "any_completed", False))
        status = TreatmentPlan.Status.COMPLETED if completed else TreatmentPlan.Status.DISCHARGED
        discharged_at = min(getattr(locked_plan, "first_sent_at", None) or now, now)
        if (locked_plan.status, locked_plan.discharged_at) != (status, discharged_at):
            locked_plan.status, locked_plan.discharged_at = status, discharged_at
            locked_plan.save(update_fields=["status", "discharged_at", "updated_at"])
        # _recipients of a new referral: the trainer, an active trainer at the gym (checked above, locked)
        handoff_event_notify(handoff, requested, recipients=[trainer] if trainer.pk != actor.pk else [])
    return handoff
