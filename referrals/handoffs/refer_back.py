"""Back to the physiotherapist: the trainer or a physiotherapist of the clinic sends the client back.

Not an entry of the registry (registry.REFERRED_BACK says why): one service, with its own policy
(progress.policies.can_refer_back), that moves the referral on behalf of either side through the one
transition table, with the business status "referred-back" that gives the plan back to the
physiotherapist (lifecycle.plan_status_from_referrals)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from referrals.common import _clean_text
from referrals.errors import InvalidTransition, NotPermitted
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs.lifecycle import (
    S,
    handoff_event_notify,
    handoff_lock,
    handoff_record_event,
    handoff_transition,
)
from referrals.handoffs.models import REASON_MAX_LENGTH, HandoffEvent, TrainerHandoff
from referrals.progress import policies as progress_policies

# The status reason of a referral referred back: this, then the note.
REASON_PREFIX = "Referred back to the physiotherapist: "
# The note fits the status reason with its prefix.
NOTE_MAX_LENGTH = REASON_MAX_LENGTH - len(REASON_PREFIX)
REFER_BACK_SOURCES = progress_policies.REFER_BACK_SOURCES


def refer_back_target(status: str, *, end: bool = False) -> str:
    """What referring back does from `status`: a referral in progress goes on hold (the client may come
    back to the trainer) unless `end`; an accepted one (never started) or one on hold fails."""
    if status == S.IN_PROGRESS and not end:
        return S.ON_HOLD
    return S.FAILED


def handoff_refer_back(
    *, handoff: TrainerHandoff, actor: User, note: str, end: bool = False
) -> TrainerHandoff:
    """The client goes back to the physiotherapist: in progress -> on hold (or failed with `end`),
    accepted or on hold -> failed, with the reason "Referred back to the physiotherapist: <note>" and the
    business status "referred-back" (the plan is active again). One urgent event for the physiotherapists
    when the trainer did it, one for the trainer when a physiotherapist did (never the actor); the status
    change beside it tells nobody again."""
    note = _clean_text(note, field="note", required=True, max_length=NOTE_MAX_LENGTH)
    with transaction.atomic():
        locked = handoff_lock(handoff)
        if not progress_policies.can_refer_back(actor, locked):
            raise NotPermitted(
                "Only the referral's trainer or a physiotherapist of the referring clinic can refer the"
                " client back."
            )
        if locked.status not in REFER_BACK_SOURCES:
            raise InvalidTransition(
                f"A referral that is {S(locked.status).label.lower()} cannot be referred back to the"
                " physiotherapist: only one accepted, in progress or on hold.",
                current_status=locked.status,
            )
        by_trainer = handoffs_policies.is_handoff_trainer(actor, locked)
        event = handoff_record_event(
            handoff=locked,
            actor=actor,
            kind=HandoffEvent.Kind.REFERRED_BACK,
            from_status=locked.status,
            text=note,
            urgent=by_trainer,
            notify=False,
        )
        handoff_transition(
            handoff=locked,
            to=refer_back_target(locked.status, end=end),
            actor=actor,
            reason=REASON_PREFIX + note,
            on_behalf=True,
            notify=False,
            business_status=handoffs_registry.REFERRED_BACK.code,
        )
        handoff_event_notify(locked, event)
    return locked
