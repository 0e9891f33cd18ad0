"""Who may raise and answer a concern."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from referrals.access import is_clinic_physio
from referrals.handoffs.models import TrainerHandoff
from referrals.handoffs.policies import clinic_id_of, is_handoff_trainer


def can_raise_concern(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    return is_handoff_trainer(user, handoff)


def can_answer_concern(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """Acknowledge or resolve a trainer's concern: the physiotherapists of the referring clinic, whatever
    the referral's status since (a concern outlives the referral it was raised on)."""
    return is_clinic_physio(user, clinic_id_of(handoff))
