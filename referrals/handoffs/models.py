"""The referral (TrainerHandoff) and its append-only event log (HandoffEvent): the FHIR Task statuses of
the Physical Activity guide. Data and invariants only; every write goes through handoffs.services."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from referrals.care.models import Consent, TreatmentPlan

# Text limits that are not a model field's own max_length (a field's is read from the field: see
# `text_limit`). The services enforce them; the page forms, the API serializers and the admin read them.
REASON_MAX_LENGTH = 1000  # the reason of a status change (TrainerHandoff.status_reason), a summary

# TrainerHandoff.business_status while the client is back with the physiotherapist (handoffs.refer_back):
# the referral is on hold or failed, and its plan is the physiotherapist's again (active).
REFERRED_BACK = "referred-back"
# TrainerHandoff.business_status of a referral the timers cancelled: the trainer never answered.
NO_RESPONSE = "no-response"


class HandoffStatus(models.TextChoices):
    """FHIR Task statuses, as the US Physical Activity IG uses them for a referral to a trainer."""

    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    FAILED = "failed", "Failed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


OPEN_STATUSES = (
    HandoffStatus.DRAFT,
    HandoffStatus.REQUESTED,
    HandoffStatus.ACCEPTED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.ON_HOLD,
)


TERMINAL_STATUSES = (
    HandoffStatus.REJECTED,
    HandoffStatus.FAILED,
    HandoffStatus.COMPLETED,
    HandoffStatus.CANCELLED,
    HandoffStatus.ENTERED_IN_ERROR,
)


REASON_REQUIRED_STATUSES = (
    HandoffStatus.REJECTED,
    HandoffStatus.ON_HOLD,
    HandoffStatus.CANCELLED,
    HandoffStatus.FAILED,
)


# The trainer's active caseload: what counts against max_active_clients.
CASELOAD_STATUSES = (
    HandoffStatus.REQUESTED,
    HandoffStatus.ACCEPTED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.ON_HOLD,
)


class TrainerHandoff(models.Model):
    """One offer of one treatment plan to one trainer at a partner gym (a FHIR Task)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="handoffs")
    # The plan's patient's clinic, copied at creation (a patient never changes clinic): the clinic's
    # lists filter and sort on one indexed column instead of joining through plan and patient.
    clinic = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="clinic_handoffs",
        limit_choices_to={"kind": Organization.Kind.CLINIC},
        editable=False,
    )
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs")
    gym = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="handoffs",
        limit_choices_to={"kind": Organization.Kind.GYM},
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=HandoffStatus.choices, default=HandoffStatus.DRAFT)
    status_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    # FHIR Task.businessStatus: a finer state set by the registry's actions (handoffs.registry
    # BusinessStatus), e.g. "referred-back" while the client is back with the physiotherapist.
    business_status = models.CharField(max_length=40, blank=True)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The last sign of care of an accepted or in-progress referral, a day of the clinic's calendar: the day
    # it moved into its status or the day of its latest session, whichever is later (handoffs.lifecycle and
    # progress.services keep it; timers.idle reads it through handoff_care_since_idx). None otherwise.
    care_since = models.DateField(null=True, blank=True, editable=False)
    # The day an on-hold referral is to be reviewed, asked when it was put on hold (by default the clinic's
    # hold review days later): past it the trainer is asked to resume or close it, then the clinic is told
    # (timers.hold). None when it is not on hold.
    hold_review_on = models.DateField(null=True, blank=True, editable=False)
    # What the timers have done already, so that their indexes hold only what is still to do (the events'
    # unique timer_key stays the rule of "once"): the care timers nudged for this care_since (cleared with
    # each new one); how many of a hold's two steps (the trainer asked, the clinic told) are done for this
    # review date (0 with each new one).
    care_nudged = models.BooleanField(default=False, db_default=False, editable=False)
    hold_steps_done = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["trainer", "status", "-updated_at"]),
            # the trainer's inbox (page and API): their sent handoffs at their gym, newest first, read in
            # order and stopped at the page's end (without it, every row of the trainer is read and sorted)
            models.Index(
                fields=["trainer", "gym", "-updated_at", "-id"],
                condition=~Q(status=HandoffStatus.DRAFT),
                name="handoff_trainer_inbox_idx",
            ),
            models.Index(fields=["updated_at"]),
            # the timers' sweep: the requested referrals sent long enough ago, oldest first (timers.services)
            models.Index(
                fields=["sent_at"], condition=Q(status="requested"), name="handoff_requested_sent_idx"
            ),
            # ... the care that stalls: the last sign of care of those accepted or in progress (timers.idle)
            models.Index(
                fields=["care_since"],
                condition=Q(status__in=["accepted", "in-progress"], care_nudged=False),
                name="handoff_care_since_idx",
            ),
            # ... the holds past their review date with a step still to do (timers.hold)
            models.Index(
                fields=["hold_review_on"],
                condition=Q(status="on-hold", hold_steps_done__lt=2),
                name="handoff_hold_review_idx",
            ),
            # the PT home: open referrals by status, waiting ones, declined/failed ones, and their count
            models.Index(fields=["clinic", "status", "-updated_at"], name="handoff_clinic_status_idx"),
            # ... "waiting for an answer", oldest sent first
            models.Index(
                fields=["clinic", "sent_at"],
                condition=Q(status=HandoffStatus.REQUESTED),
                name="handoff_clinic_waiting_idx",
            ),
            # ... "declined or failed", most recent first
            models.Index(
                fields=["clinic", "-updated_at"],
                condition=Q(status__in=[HandoffStatus.REJECTED, HandoffStatus.FAILED]),
                name="handoff_clinic_ended_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="handoff_one_open_per_plan",
                violation_error_message="This plan already has an open handoff.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in HandoffStatus]), name="handoff_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[s.value for s in REASON_REQUIRED_STATUSES]) | ~Q(status_reason=""),
                name="handoff_reason_when_required",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(snapshot__isnull=False),
                name="handoff_sent_has_snapshot",
            ),
        ]

    def __str__(self) -> str:
        return f"Handoff {str(self.public_id)[:8]} to {self.trainer} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_referred_back(self) -> bool:
        return self.business_status == REFERRED_BACK


# Who did it when an event has no actor: the system (a timer, the daily review).
SYSTEM_ACTOR_NAME = "Handoff (automatic)"


class HandoffEvent(models.Model):
    """One row per transition and per concern, and per answer to a concern (acknowledged, resolved): the
    audit trail and the notification outbox's parent. Never edited: a concern's state is its Concern row."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Status change"
        CONCERN = "concern", "Concern"
        CONCERN_ACKNOWLEDGED = "concern_acknowledged", "Concern acknowledged"
        CONCERN_RESOLVED = "concern_resolved", "Concern resolved"
        # an action (accept, start, resume) refused because the referral's trainer is no longer eligible:
        # no status change, but the PT is told and the refusal is in the audit trail
        REFUSAL = "refusal", "Refused action"
        # the treating physiotherapist left the clinic: the referral was handed to a colleague (or not)
        HANDOVER = "handover", "Handover"
        # a progress report submitted, acknowledged by a physiotherapist, or replied to (`report`)
        REPORT_SUBMITTED = "report_submitted", "Progress report"
        REPORT_ACKNOWLEDGED = "report_acknowledged", "Report acknowledged"
        REPORT_REPLY = "report_reply", "Reply to a report"
        # the trainer or a physiotherapist sent the client back to the physiotherapist (handoffs.refer_back):
        # the status change that follows it (on hold or failed) is its own, silent, event
        REFERRED_BACK = "referred_back", "Referred back to the physiotherapist"
        # the timers (timers.services), acting as the system: the trainer reminded of a referral they have
        # not answered; the clinic told that the trainer has not answered, with other trainers suggested
        REMINDER = "reminder", "Reminder"
        NO_ANSWER = "no_answer", "No answer from the trainer"
        # the timers: an accepted or in-progress referral with no session logged for too long (both told)
        NO_SESSION = "no_session", "No session logged"
        # the timers: a precaution of the guidelines has passed its valid-until date (the trainer told)
        PRECAUTION_ENDED = "precaution_ended", "Precaution ended"
        # a hold and its review (TrainerHandoff.hold_review_on): the trainer set a new review date (the
        # clinic told); the timers (timers.hold): the review date came (the trainer asked to resume or
        # close it), and it is still on hold some days later (the clinic told)
        HOLD_REVIEW_SET = "hold_review_set", "Hold review date set"
        HOLD_REVIEW = "hold_review", "Hold review due"
        HOLD_OVERDUE = "hold_overdue", "Hold past its review"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The concern an acknowledgement or a resolution answers (the raising event is Concern.event).
    regarding = models.ForeignKey(
        "Concern", on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    # The progress report a report event is about.
    report = models.ForeignKey(
        "ProgressReport", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    # None: the system did it (a timer, the daily review), shown as SYSTEM_ACTOR_NAME.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, choices=HandoffStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=HandoffStatus.choices, blank=True)
    text = models.TextField(blank=True, help_text="The reason of a transition or the text of a concern.")
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A timer's event: the step, the referral and when it was sent (timers.services.timer_key); unique, so
    # a timer acts once however often its sweep runs.
    timer_key = models.CharField(max_length=80, null=True, blank=True, editable=False)  # noqa: DJ001 - unique

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["timer_key"], condition=Q(timer_key__isnull=False), name="event_timer_key_once"
            ),
        ]
        indexes = [
            # the PT home's concerns: a few rows among every transition ever recorded
            models.Index(
                fields=["handoff", "-created_at"],
                condition=Q(kind="concern"),
                name="event_concern_idx",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CONCERN:
            return f"Concern on {self.handoff_id} at {self.created_at:%Y-%m-%d %H:%M}"
        if self.kind != self.Kind.TRANSITION:
            return f"{self.get_kind_display()} on {self.handoff_id} at {self.created_at:%Y-%m-%d %H:%M}"
        return f"{self.from_status or '-'} -> {self.to_status}"

    @property
    def actor_display(self) -> str:
        """Who did it, unfiltered (the audit's view): the person, or "Handoff (automatic)" for the system.
        Timelines go through selectors.HandoffView.actor_name, which also applies what consent hides."""
        return self.actor.full_name if self.actor is not None else SYSTEM_ACTOR_NAME
