"""Progress: what comes back from the gym. A session log (attendance, each exercise's dose as done, effort,
pain, minutes of activity, the red flags seen) and the progress report composed from the logs of a period,
with the physiotherapist's acknowledgement and replies. Data and invariants only; every write goes through
progress.services.

The shape follows what the HL7 Physical Activity guide reports back (a DiagnosticReport with Exercise Vital
Sign observations): a report's figures are computed from the logs when it is submitted and kept with it, so
the FHIR export reads one frozen row."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from referrals.care.models import LoadUnit
from referrals.concerns.models import Concern
from referrals.handoffs.models import TrainerHandoff
from referrals.library.models import Exercise

# The ranges a log accepts: the one statement the service, the page form, the API and the database read.
SCORE_RANGE = (0, 10)  # session RPE (Borg CR10) and pain (numeric rating scale)
MVPA_MINUTES_RANGE = (0, 600)  # minutes of moderate-to-vigorous activity in one session
HEART_RATE_RANGE = (30, 250)  # the session's peak heart rate, beats per minute
SESSION_SETS_RANGE = (0, 20)
SESSION_REPS_RANGE = (0, 200)
SESSION_HOLD_SECONDS_RANGE = (0, 900)
SESSION_DURATION_MINUTES_RANGE = (0, 300)
# A load as done, per unit: kg up to a world record with margin, % of 1RM, RPE (CR10).
SESSION_LOAD_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    LoadUnit.KG: (Decimal(0), Decimal(500)),
    LoadUnit.PERCENT_1RM: (Decimal(0), Decimal(100)),
    LoadUnit.RPE: (Decimal(0), Decimal(10)),
}
SESSION_NOTE_MAX_LENGTH = 2000
SESSION_MAX_EXERCISES = 80  # the plan's 60 and some the trainer added
REPORT_TEXT_MAX_LENGTH = 4000  # each part of a report's narrative, a reply


def _between(low: int, high: int) -> list[Any]:
    return [MinValueValidator(low), MaxValueValidator(high)]


def _range_constraint(field: str, bounds: tuple[int, int], name: str) -> models.CheckConstraint:
    low, high = bounds
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=name,
    )


class SessionLog(models.Model):
    """One session the trainer logged for a referral (accepted, in progress). Never edited once stored: a
    correction is a new log (and the audit keeps both)."""

    class Attendance(models.TextChoices):
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"
        CANCELLED_CLIENT = "cancelled_client", "Cancelled by the client"
        CANCELLED_GYM = "cancelled_gym", "Cancelled by the gym"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="sessions")
    session_date = models.DateField()
    attendance = models.CharField(max_length=20, choices=Attendance.choices)
    rpe = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_between(*SCORE_RANGE), verbose_name="session RPE (0-10)"
    )
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True, validators=_between(*SCORE_RANGE))
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=_between(*SCORE_RANGE))
    peak_heart_rate = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_between(*HEART_RATE_RANGE), verbose_name="peak heart rate (bpm)"
    )
    mvpa_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=_between(*MVPA_MINUTES_RANGE),
        verbose_name="minutes of moderate-to-vigorous activity",
    )
    # The red flags of the guidelines the trainer ticked: [{"id": <RedFlag public id>, "description": ...}],
    # copied from the snapshot the trainer worked from.
    red_flags_seen = models.JSONField(default=list, blank=True)
    note = models.TextField(
        blank=True,
        max_length=SESSION_NOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(SESSION_NOTE_MAX_LENGTH)],
    )
    # The urgent concern the safety fast lane raised from this log, if any.
    concern = models.OneToOneField(
        Concern, on_delete=models.PROTECT, null=True, blank=True, related_name="session_log"
    )
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session_date", "id"]
        indexes = [models.Index(fields=["handoff", "session_date"], name="session_handoff_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance__in=["attended", "no_show", "cancelled_client", "cancelled_gym"]),
                name="session_attendance_valid",
            ),
            _range_constraint("rpe", SCORE_RANGE, "session_rpe_range"),
            _range_constraint("pain_before", SCORE_RANGE, "session_pain_before_range"),
            _range_constraint("pain_after", SCORE_RANGE, "session_pain_after_range"),
            _range_constraint("peak_heart_rate", HEART_RATE_RANGE, "session_heart_rate_range"),
            _range_constraint("mvpa_minutes", MVPA_MINUTES_RANGE, "session_mvpa_range"),
        ]

    def __str__(self) -> str:
        return f"Session {self.session_date:%Y-%m-%d} ({self.get_attendance_display()})"

    @property
    def attended(self) -> bool:
        return self.attendance == self.Attendance.ATTENDED


class SessionExercise(models.Model):
    """One exercise of a session: a prescribed one (named by its id in the guidelines) done or not, with
    the dose as done, or one the trainer added from the library (`prescribed_id` empty)."""

    session = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="exercises")
    position = models.PositiveSmallIntegerField(default=0)
    # The PlanExercise's public id in the guidelines snapshot; empty for an exercise the trainer added.
    prescribed_id = models.UUIDField(null=True, blank=True)
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, help_text="The exercise's name as the trainer saw it.")
    done = models.BooleanField(default=True)
    sets = models.PositiveSmallIntegerField(null=True, blank=True, validators=_between(*SESSION_SETS_RANGE))
    reps = models.PositiveSmallIntegerField(null=True, blank=True, validators=_between(*SESSION_REPS_RANGE))
    hold_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_between(*SESSION_HOLD_SECONDS_RANGE)
    )
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_between(*SESSION_DURATION_MINUTES_RANGE)
    )
    load_unit = models.CharField(max_length=12, choices=LoadUnit.choices, blank=True)
    load_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # load per exercise over time: one prescribed exercise's rows across a referral's sessions
            models.Index(fields=["prescribed_id", "session"], name="session_exercise_rx_idx"),
        ]
        constraints = [
            _range_constraint("sets", SESSION_SETS_RANGE, "session_exercise_sets_range"),
            _range_constraint("reps", SESSION_REPS_RANGE, "session_exercise_reps_range"),
            _range_constraint("hold_seconds", SESSION_HOLD_SECONDS_RANGE, "session_exercise_hold_range"),
            _range_constraint(
                "duration_minutes", SESSION_DURATION_MINUTES_RANGE, "session_exercise_duration_range"
            ),
            models.CheckConstraint(
                condition=Q(load_value__isnull=True) | (Q(load_value__gte=0) & Q(load_value__lte=500)),
                name="session_exercise_load_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({'done' if self.done else 'not done'})"

    @property
    def added(self) -> bool:
        return self.prescribed_id is None


class ProgressReport(models.Model):
    """A report for one period of a referral: the figures composed from its logs (kept as they were at
    submission, `figures`), the trainer's narrative, each goal's assessment, and the physiotherapist's
    acknowledgement.

    `figures` holds: attendance (attended, missed, cancelled, per week), the Exercise Vital Signs (LOINC
    89555-7 days/week, 68516-4 min/day, 82290-8 min/week, 82291-6 strength days/week), pain and RPE
    series; its shape is progress.metrics.ReportFigures. `goals`: [{"goal": text, "status": met | partly |
    not_yet}], one per goal line of the guidelines."""

    class GoalStatus(models.TextChoices):
        MET = "met", "Met"
        PARTLY = "partly", "Partly met"
        NOT_YET = "not_yet", "Not yet"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="reports")
    period_start = models.DateField()
    period_end = models.DateField()
    figures = models.JSONField(default=dict, editable=False)
    impressions = models.TextField(blank=True, max_length=REPORT_TEXT_MAX_LENGTH)
    obstacles = models.TextField(blank=True, max_length=REPORT_TEXT_MAX_LENGTH)
    adherence = models.TextField(blank=True, max_length=REPORT_TEXT_MAX_LENGTH)
    recommendations = models.TextField(blank=True, max_length=REPORT_TEXT_MAX_LENGTH)
    goals = models.JSONField(default=list, blank=True)
    # The last report of a referral, required to complete it.
    final = models.BooleanField(default=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["handoff", "-period_end"], name="report_handoff_period_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="report_period"
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="report_acknowledged_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class ReportReply(models.Model):
    """The physiotherapist's reply to a report (or the trainer's answer to it): append-only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(ProgressReport, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(
        max_length=REPORT_TEXT_MAX_LENGTH, validators=[MaxLengthValidator(REPORT_TEXT_MAX_LENGTH)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Reply to {self.report_id} at {self.created_at:%Y-%m-%d %H:%M}"
