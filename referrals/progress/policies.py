"""Who may log, read and answer what comes back from the gym: the one rule of the services, the pages,
the API and the PDF.

The referral's trainer writes (session logs, reports) while they are its active trainer at its gym, the
referral is accepted or in progress, and the patient's consent to that gym stands; they read their own
referral's logs and reports under the same consent. The physiotherapists of the referring clinic read
everything and answer reports (acknowledge, reply), whatever the referral's status since."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from referrals.access import is_clinic_physio
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.handoffs.policies import can_view_guidelines, clinic_id_of, is_handoff_trainer

# A session is logged, and a report written, only while the trainer has the client.
LOGGABLE_STATUSES = (HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS)
# A report may also be sent on hold (the client is away, the trainer reports what happened before).
REPORTABLE_STATUSES = (HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS, HandoffStatus.ON_HOLD)


def _consent_stands(handoff: TrainerHandoff) -> bool:
    consent = handoff.consent
    return consent is not None and consent.withdrawn_at is None


def is_writing_trainer(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """The referral's trainer, at its gym, under the patient's standing consent (the status aside)."""
    return is_handoff_trainer(user, handoff) and _consent_stands(handoff)


def can_log_session(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    return is_writing_trainer(user, handoff) and handoff.status in LOGGABLE_STATUSES


def can_submit_report(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    return is_writing_trainer(user, handoff) and handoff.status in REPORTABLE_STATUSES


def can_view_progress(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """The clinic's physiotherapists always; the trainer while they may see the guidelines (consent
    standing, the referral taken on)."""
    if is_clinic_physio(user, clinic_id_of(handoff)):
        return True
    return can_view_guidelines(user, handoff)


def can_answer_report(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """Acknowledge, reply to, or act on a report: the physiotherapists of the referring clinic."""
    return is_clinic_physio(user, clinic_id_of(handoff))


# Where a referral may be referred back from: the trainer has (or had) the client.
REFER_BACK_SOURCES = frozenset({HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS, HandoffStatus.ON_HOLD})


def can_refer_back_now(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """Whether to offer the way back (the referral page, the report page): the policy, from a status the
    service takes it from (handoffs.refer_back; the service checks both again)."""
    return can_refer_back(user, handoff) and handoff.status in REFER_BACK_SOURCES


def can_refer_back(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """Send the client back to the physiotherapist: the referral's trainer, or a physiotherapist of the
    referring clinic."""
    return is_handoff_trainer(user, handoff) or is_clinic_physio(user, clinic_id_of(handoff))
