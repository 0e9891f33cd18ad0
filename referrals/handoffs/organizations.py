"""What an organization change does to the open referrals it touches: a partnership ended, a trainer
removed from a gym, a membership ended, a user deactivated, a physiotherapist leaving a clinic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Certification, Membership, Organization, Partnership, User
from referrals import access as referrals_access
from referrals.care.models import (
    TreatmentPlan,
)
from referrals.errors import (
    NotPermitted,
)
from referrals.handoffs.lifecycle import S, handoff_record_event, handoff_transition, is_active_physio
from referrals.handoffs.models import (
    OPEN_STATUSES,
    HandoffEvent,
    TrainerHandoff,
)

# --- organizations change ------------------------------------------------------------------------------
# Called by the Django admin (accounts/admin.py). Each says what happens to the open referrals it touches
# and tells the people concerned through the events, in the same transaction as the change.
# History: a membership that ends is deleted (the scope, the admin and every role check read memberships
# as they are now; an `ended_at` column would have to be filtered by every one of them). What happened is
# in the referrals' events, whose reason names it; a partnership is kept, inactive.


def _locked_open_handoffs(**filters: Any) -> list[TrainerHandoff]:
    return list(
        TrainerHandoff.objects.select_for_update(of=("self",))
        .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
        .filter(status__in=OPEN_STATUSES, **filters)
        .order_by("pk")
    )


def _cancel_all(handoffs: Iterable[TrainerHandoff], *, actor: User, reason: str) -> list[TrainerHandoff]:
    """Cancel each (a draft silently: its trainer never saw it), told as `_recipients` says."""
    cancelled = []
    for handoff in handoffs:
        handoff_transition(handoff=handoff, to=S.CANCELLED, actor=actor, reason=reason, on_behalf=True)
        cancelled.append(handoff)
    return cancelled


def partnership_end(*, partnership: Partnership, actor: User) -> list[TrainerHandoff]:
    """The clinic no longer refers to the gym: the partnership is inactive and every open referral of the
    clinic to that gym is cancelled, naming why. Returns the cancelled referrals. Idempotent."""
    if not (
        referrals_access.can_manage_organization(actor, partnership.clinic_id)
        or referrals_access.can_manage_organization(actor, partnership.gym_id)
    ):
        raise NotPermitted("Only an admin of the clinic or of the gym can end their partnership.")
    with transaction.atomic():
        locked = (
            Partnership.objects.select_for_update().select_related("clinic", "gym").get(pk=partnership.pk)
        )
        if locked.active:
            locked.active = False
            locked.save(update_fields=["active"])
        reason = f"The partnership between {locked.clinic} and {locked.gym} ended."
        cancelled = _cancel_all(
            _locked_open_handoffs(clinic_id=locked.clinic_id, gym_id=locked.gym_id),
            actor=actor,
            reason=reason,
        )
    partnership.active = False
    return cancelled


def trainer_remove_from_gym(*, membership: Membership, actor: User) -> list[TrainerHandoff]:
    """The trainer no longer works at the gym: the membership goes, the trainer's open referrals at that gym
    are cancelled (the clinic is told; the trainer can no longer open them), and that gym's clients no
    longer count toward the trainer's capacity. Returns the cancelled referrals."""
    if membership.role != Membership.Role.TRAINER:
        raise ValidationError({"role": "This membership is not a trainer's."})
    if not referrals_access.can_manage_organization(actor, membership.organization_id):
        raise NotPermitted("Only an admin of the gym can remove one of its trainers.")
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=membership.pk)
        )
        trainer, gym = locked.user, locked.organization
        locked.delete()
        reason = f"{trainer} is no longer a trainer at {gym}."
        return _cancel_all(_locked_open_handoffs(trainer=trainer, gym=gym), actor=actor, reason=reason)


def physio_leave_clinic(
    *, membership: Membership, actor: User, colleague: User | None = None
) -> list[TrainerHandoff]:
    """A physiotherapist leaves a clinic: the membership goes; their plans there that are not completed are
    handed to `colleague` (an active physiotherapist of the same clinic), and every open referral they
    treat or created there records the handover, which tells the colleague (or, without one, the clinic's
    other physiotherapists) and the trainer. Returns the referrals handed over."""
    if membership.role != Membership.Role.PHYSIOTHERAPIST:
        raise ValidationError({"role": "This membership is not a physiotherapist's."})
    if not referrals_access.can_manage_organization(actor, membership.organization_id):
        raise NotPermitted("Only an admin of the clinic can remove one of its physiotherapists.")
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=membership.pk)
        )
        physio, clinic = locked.user, locked.organization
        if colleague is not None and (
            colleague.pk == physio.pk or not is_active_physio(colleague, clinic.pk)
        ):
            raise ValidationError({"colleague": f"Choose another active physiotherapist of {clinic}."})
        locked.delete()
        referrals_access.forget_roles(physio)
        return _hand_over(
            physio=physio, clinic=clinic, actor=actor, colleague=colleague, why=f"left {clinic}"
        )


def _hand_over(
    *, physio: User, clinic: Organization, actor: User, colleague: User | None, why: str
) -> list[TrainerHandoff]:
    """Hand `physio`'s plans at `clinic` to `colleague` and record it on their open referrals."""
    if colleague is not None:
        TreatmentPlan.objects.filter(patient__clinic=clinic, physiotherapist=physio).exclude(
            status=TreatmentPlan.Status.COMPLETED
        ).update(physiotherapist=colleague, updated_at=timezone.now())
        text = f"{physio} {why}; {colleague} now looks after this referral."
    else:
        text = f"{physio} {why}; no colleague was named, so the clinic's physiotherapists are told."
    handed = _locked_open_handoffs(clinic_id=clinic.pk)
    handed = [h for h in handed if physio.pk in (h.created_by_id, h.plan.physiotherapist_id)]
    for handoff in handed:
        if colleague is not None and handoff.plan.physiotherapist_id == physio.pk:
            handoff.plan.physiotherapist = colleague
        handoff_record_event(
            handoff=handoff,
            actor=actor,
            kind=HandoffEvent.Kind.HANDOVER,
            from_status=handoff.status,
            text=text,
        )
    return handed


def membership_end(*, membership: Membership, actor: User, colleague: User | None = None) -> None:
    """Remove a membership, with what its role's service does to the referrals it touches (the admin's
    delete of a membership)."""
    if membership.role == Membership.Role.TRAINER:
        trainer_remove_from_gym(membership=membership, actor=actor)
    elif membership.role == Membership.Role.PHYSIOTHERAPIST:
        physio_leave_clinic(membership=membership, actor=actor, colleague=colleague)
    else:
        if not referrals_access.can_manage_organization(actor, membership.organization_id):
            raise NotPermitted("Only an admin of the organization can remove one of its members.")
        with transaction.atomic():
            Membership.objects.filter(pk=membership.pk).delete()


def user_deactivate(*, user: User, actor: User) -> list[TrainerHandoff]:
    """The user can no longer log in or be told anything. As a trainer, their open referrals are cancelled
    (the clinics are told); as a physiotherapist, their open referrals record the handover to the clinic's
    other physiotherapists, who are told from now on. Returns the referrals touched. Idempotent."""
    if not referrals_access.can_deactivate_user(actor, user):
        raise NotPermitted("You cannot deactivate this user.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
        user.is_active = False
        touched = _cancel_all(
            _locked_open_handoffs(trainer=locked), actor=actor, reason=f"{locked} was deactivated."
        )
        clinic_ids = Membership.objects.filter(user=locked, role=Membership.Role.PHYSIOTHERAPIST).values_list(
            "organization_id", flat=True
        )
        for clinic in Organization.objects.filter(pk__in=list(clinic_ids)).order_by("pk"):
            touched += _hand_over(
                physio=locked, clinic=clinic, actor=actor, colleague=None, why="was deactivated"
            )
    return touched


def certification_verify(*, certification: Certification, actor: User) -> Certification:
    if not referrals_access.can_verify_certification(actor):
        raise NotPermitted("Only staff can verify a certification.")
    with transaction.atomic():
        locked = Certification.objects.select_for_update().get(pk=certification.pk)
        if not locked.verified:
            locked.verified = True
            locked.verified_by = actor
            locked.verified_at = timezone.now()
            locked.save(update_fields=["verified", "verified_by", "verified_at"])
    return locked
