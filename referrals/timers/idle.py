"""Care that stalls: an accepted referral with no session logged after its clinic's `accept_idle_days`, or
one in progress with none for its `session_idle_days` (ClinicTimers; empty: the defaults), has its trainer
and its clinic nudged (HandoffEvent.Kind.NO_SESSION), as the system, once per quiet spell. Nothing moves:
the referral stays as it is.

The spell counts from the referral's last sign of care, `TrainerHandoff.care_since` (the day it moved into
its status, or its latest session's day if later: handoffs.lifecycle keeps it). The nudge's key names that
day, so a session logged starts a new spell and a sweep run again finds the key. The sweep reads only the
referrals whose last sign of care is old enough to be due under the shortest idle days of any clinic
(index handoff_care_since_idx), then works out each one's due time by its own clinic's days and zone:
three queries whatever the number of referrals (the clinics' own idle days, the candidates with their
clinics' zones, the keys already written), two when none is due."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.timers import schedule
from referrals.timers.models import ClinicTimers
from referrals.timers.services import Acted

S = HandoffStatus
NUDGED_STATUSES = (S.ACCEPTED, S.IN_PROGRESS)  # handoff_care_since_idx's condition

# A candidate row: pk, status, care_since, clinic id, the clinic's time zone.
Candidate = tuple[int, str, datetime.date | None, int, str]


class Stalled(NamedTuple):
    """A referral past its quiet spell and not yet nudged for it; sorts by when it fell due."""

    due: datetime.datetime
    handoff_id: int
    status: str
    anchor: datetime.date  # its care_since when the sweep read it
    days: int  # its clinic's idle days in this status
    key: str


def nudge_key(handoff_id: int, status: str, anchor: datetime.date) -> str:
    return f"idle-{status}:{handoff_id}:{anchor.isoformat()}"


def idle_timers_rows() -> dict[int, ClinicTimers]:
    """The clinics that set idle days of their own, by clinic id: one query (every other clinic's are the
    defaults)."""
    own = Q(accept_idle_days__isnull=False) | Q(session_idle_days__isnull=False)
    return {row.clinic_id: row for row in ClinicTimers.objects.filter(own)}


def idle_candidates(bound: datetime.date) -> QuerySet[TrainerHandoff, Candidate]:
    """The accepted and in-progress referrals whose last sign of care is no later than `bound`, through
    handoff_care_since_idx, with their clinic's time zone (a join, no query a row); unordered."""
    return (
        TrainerHandoff.objects.filter(status__in=NUDGED_STATUSES, care_since__lte=bound, care_nudged=False)
        .order_by()
        .values_list("pk", "status", "care_since", "clinic_id", "clinic__time_zone")
    )


def _due(now: datetime.datetime) -> list[Stalled]:
    """Each referral past its quiet spell by `now` and not yet nudged for it, oldest deadline first."""
    own = idle_timers_rows()
    bound = schedule.care_since_bound(now, schedule.shortest_nudge_days(own.values()))
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    found = []
    for pk, status, anchor, clinic_id, time_zone in idle_candidates(bound):
        days = schedule.nudge_days(status, own.get(clinic_id))
        if days is None or anchor is None:  # the filter says neither is
            continue
        if time_zone not in zones:
            zones[time_zone] = schedule.zone_named(time_zone)
        at = schedule.nudge_due(anchor, days, zones[time_zone])
        if at <= now:
            found.append(Stalled(at, pk, status, anchor, days, nudge_key(pk, status, anchor)))
    if not found:
        return []
    done = set(
        HandoffEvent.objects.filter(timer_key__in=[s.key for s in found]).values_list("timer_key", flat=True)
    )
    # nudged before the marker was kept (or by a run that died between its commit and here): marked now,
    # so the next sweep does not read them again
    _mark_nudged([s for s in found if s.key in done])
    return sorted(s for s in found if s.key not in done)


def _mark_nudged(stalled: list[Stalled]) -> None:
    for s in stalled:
        TrainerHandoff.objects.filter(pk=s.handoff_id, status=s.status, care_since=s.anchor).update(
            care_nudged=True
        )


def idle_sweep(*, now: datetime.datetime | None = None) -> list[Acted]:
    """Nudge every referral whose quiet spell has run out, oldest first; what this run did."""
    now = now or timezone.now()
    acted = []
    for stalled in _due(now):
        if _nudge(stalled, now=now):
            acted.append(Acted(step=f"idle-{stalled.status}", handoff_id=stalled.handoff_id, due=stalled.due))
    return acted


def _nudge(stalled: Stalled, *, now: datetime.datetime) -> bool:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=stalled.handoff_id))
        if locked.status != stalled.status or locked.care_since != stalled.anchor:
            return False  # moved, or a session logged, since the sweep read it: another spell
        if HandoffEvent.objects.filter(timer_key=stalled.key).exists():
            return False  # another run nudged it
        what = "since it was accepted" if stalled.status == S.ACCEPTED else "for a while"
        event = handoffs_lifecycle.handoff_record_event(
            handoff=locked,
            actor=None,
            kind=HandoffEvent.Kind.NO_SESSION,
            from_status=locked.status,
            text=f"No session logged {what}: {stalled.days} days without one. Log the sessions held, or say "
            "what stands in the way.",
            timer_key=stalled.key,
            notify=False,
        )
        handoffs_lifecycle.handoff_event_notify(locked, event, quiet_at=now)
        TrainerHandoff.objects.filter(pk=locked.pk).update(care_nudged=True)
    return True
