"""Domain errors raised by services. Adapters map them once: API exception handler, form errors in HTML.

The base classes, DomainError and NotPermitted, are defined in accounts.errors (accounts imports nothing
of referrals) and re-exported here: `from referrals.errors import NotPermitted` names the same class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Re-exported (`import X as X`): the same classes, so an `except NotPermitted` catches either app's.
from accounts.errors import DomainError as DomainError
from accounts.errors import NotPermitted as NotPermitted


class InvalidTransition(DomainError):
    """The move is not legal from the current status (maps to 409 Conflict)."""

    code = "invalid_transition"

    def __init__(self, message: str, *, current_status: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.current_status = current_status


class DuplicatePatient(DomainError):
    """The clinic already has a patient with this name and date of birth (maps to 409 with the existing
    patient's id). Adding the patient anyway takes the caller's confirmation that it is another person."""

    code = "duplicate_patient"

    def __init__(self, message: str, *, existing: Any) -> None:
        super().__init__(message)
        self.existing = existing


class ConcernAlreadyResolved(DomainError):
    """A resolved concern is closed: it cannot be acknowledged or resolved again (maps to 409)."""

    code = "concern_already_resolved"


@dataclass(frozen=True)
class Blocker:
    """One unmet condition for sending a handoff."""

    code: str
    message: str


class SendBlocked(DomainError):
    """The handoff cannot be sent: one or more preconditions are unmet, each with its own code."""

    code = "send_blocked"

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(" ".join(b.message for b in blockers))
        self.blockers = blockers

    @property
    def codes(self) -> list[str]:
        return [b.code for b in self.blockers]


class NoLongerEligible(SendBlocked):
    """A step that takes the patient on (accept, start, resume) is refused: what made the referral sendable
    no longer holds (an ended partnership, an expired or unverified certification, an expired CPR/AED, a
    deactivated trainer or one no longer at the gym). One code per reason, as for a blocked send; the
    refusal itself is recorded on the referral and the physiotherapist is told."""

    code = "no_longer_eligible"


class ReportRequired(DomainError):
    """A referral is completed only once its trainer submitted a progress report marked final (maps to
    409): the physiotherapist gets the last figures and the goals' assessment before the loop closes."""

    code = "report_required"
