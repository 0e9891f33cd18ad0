"""The actions on a referral, one service each, derived from the registry, and the daily eligibility
review."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.db import transaction

from accounts.models import User
from referrals.errors import Blocker, InvalidTransition, NotPermitted, ReportRequired
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs.lifecycle import (
    HandoffAction,
    _check_actor,
    _check_source,
    _move,
    _record_refusal,
    handoff_lock,
    handoff_move_locked,
    handoff_record_event,
    handoff_transition,
)
from referrals.handoffs.models import (
    OPEN_STATUSES,
    HandoffEvent,
    HandoffStatus,
    TrainerHandoff,
)
from referrals.handoffs.sending import handoff_send
from referrals.progress import report_selectors
from referrals.timers import schedule as timers_schedule


def handoff_review_eligibility() -> list[TrainerHandoff]:
    """The daily review: every open sent referral whose trainer is no longer eligible (a certification or
    CPR/AED that expired since, or an organization changed outside the services) is recorded on the
    referral and its clinic told, once per reason; the next accept, start or resume is refused anyway.
    Recorded as the system's (no actor: a timer found it, nobody did it). Returns the referrals newly
    flagged."""
    flagged: list[TrainerHandoff] = []
    ids = list(
        TrainerHandoff.objects.filter(status__in=OPEN_STATUSES, sent_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            locked = handoff_lock(TrainerHandoff(pk=pk))
            if locked.status not in OPEN_STATUSES:
                continue
            blockers = handoffs_eligibility.handoff_eligibility_blockers(handoff=locked)
            if blockers and _record_refusal(
                handoff=locked, actor=None, step="go on", blockers=blockers, once=True
            ):
                flagged.append(locked)
    return flagged


def _take(action: HandoffAction, *, handoff: TrainerHandoff, actor: User, text: str = "") -> TrainerHandoff:
    """The one move of an action that only moves the status, driven by its registry entry: its sources,
    its eligibility re-check (the step's name in the refusal), its text as the reason or summary."""
    return _move(
        handoff=handoff,
        actor=actor,
        to=action.to,
        reason=text,
        only_from=action.sources,
        recheck=action.name if action.rechecked else "",
    )


def _mover(action: HandoffAction) -> Callable[..., TrainerHandoff]:
    """The service of an action that has no `handoff_<name>` function: the generic move, taking the
    action's text by its keyword (`reason` or `summary`) when it takes one."""

    def move(*, handoff: TrainerHandoff, actor: User, **text: str) -> TrainerHandoff:
        unexpected = set(text) - ({action.text_arg} if action.text_arg else set())
        if unexpected:
            raise TypeError(f"handoff_{action.name}() got unexpected keywords: {sorted(unexpected)}")
        return _take(action, handoff=handoff, actor=actor, text=text.get(action.text_arg or "", ""))

    move.__name__ = move.__qualname__ = f"handoff_{action.name}"
    return move


def handoff_accept(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """requested -> accepted, if the referral is still eligible (else NoLongerEligible, the PT told)."""
    return _take(handoffs_registry.ACTIONS["accept"], handoff=handoff, actor=actor)


def handoff_reject(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(handoffs_registry.ACTIONS["reject"], handoff=handoff, actor=actor, text=reason)


def handoff_start(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """accepted -> in-progress: the first session took place."""
    return _take(handoffs_registry.ACTIONS["start"], handoff=handoff, actor=actor)


def handoff_start_locked(*, handoff: TrainerHandoff, actor: User) -> list[Blocker]:
    """`handoff_start` inside the caller's transaction, on the referral it locked (`handoff_lock`): the
    first session logged starts it (progress.services.session_log). The same checks and event as the start
    action; when the referral is no longer eligible the refusal is recorded as start's and its blockers
    returned (the caller commits and raises NoLongerEligible), otherwise []."""
    action = handoffs_registry.ACTIONS["start"]
    return handoff_move_locked(
        handoff=handoff, actor=actor, to=action.to, only_from=action.sources, recheck=action.name
    )


def handoff_hold(
    *, handoff: TrainerHandoff, actor: User, reason: str, review_on: datetime.date | None = None
) -> TrainerHandoff:
    """in-progress -> on-hold, with a reason and the day it is to be reviewed (`review_on`; by default the
    clinic's hold review days later: timers.schedule). Who may and from where are checked first, then the
    date (a ValidationError on `review_on`, nothing changed)."""
    action = handoffs_registry.ACTIONS["hold"]
    with transaction.atomic():
        locked = handoff_lock(handoff)
        _check_actor(handoff=locked, to=action.to, actor=actor)
        _check_source(handoff=locked, to=action.to, only_from=action.sources)
        day = (
            None
            if review_on is None
            else timers_schedule.review_date_clean(locked.plan.patient.clinic, review_on)
        )
        handoff_transition(
            handoff=locked, to=action.to, actor=actor, reason=reason, only_from=action.sources, review_on=day
        )
    return locked


def handoff_hold_review_set(*, handoff: TrainerHandoff, actor: User, review_on: object) -> TrainerHandoff:
    """The trainer of a referral on hold sets a new review date (still on hold when the review came, or
    sooner than asked): recorded on the referral, the clinic told; the timers count from the new date.
    NotPermitted for anyone but the trainer's side, InvalidTransition when it is not on hold (or the client
    was referred back: no review), a ValidationError on `review_on` for a bad date."""
    with transaction.atomic():
        locked = handoff_lock(handoff)
        if not handoffs_policies.can_act(actor, locked, "trainer"):
            raise NotPermitted("Only the trainer the referral was sent to sets its review date.")
        if locked.status != HandoffStatus.ON_HOLD or locked.is_referred_back:
            raise InvalidTransition(
                "Only a referral on hold with its trainer has a review date.", current_status=locked.status
            )
        day = timers_schedule.review_date_clean(locked.plan.patient.clinic, review_on)
        before = locked.hold_review_on
        locked.hold_review_on, locked.hold_steps_done = day, 0
        locked.save(update_fields=["hold_review_on", "hold_steps_done", "updated_at"])
        was = f" (was {timers_schedule.day_label(before)})" if before is not None else ""
        handoff_record_event(
            handoff=locked,
            actor=actor,
            kind=HandoffEvent.Kind.HOLD_REVIEW_SET,
            from_status=locked.status,
            text=f"Still on hold: to be reviewed on {timers_schedule.day_label(day)}{was}.",
        )
    return locked


def handoff_resume(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """on-hold -> in-progress."""
    return _take(handoffs_registry.ACTIONS["resume"], handoff=handoff, actor=actor)


def handoff_complete(*, handoff: TrainerHandoff, actor: User, summary: str = "") -> TrainerHandoff:
    """accepted, in progress or on hold -> completed, once the trainer submitted a progress report marked
    final (else ReportRequired, nothing changes): checked under the referral's lock, after who may and
    from where, so a wrong user or status is told that first."""
    action = handoffs_registry.ACTIONS["complete"]
    with transaction.atomic():
        locked = handoff_lock(handoff)
        _check_actor(handoff=locked, to=action.to, actor=actor)
        _check_source(handoff=locked, to=action.to, only_from=action.sources)
        if not report_selectors.report_final_exists(handoff=locked):
            raise ReportRequired(
                "Write the final progress report first: a referral is completed with its last report."
            )
        handoff_transition(
            handoff=locked, to=action.to, actor=actor, reason=summary, only_from=action.sources
        )
    return locked


def handoff_fail(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(handoffs_registry.ACTIONS["fail"], handoff=handoff, actor=actor, text=reason)


def handoff_cancel(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(handoffs_registry.ACTIONS["cancel"], handoff=handoff, actor=actor, text=reason)


def handoff_enter_in_error(*, handoff: TrainerHandoff, actor: User, reason: str = "") -> TrainerHandoff:
    return _take(handoffs_registry.ACTIONS["enter_in_error"], handoff=handoff, actor=actor, text=reason)


def action_services(actions: Iterable[HandoffAction]) -> dict[str, Callable[..., TrainerHandoff]]:
    """The service of each action: its `handoff_<name>` function here (send, which does more than move;
    the others kept by name for their callers), else the generic move of its registry entry."""
    here = {**globals(), "handoff_send": handoff_send}
    return {a.name: here.get(f"handoff_{a.name}") or _mover(a) for a in actions}


# Service per action name, from the registry, for adapters that dispatch on the action (pages, API).
HANDOFF_ACTIONS = action_services(handoffs_registry.ACTIONS.values())
