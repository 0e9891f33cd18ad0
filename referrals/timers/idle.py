"""Care that stalls: an accepted referral with no session logged after `accept_idle_days`, or one in
progress with none for `session_idle_days`, has its trainer and its clinic nudged (HandoffEvent.Kind.
NO_SESSION), as the system, once per quiet spell: the key names the last sign of care (the last session's
day, or the day the referral moved into its status), so a session logged starts a new spell and a sweep run
again finds the key. Nothing moves: the referral stays as it is."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.progress.models import SessionLog
from referrals.timers import schedule
from referrals.timers.services import Acted

S = HandoffStatus
NUDGED_STATUSES = (S.ACCEPTED, S.IN_PROGRESS)


def nudge_key(handoff_id: int, status: str, anchor: datetime.date) -> str:
    return f"idle-{status}:{handoff_id}:{anchor.isoformat()}"


def _due(now: datetime.datetime) -> list[tuple[datetime.datetime, int, str, str]]:
    """(due, handoff pk, status, key) of each referral past its quiet spell and not yet nudged for it: one
    query for the referrals (their last session and last move into their status as subqueries, through
    the indexes on sessions and events) and one for the keys already written."""
    moved = (
        HandoffEvent.objects.filter(
            handoff_id=OuterRef("pk"), kind=HandoffEvent.Kind.TRANSITION, to_status=OuterRef("status")
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    last_session = (
        SessionLog.objects.filter(handoff_id=OuterRef("pk"))
        .values("handoff_id")
        .annotate(last=Max("session_date"))
        .values("last")[:1]
    )
    rows = list(
        TrainerHandoff.objects.filter(status__in=NUDGED_STATUSES)
        .annotate(moved_at=Subquery(moved), last_session=Subquery(last_session))
        .values_list("pk", "status", "moved_at", "last_session", "clinic__time_zone")
    )
    if not rows:
        return []
    done = set(
        HandoffEvent.objects.filter(
            handoff_id__in=[r[0] for r in rows], kind=HandoffEvent.Kind.NO_SESSION
        ).values_list("timer_key", flat=True)
    )
    due = []
    for pk, status, moved_at, last_session, time_zone in rows:
        days = schedule.nudge_days(status)
        if days is None or moved_at is None:
            continue
        zone = schedule.zone_named(time_zone)
        anchor = moved_at.astimezone(zone).date()
        if last_session is not None and last_session > anchor:
            anchor = last_session
        at = schedule.nudge_due(anchor, days, zone)
        key = nudge_key(pk, status, anchor)
        if at <= now and key not in done:
            due.append((at, pk, status, key))
    due.sort()
    return due


def idle_sweep(*, now: datetime.datetime | None = None) -> list[Acted]:
    """Nudge every referral whose quiet spell has run out, oldest first; what this run did."""
    now = now or timezone.now()
    acted = []
    for at, pk, status, key in _due(now):
        if _nudge(pk=pk, status=status, key=key, now=now):
            acted.append(Acted(step=f"idle-{status}", handoff_id=pk, due=at))
    return acted


def _nudge(*, pk: int, status: str, key: str, now: datetime.datetime) -> bool:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=pk))
        if locked.status != status or HandoffEvent.objects.filter(timer_key=key).exists():
            return False  # moved since the sweep read it, or another run nudged it
        days = schedule.nudge_days(status)
        what = "since it was accepted" if status == S.ACCEPTED else "for a while"
        event = handoffs_lifecycle.handoff_record_event(
            handoff=locked,
            actor=None,
            kind=HandoffEvent.Kind.NO_SESSION,
            from_status=locked.status,
            text=f"No session logged {what}: {days} days without one. Log the sessions held, or say what "
            "stands in the way.",
            timer_key=key,
            notify=False,
        )
        handoffs_lifecycle.handoff_event_notify(locked, event, quiet_at=now)
    return True
