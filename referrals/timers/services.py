"""The requested-referral timers: each step a service acting as the system (no actor), writing its event
and its notifications through the outbox in one transaction, idempotent.

- remind: the trainer is reminded (HandoffEvent.Kind.REMINDER);
- escalate: the clinic is told, with up to SUGGESTIONS other trainers who could take the client
  (HandoffEvent.Kind.NO_ANSWER);
- expire: the referral is cancelled with the reason NO_RESPONSE_REASON and the FHIR business status
  "no-response" (registry.NO_RESPONSE); the clinic and the trainer are told.

Idempotent: each step's event carries a key (`timer_key`: the step, the referral, when it was sent) that is
unique in the database and checked under the referral's row lock, so a sweep run twice, two beat processes,
or a worker killed mid-sweep (its transaction rolled back, the next sweep does it) act once. The sweep reads
only referrals requested at least `schedule.shortest_wait()` ago (index handoff_requested_sent_idx) and acts
on the missed deadlines in the order they fell due: beat down for a day, each step once."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.timers import schedule

S = HandoffStatus
SUGGESTIONS = 3
NO_RESPONSE_REASON = "No response from the trainer: cancelled automatically."


@dataclass(frozen=True)
class Acted:
    step: str
    handoff_id: int
    due: datetime.datetime


def timer_key(step: str, handoff: TrainerHandoff | int, sent_at: datetime.datetime) -> str:
    pk = handoff if isinstance(handoff, int) else handoff.pk
    return f"{step}:{pk}:{sent_at.astimezone(datetime.UTC):%Y%m%dT%H%M%S}"


def _due_steps(now: datetime.datetime) -> list[tuple[datetime.datetime, int, int, str, str]]:
    """(due, step order, handoff pk, step, key) of every step due by `now` and not yet done: three queries
    whatever the number of referrals (the requested ones old enough, their clinics' timers and zones, the
    keys already written)."""
    rows = list(
        TrainerHandoff.objects.filter(status=S.REQUESTED, sent_at__lte=now - schedule.shortest_wait())
        .order_by("sent_at", "pk")
        .values_list("pk", "clinic_id", "sent_at")
    )
    if not rows:
        return []
    clinics = {pk for _, pk, _ in rows}
    timers = schedule.timers_for_clinics(clinics)
    zones = {org.pk: org.zone for org in Organization.objects.filter(pk__in=clinics).only("pk", "time_zone")}
    done = set(
        HandoffEvent.objects.filter(
            handoff_id__in=[pk for pk, _, _ in rows], timer_key__isnull=False
        ).values_list("timer_key", flat=True)
    )
    due = []
    for pk, clinic_id, sent_at in rows:
        if sent_at is None:  # a requested referral was sent; the filter says so
            continue
        for order, (step, at) in enumerate(
            schedule.requested_deadlines(sent_at, timers[clinic_id], zones[clinic_id])
        ):
            key = timer_key(step, pk, sent_at)
            if at <= now and key not in done:
                due.append((at, order, pk, step, key))
    due.sort()
    return due


def requested_sweep(*, now: datetime.datetime | None = None) -> list[Acted]:
    """Act on every step of an unanswered referral that fell due by `now`, oldest deadline first, each in
    its own transaction. Returns what this run did (a step another run did first is not in it)."""
    now = now or timezone.now()
    acted = []
    for due, _, pk, step, key in _due_steps(now):
        if _act(pk=pk, step=step, key=key, now=now):
            acted.append(Acted(step=step, handoff_id=pk, due=due))
    return acted


def _act(*, pk: int, step: str, key: str, now: datetime.datetime) -> bool:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=pk))
        if locked.status != S.REQUESTED or locked.sent_at is None:
            return False  # answered (or withdrawn) since the sweep read it
        if (
            key != timer_key(step, locked, locked.sent_at)
            or HandoffEvent.objects.filter(timer_key=key).exists()
        ):
            return False  # another run did it
        if step == schedule.REMIND:
            event = handoffs_lifecycle.handoff_record_event(
                handoff=locked,
                actor=None,
                kind=HandoffEvent.Kind.REMINDER,
                from_status=locked.status,
                text=f"No answer yet: the trainer was reminded {_since(locked, now)}.",
                timer_key=key,
                notify=False,
            )
        elif step == schedule.ESCALATE:
            event = handoffs_lifecycle.handoff_record_event(
                handoff=locked,
                actor=None,
                kind=HandoffEvent.Kind.NO_ANSWER,
                from_status=locked.status,
                text=_escalation_text(locked, now),
                timer_key=key,
                notify=False,
            )
        else:
            event = handoffs_lifecycle.handoff_transition(
                handoff=locked,
                to=S.CANCELLED,
                actor=None,
                on_behalf=True,
                reason=NO_RESPONSE_REASON,
                business_status=handoffs_registry.NO_RESPONSE.code,
                timer_key=key,
                notify=False,
            )
        handoffs_lifecycle.handoff_event_notify(locked, event, quiet_at=now)
    return True


def _since(handoff: TrainerHandoff, now: datetime.datetime) -> str:
    assert handoff.sent_at is not None  # noqa: S101 - a requested referral was sent
    hours = int((now - handoff.sent_at).total_seconds() // 3600)
    return f"{hours} hours after it was sent" if hours < 72 else f"{hours // 24} days after it was sent"


def suggested_trainers(
    handoff: TrainerHandoff, user: User | None = None
) -> list[handoffs_eligibility.TrainerChoice]:
    """Other trainers who could take the client now, as the discharge page lists them to `user` (the
    treating physiotherapist by default): no blocker (partner gym, consent, credentials, capacity), fewest
    clients first. The referral page offers each with the one-click re-offer (handoffs.reoffer)."""
    choices = handoffs_eligibility.trainer_choice_list_for_plan(
        user=user or handoff.plan.physiotherapist, plan=handoff.plan
    )
    free = [c for c in choices if not c.blockers and c.trainer.pk != handoff.trainer_id]
    free.sort(key=lambda c: (getattr(c.membership, "caseload", 0), c.trainer.full_name, c.trainer.pk))
    return free[:SUGGESTIONS]


def _escalation_text(handoff: TrainerHandoff, now: datetime.datetime) -> str:
    names = [f"{c.trainer.full_name} ({c.gym.name})" for c in suggested_trainers(handoff)]
    offer = (
        "Other trainers who could take the client: " + "; ".join(names) + "."
        if names
        else "No other trainer of a partner gym can take the client now."
    )
    return f"No answer from the trainer {_since(handoff, now)}. {offer}"
