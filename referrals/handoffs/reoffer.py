"""The one-click re-offer: a referral still waiting for its trainer's answer is offered to another trainer
in one step. The waiting referral is cancelled ("Offered to another trainer.", its trainer told) and the
plan sent to the other, in one transaction: if the send is refused (the other trainer not eligible, no
consent for their gym), nothing changed and the blockers are raised (SendBlocked). Who may: the clinic's
side of the referral (the cancel action's rule, policies.can_act); the trainer must be one the clinic could
choose on the discharge page (the caller looks them up with eligibility.trainer_membership_get_for_plan)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Organization, User
from referrals.errors import InvalidTransition, NotPermitted
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.lifecycle import S, handoff_lock, handoff_transition
from referrals.handoffs.models import HandoffEvent, TrainerHandoff

REOFFER_REASON = "Offered to another trainer."


def can_reoffer_waiting(user: User, handoff: TrainerHandoff) -> bool:
    """Whether the page offers the re-offer: the clinic's side, on a referral still waiting for an answer."""
    return handoff.status == S.REQUESTED and handoffs_policies.can_act(user, handoff, "clinic")


def suggests_reoffer(user: User, handoff: TrainerHandoff, events: Iterable[HandoffEvent]) -> bool:
    """Whether the referral page lists other trainers to re-offer to: the clinic may re-offer
    (`can_reoffer_waiting`) and the timers have told it of no answer (a NO_ANSWER event among `events`,
    the timeline the page has already read). The service itself allows a re-offer whenever it is waiting."""
    return can_reoffer_waiting(user, handoff) and any(e.kind == HandoffEvent.Kind.NO_ANSWER for e in events)


def handoff_reoffer(
    *, handoff: TrainerHandoff, trainer: User, gym: Organization, actor: User
) -> TrainerHandoff:
    """Cancel the waiting referral and send its plan to `trainer` at `gym`; the new referral."""
    if trainer.pk == handoff.trainer_id and gym.pk == handoff.gym_id:
        raise InvalidTransition(
            "The referral is already waiting for that trainer.", current_status=handoff.status
        )
    with transaction.atomic():
        locked = handoff_lock(handoff)
        if not can_reoffer_waiting(actor, locked):
            if locked.status != S.REQUESTED:
                raise InvalidTransition(
                    "Only a referral still waiting for the trainer's answer can be offered to another one.",
                    current_status=locked.status,
                )
            raise NotPermitted("Only the referring clinic can offer the referral to another trainer.")
        cancel = handoffs_registry.ACTIONS["cancel"]
        handoff_transition(handoff=locked, to=cancel.to, actor=actor, reason=REOFFER_REASON)
        return handoffs_sending.plan_discharge(plan=locked.plan, trainer=trainer, gym=gym, actor=actor)
