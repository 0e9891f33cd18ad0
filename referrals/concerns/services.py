"""Raising, acknowledging and resolving concerns; each answer is an event of its own."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from referrals.common import _clean_text
from referrals.concerns import policies as concerns_policies
from referrals.concerns.models import CONCERN_MAX_LENGTH, CONCERN_NOTE_MAX_LENGTH, Concern
from referrals.errors import (
    ConcernAlreadyResolved,
    InvalidTransition,
    NotPermitted,
)
from referrals.handoffs.lifecycle import (
    S,
    handoff_event_notify,
    handoff_lock,
    handoff_record_event,
    handoff_transition,
)
from referrals.handoffs.models import (
    OPEN_STATUSES,
    REASON_MAX_LENGTH,
    HandoffEvent,
    TrainerHandoff,
)


def handoff_raise_concern(
    *, handoff: TrainerHandoff, actor: User, text: str, hold: bool = False
) -> HandoffEvent:
    """The trainer saw a red flag, pain, or has a question: the PT is told, urgently. With `hold`, the
    handoff is also put on hold (from in progress) with the concern as its reason: two events on the
    timeline, one notification and one email per person (the concern's, which says it was put on hold)."""
    with transaction.atomic():
        locked = handoff_lock(handoff)
        concern = concern_raise_locked(handoff=locked, actor=actor, text=text, hold=hold)
    return concern.event


def concern_raise_locked(*, handoff: TrainerHandoff, actor: User, text: str, hold: bool = False) -> Concern:
    """`handoff_raise_concern` inside the caller's transaction, on the referral it locked
    (`handoffs.lifecycle.handoff_lock`): the same rule, checks, events and urgent notifications. The
    safety fast lane of a session log (progress.services.session_log) raises its concern through it."""
    if not concerns_policies.can_raise_concern(actor, handoff):
        raise NotPermitted("Only the trainer the referral was sent to can raise a concern on it.")
    text = _clean_text(text, field="text", required=True, max_length=CONCERN_MAX_LENGTH)
    if handoff.status not in OPEN_STATUSES or handoff.status == S.DRAFT:
        raise InvalidTransition(
            "A concern can be raised only on an open referral.", current_status=handoff.status
        )
    if hold and handoff.status != S.IN_PROGRESS:
        raise InvalidTransition(
            "Only a referral in progress can be put on hold.", current_status=handoff.status
        )
    event = handoff_record_event(
        handoff=handoff, actor=actor, kind=HandoffEvent.Kind.CONCERN, text=text, urgent=True, notify=False
    )
    concern = Concern.objects.create(handoff=handoff, event=event, put_on_hold=hold)
    if hold:
        handoff_transition(
            handoff=handoff, to=S.ON_HOLD, actor=actor, reason=text[:REASON_MAX_LENGTH], notify=False
        )
    handoff_event_notify(handoff, event)
    return concern


def _locked_concern(concern: Concern) -> Concern:
    return (
        Concern.objects.select_for_update(of=("self",))
        .select_related(
            "event__actor",
            "handoff__plan__patient__clinic",
            "handoff__plan__physiotherapist",
            "handoff__trainer",
            "handoff__gym",
            "handoff__created_by",
        )
        .get(pk=concern.pk)
    )


def _concern_answered(*, concern: Concern, actor: User, kind: str, text: str = "") -> None:
    """Append the answer's event: the trainer who raised the concern is told while still the referral's
    active trainer at its gym (`_recipients`)."""
    handoff_record_event(handoff=concern.handoff, actor=actor, kind=kind, text=text, regarding=concern)


def concern_acknowledge(*, concern: Concern, actor: User) -> Concern:
    """A physiotherapist of the clinic has seen the concern. Idempotent: acknowledging an acknowledged
    concern changes nothing and tells nobody again; a resolved one is closed (ConcernAlreadyResolved)."""
    with transaction.atomic():
        locked = _locked_concern(concern)
        if not concerns_policies.can_answer_concern(actor, locked.handoff):
            raise NotPermitted("Only a physiotherapist of the referring clinic can acknowledge a concern.")
        if locked.resolved_at is not None:
            raise ConcernAlreadyResolved("This concern was resolved already.")
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _concern_answered(concern=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN_ACKNOWLEDGED)
    return locked


def concern_resolve(*, concern: Concern, actor: User, note: str) -> Concern:
    """A physiotherapist of the clinic closes the concern with a note (what was done, what to do). A concern
    not yet acknowledged is acknowledged by the same act. Resolving twice is refused (ConcernAlreadyResolved):
    the first note stands."""
    note = _clean_text(note, field="note", required=True, max_length=CONCERN_NOTE_MAX_LENGTH)
    with transaction.atomic():
        locked = _locked_concern(concern)
        if not concerns_policies.can_answer_concern(actor, locked.handoff):
            raise NotPermitted("Only a physiotherapist of the referring clinic can resolve a concern.")
        if locked.resolved_at is not None:
            raise ConcernAlreadyResolved("This concern was resolved already.")
        now = timezone.now()
        fields = ["resolved_at", "resolved_by", "resolution_note"]
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by = now, actor
            fields += ["acknowledged_at", "acknowledged_by"]
        locked.resolved_at, locked.resolved_by, locked.resolution_note = now, actor, note
        locked.save(update_fields=fields)
        _concern_answered(concern=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN_RESOLVED, text=note)
    return locked
