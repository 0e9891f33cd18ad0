"""Every timer in one sweep, in the order the beat task runs them (referrals.tasks.sweep_timers; the
benchmark times this same function): the credentials about to lapse (idempotent notifications, not
steps), then the requested referrals left unanswered (timers.services), the care that stalls
(timers.idle), the precautions that ended (timers.precautions) and the holds past their review date
(timers.hold). Each sweep acts on its own missed deadlines oldest first, each step once."""

from __future__ import annotations

from referrals.timers import credentials, hold, idle, precautions, services
from referrals.timers.services import Acted


def timers_sweep() -> list[Acted]:
    """One sweep of every timer; what it did (a step another run did first is not in it)."""
    credentials.credentials_expiring_sweep()
    return [
        *services.requested_sweep(),
        *idle.idle_sweep(),
        *precautions.precautions_ended_sweep(),
        *hold.hold_sweep(),
    ]
