"""A precaution that has run its course: the day after its `valid_until`, the trainer of each open referral
whose guidelines carry it is told that the restriction has ended (HandoffEvent.Kind.PRECAUTION_ENDED, as
the system, once per referral and precaution: the key names both). The guidelines keep showing it, marked
as ended (handoffs.snapshot `_view`: `ended`), never deleted.

The candidates come from the plans' precaution rows (their ids are the snapshot's, GUIDELINES_SCHEMA 2),
ended since `LOOKBACK_DAYS` and on an open referral: an indexed read that does not grow with the history;
each is then checked against the referral's own snapshot (the trainer is told of what they were sent)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.timers.services import Acted

S = HandoffStatus
TOLD_STATUSES = (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)
LOOKBACK_DAYS = 30  # beat down longer than this: an older end is not announced any more


def precaution_key(handoff_id: int, precaution_id: object) -> str:
    return f"precaution-ended:{handoff_id}:{precaution_id}"


def precautions_ended_sweep(*, today: datetime.date | None = None) -> list[Acted]:
    today = today or timezone.localdate()
    rows = list(
        TrainerHandoff.objects.filter(
            status__in=TOLD_STATUSES,
            plan__precautions__valid_until__lt=today,
            plan__precautions__valid_until__gte=today - datetime.timedelta(days=LOOKBACK_DAYS),
        )
        .values_list("pk", "plan__precautions__public_id", "plan__precautions__valid_until")
        .order_by("plan__precautions__valid_until", "pk")
    )
    if not rows:
        return []
    done = set(
        HandoffEvent.objects.filter(
            handoff_id__in={pk for pk, _, _ in rows}, kind=HandoffEvent.Kind.PRECAUTION_ENDED
        ).values_list("timer_key", flat=True)
    )
    acted = []
    for pk, precaution_id, valid_until in rows:
        key = precaution_key(pk, precaution_id)
        if key not in done and _tell(pk=pk, precaution_id=str(precaution_id), key=key):
            acted.append(
                Acted(
                    step="precaution-ended",
                    handoff_id=pk,
                    due=datetime.datetime.combine(valid_until or today, datetime.time(), tzinfo=datetime.UTC),
                )
            )
    return acted


def _tell(*, pk: int, precaution_id: str, key: str) -> bool:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=pk))
        if locked.status not in TOLD_STATUSES or HandoffEvent.objects.filter(timer_key=key).exists():
            return False
        guidelines = handoffs_snapshot.guidelines_read(locked.snapshot, handoff_public_id=locked.public_id)
        sent = next(
            (p for p in (guidelines or {}).get("precautions", []) if p.get("id") == precaution_id), None
        )
        if sent is None:
            return False  # added to the plan after this referral was sent: not in its guidelines
        event = handoffs_lifecycle.handoff_record_event(
            handoff=locked,
            actor=None,
            kind=HandoffEvent.Kind.PRECAUTION_ENDED,
            from_status=locked.status,
            text=f"A precaution has ended ({sent.get('valid_until')}): {sent.get('summary', '')}".strip(),
            timer_key=key,
            notify=False,
        )
        handoffs_lifecycle.handoff_event_notify(locked, event, quiet_at=timezone.now())
    return True
