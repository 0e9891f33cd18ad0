"""The life cycle's machinery: the one transition table (from the registry), who may move a referral
and who is told, the event rows and the plan's status that follows its referrals."""

from __future__ import annotations

import datetime

from django.db import transaction

from accounts.models import Membership, User
from referrals.care.models import (
    TreatmentPlan,
)
from referrals.common import _clean_text
from referrals.concerns.models import CONCERN_MAX_LENGTH, Concern
from referrals.errors import (
    Blocker,
    InvalidTransition,
    NoLongerEligible,
    NotPermitted,
)
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs.models import (
    REASON_MAX_LENGTH,
    REASON_REQUIRED_STATUSES,
    REFERRED_BACK,
    HandoffEvent,
    HandoffStatus,
    TrainerHandoff,
)
from referrals.notify.models import HANDOFF_EVENT_KIND, event_source_key
from referrals.notify.services import notify
from referrals.progress.models import ProgressReport
from referrals.timers import schedule as timers_schedule

S = HandoffStatus


Side = handoffs_registry.Side


HandoffAction = handoffs_registry.HandoffAction


# The one transition table, from the registry: target status -> (who sets it, the statuses it may be
# reached from).
TRANSITIONS: dict[str, tuple[Side, frozenset[str]]] = handoffs_registry.transitions()


# The text limits live in referrals.models (one place for pages, API and admin); these names stay for callers.
TEXT_MAX_LENGTH = CONCERN_MAX_LENGTH


def handoff_lock(handoff: TrainerHandoff) -> TrainerHandoff:
    return (
        TrainerHandoff.objects.select_for_update(of=("self",))
        .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
        .get(pk=handoff.pk)
    )


def _recipients(handoff: TrainerHandoff, event: HandoffEvent) -> list[User]:
    """Who is told, the one rule: only people who can act on it, never the actor.

    The trainer hears of a new referral, and of a sent one cancelled or withdrawn, handed to another
    physiotherapist or referred back to the physiotherapist by the clinic, while they are an active user
    and still a trainer at the referral's gym. The clinic hears of everything else (answers, concerns,
    refused steps, handovers, a client referred back by the trainer) and of a cancellation it did not
    make itself (an admin, an organization change): the treating physiotherapist and the one who created
    the referral while they are active physiotherapists of the patient's clinic; when neither is, the
    clinic's active physiotherapists, so nothing reaches nobody."""
    kind = event.kind
    was_sent = handoff.sent_at is not None
    trainer_told = clinic_told = False
    if kind == HandoffEvent.Kind.TRANSITION:
        # Who hears of a move is its action's (the registry's `recipients`); a draft created is the
        # clinic's own business: nobody is told.
        action = handoffs_registry.action_for_move(event.from_status, event.to_status)
        told = action.recipients if action is not None else handoffs_registry.Recipients()
        if event.from_status not in told.silent_from:
            trainer_told = told.trainer
            clinic_told = told.clinic == "always" or (
                told.clinic == "unless_it_acted"
                and (event.actor is None or not is_active_physio(event.actor, handoff.clinic_id))
            )
    elif kind == HandoffEvent.Kind.HANDOVER:
        trainer_told, clinic_told = was_sent and handoff.status != S.DRAFT, True
    elif kind == HandoffEvent.Kind.REFERRED_BACK:
        # the client sent back to the physiotherapist: both sides hear of it, the actor aside (the
        # physiotherapist urgently when the trainer did it)
        trainer_told = clinic_told = True
    elif kind in (HandoffEvent.Kind.CONCERN_ACKNOWLEDGED, HandoffEvent.Kind.CONCERN_RESOLVED):
        # the answer to a concern goes to the trainer who raised it (only the referral's trainer can)
        trainer_told = True
    elif kind == HandoffEvent.Kind.REPORT_ACKNOWLEDGED:
        trainer_told = True  # the trainer who wrote it learns it was read
    elif kind == HandoffEvent.Kind.REMINDER:
        trainer_told = True  # the timers: the trainer has not answered a referral
    elif kind == HandoffEvent.Kind.NO_ANSWER:
        clinic_told = True  # the timers: the clinic learns the trainer has not answered
    elif kind == HandoffEvent.Kind.PRECAUTION_ENDED:
        trainer_told = True  # the timers: a restriction the trainer works under has ended
    elif kind == HandoffEvent.Kind.NO_SESSION:
        trainer_told = clinic_told = True  # the timers: no session logged for too long
    elif kind == HandoffEvent.Kind.HOLD_REVIEW:
        trainer_told = True  # the timers: the hold's review date came, the trainer asked to act
    elif kind in (HandoffEvent.Kind.HOLD_OVERDUE, HandoffEvent.Kind.HOLD_REVIEW_SET):
        clinic_told = True  # still on hold past its review; the trainer set a new review date
    elif kind == HandoffEvent.Kind.REPORT_REPLY:
        # the other side: the trainer hears of the clinic's reply, the clinic of the trainer's answer
        from_trainer = event.actor_id is not None and event.actor_id == handoff.trainer_id
        trainer_told, clinic_told = not from_trainer, from_trainer
    else:  # a concern, a refusal, a progress report submitted: the clinic
        clinic_told = True
    people: list[User] = []
    if trainer_told and _is_active_trainer(handoff.trainer, handoff.gym_id):
        people.append(handoff.trainer)
    if clinic_told:
        people += _clinic_recipients(handoff)
    unique: dict[int, User] = {}
    for person in people:
        if person.pk != event.actor_id:
            unique.setdefault(person.pk, person)
    return list(unique.values())


def is_active_physio(user: User, clinic_id: int) -> bool:
    return (
        user.is_active
        and Membership.objects.filter(
            user_id=user.pk, organization_id=clinic_id, role=Membership.Role.PHYSIOTHERAPIST
        ).exists()
    )


def _is_active_trainer(user: User, gym_id: int) -> bool:
    return (
        user.is_active
        and Membership.objects.filter(
            user_id=user.pk, organization_id=gym_id, role=Membership.Role.TRAINER
        ).exists()
    )


def clinic_recipients(handoff: TrainerHandoff) -> list[User]:
    """Who of the clinic hears of a referral's business (`_clinic_recipients`): for other areas' notices
    (a report overdue)."""
    return _clinic_recipients(handoff)


def trainer_recipients(handoff: TrainerHandoff) -> list[User]:
    """The referral's trainer while an active trainer at its gym, else nobody."""
    return [handoff.trainer] if _is_active_trainer(handoff.trainer, handoff.gym_id) else []


def _clinic_recipients(handoff: TrainerHandoff) -> list[User]:
    """The treating physiotherapist and the referral's creator while they are active physiotherapists of
    the patient's clinic; otherwise the clinic's active physiotherapists."""
    clinic_id = handoff.clinic_id
    treating = [
        person
        for person in (handoff.plan.physiotherapist, handoff.created_by)
        if is_active_physio(person, clinic_id)
    ]
    if treating:
        return treating
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization_id=clinic_id,
            memberships__role=Membership.Role.PHYSIOTHERAPIST,
        )
        .distinct()
        .order_by("pk")
    )


def handoff_record_event(
    *,
    handoff: TrainerHandoff,
    actor: User | None,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    urgent: bool = False,
    regarding: Concern | None = None,
    report: ProgressReport | None = None,
    notify: bool = True,
    timer_key: str | None = None,
) -> HandoffEvent:
    """Append the audit row and, in the same transaction, the notifications it causes (none with
    `notify=False`: the caller tells people once, with `handoff_event_notify`, for a step that appends two
    events). `report`: the progress report a report event is about.
    `actor=None`: the system did it (a timer, the daily review); a timer's event carries its `timer_key`."""
    event = HandoffEvent.objects.create(
        timer_key=timer_key,
        handoff=handoff,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        text=text,
        urgent=urgent,
        regarding=regarding,
        report=report,
    )
    if notify:
        handoff_event_notify(handoff, event)
    return event


def handoff_event_notify(
    handoff: TrainerHandoff,
    event: HandoffEvent,
    recipients: list[User] | None = None,
    quiet_at: datetime.datetime | None = None,
) -> None:
    """The notifications and outbox rows a referral event owes, to `_recipients` (or to `recipients`, when
    the caller has just worked them out under its locks by the same rule: plan_discharge). `quiet_at`: a
    timer's notice written at that moment is emailed to each recipient by day in their zone (their side's
    organization's: the gym's for the trainer, the clinic's for the others; timers.schedule.quiet_until)."""
    people = _recipients(handoff, event) if recipients is None else recipients
    not_before = None
    if quiet_at is not None:
        not_before = {}
        for person in people:
            zone = handoff.gym.zone if person.pk == handoff.trainer_id else handoff.plan.patient.clinic.zone
            later = timers_schedule.quiet_until(quiet_at, zone)
            if later is not None:
                not_before[person.pk] = later
    notify(
        kind=HANDOFF_EVENT_KIND,
        recipients=people,
        source_key=event_source_key(event.pk),
        handoff=handoff,
        event=event,
        urgent=event.urgent,
        not_before=not_before,
    )


def _check_actor(*, handoff: TrainerHandoff, to: str, actor: User) -> None:
    """The actor against the side that sets `to` (TRANSITIONS), by the one policy `policies.can_act`."""
    side, _ = TRANSITIONS[to]
    if not handoffs_policies.can_act(actor, handoff, side):
        who = "the referring clinic" if side == "clinic" else "the trainer the referral was sent to"
        raise NotPermitted(f"Only {who} can set a referral to {S(to).label.lower()}.")


def _check_source(*, handoff: TrainerHandoff, to: str, only_from: frozenset[str] | None = None) -> None:
    _, sources = TRANSITIONS[to]
    if only_from is not None:
        sources = sources & only_from
    if handoff.status not in sources:
        raise InvalidTransition(
            f"A referral that is {S(handoff.status).label.lower()} cannot become {S(to).label.lower()}.",
            current_status=handoff.status,
        )


def handoff_transition(
    *,
    handoff: TrainerHandoff,
    to: str,
    actor: User | None,
    reason: str = "",
    only_from: frozenset[str] | None = None,
    on_behalf: bool = False,
    notify: bool = True,
    business_status: str = "",
    timer_key: str | None = None,
    review_on: datetime.date | None = None,
) -> HandoffEvent:
    """Check the move against TRANSITIONS and the actor against the side that sets it; apply it.

    `handoff` must be the row locked by the caller's transaction. `only_from` narrows the legal sources
    for actions that share a target status (start and resume both lead to in-progress). `on_behalf`: an
    organization-change service that checked its own actor's authority moves the referral (the admin who
    ended a partnership is on neither side of it). `notify=False` when the caller's own event already
    tells the same people (a concern that also holds the referral). `actor=None`: the system (a timer)
    moves it, always `on_behalf` (no side's rule applies to it; the timer's service decides).
    `business_status`: the FHIR Task.businessStatus the move sets (registry.BUSINESS_STATUSES); every
    other move clears it (a referral referred back and resumed is the trainer's again).
    `review_on`: a move on hold is reviewed that day (the caller checked it: handoffs.services
    `hold_review_clean`); by default the clinic's hold review days later.
    """
    if actor is None:
        if not on_behalf:
            raise ValueError("The system moves a referral on behalf only: pass on_behalf=True.")
    elif not on_behalf:
        _check_actor(handoff=handoff, to=to, actor=actor)
    _check_source(handoff=handoff, to=to, only_from=only_from)
    current = handoff.status
    reason = _clean_text(
        reason, field="reason", required=to in REASON_REQUIRED_STATUSES, max_length=REASON_MAX_LENGTH
    )
    handoff.status = to
    handoff.status_reason = reason if to in REASON_REQUIRED_STATUSES else ""
    handoff.business_status = business_status
    _set_timer_fields(handoff, review_on)
    handoff.save(
        update_fields=[
            "status",
            "status_reason",
            "business_status",
            "care_since",
            "care_nudged",
            "hold_review_on",
            "hold_steps_done",
            "updated_at",
        ]
    )
    if handoff.sent_at is not None:
        plan = _plan_follow_referrals(plan_id=handoff.plan_id)
        handoff.plan.status, handoff.plan.discharged_at = plan.status, plan.discharged_at
    return handoff_record_event(
        handoff=handoff,
        actor=actor,
        kind=HandoffEvent.Kind.TRANSITION,
        from_status=current,
        to_status=to,
        text=reason,
        notify=notify,
        timer_key=timer_key,
    )


def _set_timer_fields(handoff: TrainerHandoff, review_on: datetime.date | None) -> None:
    """What the timers read of a referral's new status, in the clinic's calendar: the last sign of care of
    an accepted or in-progress one is the day of the move (a session logged later moves it on:
    `handoff_care_seen`); a hold's review date (none when the client was referred back: the
    physiotherapist has them, nobody waits for the trainer). Each cleared in every other status."""
    clinic = handoff.plan.patient.clinic
    today = timers_schedule.local_today(clinic.zone)
    handoff.care_since = today if handoff.status in (S.ACCEPTED, S.IN_PROGRESS) else None
    handoff.care_nudged = False
    handoff.hold_steps_done = 0
    if handoff.status == S.ON_HOLD and not handoff.is_referred_back:
        handoff.hold_review_on = review_on or timers_schedule.hold_review_default(clinic, today)
    else:
        handoff.hold_review_on = None


def handoff_care_seen(handoff: TrainerHandoff, day: datetime.date) -> None:
    """A session logged on `day` (of the referral locked by the caller): the last sign of care moves on to
    it when it is later, so the care timers (timers.idle) count from it."""
    if handoff.status in (S.ACCEPTED, S.IN_PROGRESS) and (
        handoff.care_since is None or day > handoff.care_since
    ):
        handoff.care_since, handoff.care_nudged = day, False
        TrainerHandoff.objects.filter(pk=handoff.pk).update(care_since=day, care_nudged=False)


def plan_status_from_referrals(plan_id: int) -> tuple[str, datetime.datetime | None]:
    """What a plan's status and discharge date are, given its referrals. A referral entered in error counts
    as never sent (it undoes its discharge); a draft was never sent. A referral referred back to the
    physiotherapist (its business status) gives the plan back to them: active again, while it is the open
    one (on hold) or, once it ended (failed), while it is the last one sent; the date of the first
    discharge stays (the constraint allows an active plan a date; the plan's page says it was sent)."""
    rows = list(
        TrainerHandoff.objects.filter(plan_id=plan_id, sent_at__isnull=False)
        .exclude(status=S.ENTERED_IN_ERROR)
        .order_by("sent_at", "pk")
        .values_list("status", "sent_at", "business_status")
    )
    statuses = {status for status, _, _ in rows}
    discharged_at = min((sent_at for _, sent_at, _ in rows if sent_at is not None), default=None)
    if S.COMPLETED in statuses:
        return TreatmentPlan.Status.COMPLETED, discharged_at
    open_rows = [row for row in rows if row[0] in (S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)]
    current = open_rows[-1] if open_rows else rows[-1] if rows else None
    if current is not None and current[2] == REFERRED_BACK:
        return TreatmentPlan.Status.ACTIVE, discharged_at
    if open_rows:
        return TreatmentPlan.Status.DISCHARGED, discharged_at
    if statuses:  # every sent referral ended without care: declined, cancelled, failed
        return TreatmentPlan.Status.AWAITING_TRAINER, discharged_at
    return TreatmentPlan.Status.ACTIVE, None


def _plan_follow_referrals(*, plan_id: int) -> TreatmentPlan:
    """Lock the plan and set its status from its referrals (after a sent referral moved)."""
    plan = TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan_id)
    status, discharged_at = plan_status_from_referrals(plan_id)
    if (plan.status, plan.discharged_at) != (status, discharged_at):
        plan.status = status
        plan.discharged_at = discharged_at
        plan.save(update_fields=["status", "discharged_at", "updated_at"])
    return plan


def _move(
    *,
    handoff: TrainerHandoff,
    actor: User,
    to: str,
    reason: str = "",
    only_from: frozenset[str] | None = None,
    recheck: str = "",
) -> TrainerHandoff:
    """One transition in its own transaction. With `recheck` (the step's name: accept, start, resume), the
    referral's eligibility is checked first; if it no longer holds, the refusal is recorded on the referral
    (the PT is told) and committed, and then `NoLongerEligible` is raised: the status does not change."""
    with transaction.atomic():
        locked = handoff_lock(handoff)
        refused = handoff_move_locked(
            handoff=locked, actor=actor, to=to, reason=reason, only_from=only_from, recheck=recheck
        )
    if refused:
        raise NoLongerEligible(refused)
    return locked


def handoff_move_locked(
    *,
    handoff: TrainerHandoff,
    actor: User,
    to: str,
    reason: str = "",
    only_from: frozenset[str] | None = None,
    recheck: str = "",
) -> list[Blocker]:
    """`_move`'s step on a referral the caller locked (`handoff_lock`) in its own transaction: with
    `recheck`, the actor, the source and the eligibility are checked first; a refusal is recorded (the PT
    told) and its blockers returned, the status unchanged. The caller then lets its transaction commit
    (the refusal stands) and raises `NoLongerEligible`; [] when the move was made."""
    refused: list[Blocker] = []
    if recheck:
        _check_actor(handoff=handoff, to=to, actor=actor)
        _check_source(handoff=handoff, to=to, only_from=only_from)
        refused = handoffs_eligibility.handoff_eligibility_blockers(handoff=handoff)
    if refused:
        _record_refusal(handoff=handoff, actor=actor, step=recheck, blockers=refused)
    else:
        handoff_transition(handoff=handoff, to=to, actor=actor, reason=reason, only_from=only_from)
    return refused


def _record_refusal(
    *, handoff: TrainerHandoff, actor: User | None, step: str, blockers: list[Blocker], once: bool = False
) -> bool:
    """The refused step in the audit trail, and the clinic told; False when it was recorded already. The
    same refusal repeated (the trainer tries again) is recorded once, until something else happens on the
    referral; with `once`, once for the referral's life."""
    text = (f"Could not {step}: " + " ".join(b.message for b in blockers))[:TEXT_MAX_LENGTH]
    refusals = HandoffEvent.objects.filter(handoff=handoff)
    if once:
        if refusals.filter(kind=HandoffEvent.Kind.REFUSAL, text=text).exists():
            return False
    else:
        last = refusals.order_by("-created_at", "-id").first()
        if last is not None and last.kind == HandoffEvent.Kind.REFUSAL and last.text == text:
            return False
    handoff_record_event(
        handoff=handoff,
        actor=actor,
        kind=HandoffEvent.Kind.REFUSAL,
        from_status=handoff.status,
        text=text,
    )
    return True
