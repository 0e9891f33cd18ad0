"""A hold that outlives its review date (TrainerHandoff.hold_review_on, asked when it was put on hold): on
the review day (NUDGE_HOUR, the clinic's calendar) the trainer is asked to resume the sessions, close the
referral or set a new review date (HandoffEvent.Kind.HOLD_REVIEW); still on hold with that date
`hold_overdue_days` later, the clinic is told (HOLD_OVERDUE). Both as the system, once each: the key names
the referral, the hold (its event) and the review date, so a new date set or a new hold is reviewed in its
turn, and a sweep run twice finds the key. Nothing moves: the referral stays on hold.

The sweep reads only the holds whose review day has come somewhere and with a step still to do
(TrainerHandoff.hold_steps_done, index handoff_hold_review_idx)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.timers import schedule
from referrals.timers.services import Acted

S = HandoffStatus
REVIEW, OVERDUE = "hold-review", "hold-overdue"
STEPS = (REVIEW, OVERDUE)  # in order: TrainerHandoff.hold_steps_done counts those done
KINDS = {REVIEW: HandoffEvent.Kind.HOLD_REVIEW, OVERDUE: HandoffEvent.Kind.HOLD_OVERDUE}


def hold_key(step: str, handoff_id: int, hold_event_id: int, review_on: datetime.date) -> str:
    return f"{step}:{handoff_id}:{hold_event_id}:{review_on.isoformat()}"


def _holds(pks: list[int]) -> dict[int, int]:
    """The event that put each referral on hold (its latest move there): one query."""
    rows = (
        HandoffEvent.objects.filter(
            handoff_id__in=pks, kind=HandoffEvent.Kind.TRANSITION, to_status=S.ON_HOLD
        )
        .values("handoff_id")
        .annotate(last=Max("id"))
        .values_list("handoff_id", "last")
    )
    return dict(rows)


def _due(now: datetime.datetime) -> list[tuple[datetime.datetime, int, str, str, datetime.date]]:
    """(due, handoff pk, step, key, review date) of each step due by `now` and not yet done: three queries
    (the holds whose review day has come in some zone, the events that put them on hold, the keys)."""
    rows = list(
        TrainerHandoff.objects.filter(
            status=S.ON_HOLD, hold_review_on__lte=schedule.latest_today(now), hold_steps_done__lt=len(STEPS)
        ).values_list("pk", "hold_review_on", "clinic__time_zone", "hold_steps_done")
    )
    if not rows:
        return []
    pks = [pk for pk, _, _, _ in rows]
    holds = _holds(pks)
    done = set(
        HandoffEvent.objects.filter(handoff_id__in=pks, kind__in=tuple(KINDS.values())).values_list(
            "timer_key", flat=True
        )
    )
    due = []
    for pk, review_on, zone_name, steps_done in rows:
        if pk not in holds or review_on is None:
            continue
        zone = schedule.zone_named(zone_name)
        times = {
            REVIEW: schedule.hold_review_due(review_on, zone),
            OVERDUE: schedule.hold_overdue_due(review_on, zone),
        }
        keys = {step: hold_key(step, pk, holds[pk], review_on) for step in STEPS}
        written = 0  # the steps done in order, by their keys
        while written < len(STEPS) and keys[STEPS[written]] in done:
            written += 1
        if written > steps_done:  # done before the marker was kept: marked now, not read again
            _mark(pk, review_on, written)
        for step in STEPS[max(steps_done, written) :]:
            if times[step] <= now and keys[step] not in done:
                due.append((times[step], pk, step, keys[step], review_on))
    due.sort()
    return due


def _mark(pk: int, review_on: datetime.date, steps_done: int) -> None:
    TrainerHandoff.objects.filter(pk=pk, status=S.ON_HOLD, hold_review_on=review_on).update(
        hold_steps_done=steps_done
    )


def hold_sweep(*, now: datetime.datetime | None = None) -> list[Acted]:
    """Ask for the review of every hold whose day has come, and tell the clinic of those still on hold
    past it, oldest first; what this run did."""
    now = now or timezone.now()
    acted = []
    for at, pk, step, key, review_on in _due(now):
        if _act(pk=pk, step=step, key=key, review_on=review_on, now=now):
            acted.append(Acted(step=step, handoff_id=pk, due=at))
    return acted


def _act(*, pk: int, step: str, key: str, review_on: datetime.date, now: datetime.datetime) -> bool:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=pk))
        if (
            locked.status != S.ON_HOLD
            or locked.hold_review_on != review_on
            or hold_key(step, pk, _holds([pk]).get(pk, 0), review_on) != key
            or HandoffEvent.objects.filter(timer_key=key).exists()
        ):
            return False  # resumed, closed, a new date or a new hold since the sweep read it; or done
        day = schedule.day_label(review_on)
        if step == REVIEW:
            text = (
                f"The hold's review date ({day}) has come: resume the sessions, complete or close the "
                "referral, or set a new review date."
            )
        else:
            late = int(settings.HANDOFF_TIMER_DEFAULTS["hold_overdue_days"])
            text = (
                f"Still on hold {late} days after its review date ({day}): the trainer has neither resumed "
                "nor closed it, nor set a new date."
            )
        event = handoffs_lifecycle.handoff_record_event(
            handoff=locked,
            actor=None,
            kind=KINDS[step],
            from_status=locked.status,
            text=text,
            timer_key=key,
            notify=False,
        )
        handoffs_lifecycle.handoff_event_notify(locked, event, quiet_at=now)
        _mark(pk, review_on, STEPS.index(step) + 1)
    return True
