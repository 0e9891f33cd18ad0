"""A patient's data trail: every read and write of their data, in order."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts.models import User
from referrals.care.models import Patient
from referrals.handoffs.models import (
    SYSTEM_ACTOR_NAME,
    HandoffEvent,
)

# --- audit: who saw or changed a patient's data ---------------------------------------------------------


@dataclass(frozen=True)
class TrailEntry:
    at: datetime.datetime
    user: User | None  # None: the system changed it (a timer); `who` names it
    action: str  # "read" (the access log) or "changed" (a handoff event)
    what: str
    channel: str  # page, api, admin; "" for a change (the event log records the action, not the channel)

    @property
    def who(self) -> str:
        return self.user.full_name if self.user is not None else SYSTEM_ACTOR_NAME


def trail_list_for_patient(*, patient: Patient) -> list[TrailEntry]:
    """Every read (AccessLog) and every change of a handoff (HandoffEvent) of one patient, oldest first:
    the answer to "who saw or changed this patient's data". For superusers and audits, not user-scoped."""
    from referrals.audit.models import AccessLog

    reads = [
        TrailEntry(row.at, row.user, "read", f"{row.object_type} {row.object_public_id}", row.channel)
        for row in AccessLog.objects.filter(patient=patient).select_related("user")
    ]
    changes = [
        TrailEntry(
            event.created_at,
            event.actor,
            "changed",
            f"handoff {event.handoff.public_id}: "
            + (f"{event.from_status or '-'} -> {event.to_status}" if event.to_status else event.kind),
            "",
        )
        for event in HandoffEvent.objects.filter(handoff__plan__patient=patient).select_related(
            "actor", "handoff"
        )
    ]
    return sorted(reads + changes, key=lambda entry: entry.at)
