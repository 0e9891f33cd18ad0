"""The referral domain: data and invariants only. Every write goes through referrals.services."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization

_INVALID = object()


def _as_decimal(value: object) -> Any:
    """For cross-field checks in clean(): the value as a Decimal, None when empty, or _INVALID when it is
    not a number (Django's field validation has reported that already; clean() runs regardless)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return _INVALID


# Text limits that are not a model field's own max_length (a field's is read from the field: see
# `text_limit`). The services enforce them; the page forms, the API serializers and the admin read them.
REASON_MAX_LENGTH = 1000  # the reason of a status change (TrainerHandoff.status_reason), a summary
CONCERN_MAX_LENGTH = 4000  # the text of a trainer's concern
CONCERN_NOTE_MAX_LENGTH = 2000  # the note a physiotherapist resolves a concern with


def text_limit(model: type[models.Model], name: str) -> int:
    """The max_length of a model's text field: the one limit the page forms, the API serializers and the
    admin (a ModelForm reads it itself) all apply, and full_clean() enforces in the services."""
    field = model._meta.get_field(name)
    limit = field.max_length if isinstance(field, models.Field) else None
    if limit is None:  # pragma: no cover - a programming error, caught by the tests that use each field
        raise LookupError(f"{model.__name__}.{name} has no max_length")
    return int(limit)


class DecimalShape(TypedDict):
    max_digits: int
    decimal_places: int


def decimal_shape(model: type[models.Model], name: str) -> DecimalShape:
    """The digits of a model's decimal field (`max_digits`, `decimal_places`), as the page forms and the
    API serializers declare them: read from the field, never written again."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.DecimalField):  # pragma: no cover - a programming error
        raise LookupError(f"{model.__name__}.{name} is not a decimal field")
    return DecimalShape(max_digits=int(field.max_digits), decimal_places=int(field.decimal_places))


class BodyRegion(models.TextChoices):
    NECK = "neck", "Neck"
    SHOULDER = "shoulder", "Shoulder"
    ELBOW = "elbow", "Elbow"
    WRIST_HAND = "wrist_hand", "Wrist and hand"
    THORACIC_SPINE = "thoracic_spine", "Thoracic spine"
    LUMBAR_SPINE = "lumbar_spine", "Lumbar spine"
    HIP = "hip", "Hip"
    KNEE = "knee", "Knee"
    ANKLE_FOOT = "ankle_foot", "Ankle and foot"
    CORE = "core", "Core"
    FULL_BODY = "full_body", "Full body"


class Patient(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="patients",
        limit_choices_to={"kind": Organization.Kind.CLINIC},
    )
    full_name = models.CharField(max_length=150)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["clinic", "full_name"])]

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        born: object = self.date_of_birth
        if not isinstance(born, datetime.date):
            return  # the field reported it
        if born > timezone.localdate():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
        if born.year < 1900:
            raise ValidationError({"date_of_birth": "Enter a date of birth after 1900."})


# Chapters A to Z, U included (U07.1 COVID-19, U09.9 post-COVID condition: WHO's codes for emergency use).
icd10_validator = RegexValidator(
    r"^[A-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$",
    "Enter an ICD-10 code such as M75.1 or S83.5.",
)


class TreatmentPlan(models.Model):
    class Status(models.TextChoices):
        """Follows the plan's referrals (services._plan_follow_referrals): active until a referral is sent;
        discharged while a sent referral is open; awaiting a new trainer after the last sent one was
        declined, cancelled or failed; completed once a referral completed (a new episode is a new plan).
        A referral entered in error counts as never sent."""

        ACTIVE = "active", "Active"
        DISCHARGED = "discharged", "Discharged"
        AWAITING_TRAINER = "awaiting_trainer", "Awaiting a new trainer"
        COMPLETED = "completed", "Completed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    physiotherapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    diagnosis = models.TextField(
        max_length=4000, validators=[MaxLengthValidator(4000)], help_text="Condition or diagnosis, in words."
    )
    icd10_code = models.CharField(
        max_length=8, blank=True, validators=[icd10_validator], verbose_name="ICD-10"
    )
    goals = models.TextField(max_length=4000, validators=[MaxLengthValidator(4000)])
    start_date = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    discharged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "discharged", "awaiting_trainer", "completed"]),
                name="treatmentplan_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(discharged_at__isnull=False),
                name="treatmentplan_discharged_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.start_date:%Y-%m-%d} for {self.patient}"

    def clean(self) -> None:
        patient = Patient.objects.filter(pk=self.patient_id).only("clinic_id", "date_of_birth").first()
        started: object = self.start_date
        if patient is not None and isinstance(started, datetime.date) and started < patient.date_of_birth:
            raise ValidationError({"start_date": "The plan cannot start before the patient was born."})
        clinic_id = patient.clinic_id if patient is not None else None
        if clinic_id is None or self.physiotherapist_id is None:
            return
        if not Membership.objects.filter(
            user_id=self.physiotherapist_id, organization_id=clinic_id, role=Membership.Role.PHYSIOTHERAPIST
        ).exists():
            raise ValidationError({"physiotherapist": "Choose a physiotherapist of the patient's clinic."})


class Exercise(models.Model):
    class Category(models.TextChoices):
        MOBILITY = "mobility", "Mobility"
        STRETCHING = "stretching", "Stretching"
        BALANCE = "balance", "Balance"
        STRENGTH = "strength", "Strength"
        CARDIO = "cardio", "Cardio"
        FUNCTIONAL = "functional", "Functional"

    # The entry's stable name in the shipped library (referrals/exercise_library.py): a rename keeps it.
    slug = models.SlugField(max_length=120, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    instructions = models.TextField()
    equipment = models.CharField(max_length=120, blank=True)
    # The version of the shipped library that last wrote this entry; empty for an entry added here.
    library_version = models.CharField(max_length=20, blank=True, editable=False)
    # Gone from the shipped library: no longer offered, kept for the plans that prescribe it.
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["category", "body_region"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:  # an entry added in the admin: named after itself, like the shipped ones
            self.slug = exercise_slug(self.name, taken=Exercise.objects.exclude(pk=self.pk))
        super().save(*args, **kwargs)


def exercise_slug(name: str, *, taken: models.QuerySet[Exercise]) -> str:
    """The slug of a new entry: its name slugified, with "-2", "-3"... when another entry has it."""
    base = slugify(name)[:110] or "exercise"
    used = set(taken.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug


class LoadUnit(models.TextChoices):
    KG = "kg", "kg"
    PERCENT_1RM = "pct_1rm", "% of 1RM"
    RPE = "rpe", "RPE"
    BODYWEIGHT = "bodyweight", "Bodyweight"
    BAND = "band", "Band"


# Dose ranges: wide enough for any real prescription, narrow enough to catch a typo.
DOSE_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    "sets": (Decimal(1), Decimal(20)),
    "reps": (Decimal(1), Decimal(100)),
    "hold_seconds": (Decimal(1), Decimal(600)),
    "duration_minutes": (Decimal(1), Decimal(240)),
    "frequency_per_week": (Decimal(1), Decimal(14)),
    "rest_seconds": (Decimal(0), Decimal(600)),
}
LOAD_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    LoadUnit.KG: (Decimal("0.5"), Decimal(500)),
    LoadUnit.PERCENT_1RM: (Decimal(1), Decimal(100)),
    LoadUnit.RPE: (Decimal(1), Decimal(10)),
}


def dose_bounds(field: str) -> tuple[int, int]:
    """The whole-number range of a dose field (DOSE_LIMITS): the one statement of it that the model's
    validators, its database constraints and the API's inputs all read."""
    low, high = DOSE_LIMITS[field]
    return int(low), int(high)


def _range(field: str) -> list[Any]:
    low, high = dose_bounds(field)
    return [MinValueValidator(low), MaxValueValidator(high)]


def _dose_constraint(field: str, name: str, *, nullable: bool) -> models.CheckConstraint:
    """The database's copy of a dose range (the same SQL and name as the hand-written ones had)."""
    low, high = dose_bounds(field)
    within = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | within if nullable else within, name=name
    )


tempo_validator = RegexValidator(
    r"^[0-9X]-[0-9X]-[0-9X]-[0-9X]$", "Write tempo as four digits, e.g. 3-1-1-0."
)


class PlanExercise(models.Model):
    """One exercise of a plan with its dose."""

    # Its id in the guidelines snapshot: a session log or a revision names the row by it.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="exercises")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    sets = models.PositiveSmallIntegerField(default=3, validators=_range("sets"))
    reps = models.PositiveSmallIntegerField(null=True, blank=True, validators=_range("reps"))
    hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True, validators=_range("hold_seconds"))
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_range("duration_minutes")
    )
    load_unit = models.CharField(max_length=12, choices=LoadUnit.choices, blank=True)
    load_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    frequency_per_week = models.PositiveSmallIntegerField(default=3, validators=_range("frequency_per_week"))
    tempo = models.CharField(max_length=7, blank=True, validators=[tempo_validator])
    rest_seconds = models.PositiveSmallIntegerField(null=True, blank=True, validators=_range("rest_seconds"))
    notes = models.TextField(blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])
    progression_note = models.TextField(blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            _dose_constraint("sets", "planexercise_sets_range", nullable=False),
            _dose_constraint("reps", "planexercise_reps_range", nullable=True),
            _dose_constraint("hold_seconds", "planexercise_hold_range", nullable=True),
            _dose_constraint("duration_minutes", "planexercise_duration_range", nullable=True),
            _dose_constraint("frequency_per_week", "planexercise_frequency_range", nullable=False),
            models.CheckConstraint(
                condition=~Q(reps__isnull=True, hold_seconds__isnull=True, duration_minutes__isnull=True),
                name="planexercise_has_volume",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} ({self.dose_text})"

    @property
    def dose_text(self) -> str:
        parts = [f"{self.sets} x "]
        if self.reps:
            parts.append(f"{self.reps} reps")
        elif self.hold_seconds:
            parts.append(f"{self.hold_seconds} s hold")
        elif self.duration_minutes:
            parts = [f"{self.duration_minutes} min"]
        if self.load_unit == LoadUnit.BODYWEIGHT:
            parts.append(", bodyweight")
        elif self.load_unit == LoadUnit.BAND:
            parts.append(", band")
        elif self.load_unit and self.load_value is not None:
            parts.append(f", {self.load_value.normalize():f} {self.get_load_unit_display()}")
        parts.append(f", {self.frequency_per_week}x/week")
        return "".join(parts)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        volume = [f for f in ("reps", "hold_seconds", "duration_minutes") if getattr(self, f) is not None]
        if not volume:
            errors["reps"] = "Give reps, a hold time in seconds or a duration in minutes."
        elif len(volume) > 1:
            errors[volume[1]] = "Give only one of reps, hold seconds or duration."
        load = _as_decimal(self.load_value)
        # A load that is not a number was reported by the load_value field itself: no range check then.
        if load is not _INVALID and self.load_unit in LOAD_LIMITS:
            low, high = LOAD_LIMITS[self.load_unit]
            if load is None:
                errors["load_value"] = f"Give the load in {self.get_load_unit_display()}."
            elif not low <= load <= high:
                errors["load_value"] = (
                    f"A load in {self.get_load_unit_display()} must be between {low.normalize():f} "
                    f"and {high.normalize():f}."
                )
        elif load is not None and load is not _INVALID:
            if not self.load_unit:
                errors["load_unit"] = "Choose the unit of the load."
            else:
                errors["load_value"] = f"A {self.get_load_unit_display().lower()} load takes no number."
        if errors:
            raise ValidationError(errors)


class Precaution(models.Model):
    """A structured limit the trainer must respect."""

    # Its id in the guidelines snapshot: a session log or a revision names the row by it.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Kind(models.TextChoices):
        AVOID_MOVEMENT = "avoid_movement", "Avoid movement"
        LOAD_LIMIT = "load_limit", "Load limit"
        ROM_LIMIT = "rom_limit", "Range-of-motion limit"
        WEIGHT_BEARING = "weight_bearing", "Weight-bearing status"
        EFFORT_CAP = "effort_cap", "Heart-rate or RPE cap"
        PAIN_RULE = "pain_rule", "Pain rule"

    class Unit(models.TextChoices):
        KG = "kg", "kg"
        DEGREES = "deg", "degrees"
        BPM = "bpm", "beats per minute"
        RPE = "rpe", "RPE (1-10)"
        PAIN = "pain", "pain score (0-10)"
        PERCENT_BODYWEIGHT = "pct_bw", "% of body weight"

    class WeightBearing(models.TextChoices):
        NON = "nwb", "Non-weight-bearing"
        TOE_TOUCH = "ttwb", "Toe-touch weight-bearing"
        PARTIAL = "pwb", "Partial weight-bearing"
        AS_TOLERATED = "wbat", "Weight-bearing as tolerated"
        FULL = "fwb", "Full weight-bearing"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="precautions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices, blank=True)
    limit_value = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    limit_unit = models.CharField(max_length=8, choices=Unit.choices, blank=True)
    weight_bearing = models.CharField(max_length=4, choices=WeightBearing.choices, blank=True)
    valid_until = models.DateField(null=True, blank=True, help_text="Leave empty if it has no end date.")
    detail = models.TextField(blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])

    # Which units each kind accepts, and each unit's sane range.
    KIND_UNITS: dict[str, tuple[str, ...]] = {
        "load_limit": ("kg", "pct_bw"),
        "rom_limit": ("deg",),
        "weight_bearing": ("pct_bw",),
        "effort_cap": ("bpm", "rpe"),
        "pain_rule": ("pain",),
    }
    UNIT_RANGES: dict[str, tuple[Decimal, Decimal]] = {
        "kg": (Decimal(0), Decimal(500)),
        "deg": (Decimal(0), Decimal(360)),
        "bpm": (Decimal(40), Decimal(220)),
        "rpe": (Decimal(1), Decimal(10)),
        "pain": (Decimal(0), Decimal(10)),
        "pct_bw": (Decimal(0), Decimal(100)),
    }

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        text = self.get_kind_display()
        if self.body_region:
            text += f" ({self.get_body_region_display()})"
        if self.weight_bearing:
            text += f": {self.get_weight_bearing_display()}"
        if self.limit_value is not None:
            text += f": {self.limit_value.normalize():f} {self.get_limit_unit_display()}"
        if self.valid_until:
            text += f", until {self.valid_until:%Y-%m-%d}"
        return text

    def is_current(self) -> bool:
        return self.valid_until is None or self.valid_until >= timezone.localdate()

    def clean(self) -> None:
        errors: dict[str, str] = {}
        units = self.KIND_UNITS.get(self.kind, ())
        value = _as_decimal(self.limit_value)
        if self.kind == self.Kind.AVOID_MOVEMENT:
            if not str(self.detail or "").strip():
                errors["detail"] = "Describe the movement to avoid."
            if value is not None or self.limit_unit:
                errors["limit_value"] = "An avoided movement takes no limit value."
        elif self.kind == self.Kind.WEIGHT_BEARING:
            if not self.weight_bearing:
                errors["weight_bearing"] = "Choose the weight-bearing status."
        elif value is None:
            errors["limit_value"] = f"A {self.get_kind_display().lower()} needs a limit value."
        if self.kind in (self.Kind.LOAD_LIMIT, self.Kind.ROM_LIMIT) and not self.body_region:
            errors["body_region"] = "Name the body region this limit applies to."
        if value is not None and value is not _INVALID and self.kind != self.Kind.AVOID_MOVEMENT:
            if self.limit_unit not in units:
                allowed = ", ".join(str(self.Unit(u).label) for u in units)
                errors["limit_unit"] = f"For this kind of precaution the unit is one of: {allowed}."
            else:
                low, high = self.UNIT_RANGES[self.limit_unit]
                if not low <= value <= high:
                    errors["limit_value"] = (
                        f"The limit in {self.get_limit_unit_display()} must be between "
                        f"{low.normalize():f} and {high.normalize():f}."
                    )
        if self.weight_bearing and self.kind != self.Kind.WEIGHT_BEARING:
            errors["weight_bearing"] = "Only a weight-bearing precaution takes a weight-bearing status."
        until: object = self.valid_until
        plan = getattr(
            self, "plan", None
        )  # None while unset (RelatedObjectDoesNotExist is an AttributeError)
        started: object = plan.start_date if plan is not None else None
        if isinstance(until, datetime.date) and isinstance(started, datetime.date) and until < started:
            errors["valid_until"] = f"A precaution cannot end before the plan starts ({started:%Y-%m-%d})."
        if errors:
            raise ValidationError(errors)


class RedFlag(models.Model):
    """A sign that means: stop and send the patient back to the physiotherapist."""

    # Its id in the guidelines snapshot: a session log or a revision names the row by it.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="red_flags")
    description = models.CharField(max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class Consent(models.Model):
    """The patient's consent to share their guidelines with one gym."""

    class Scope(models.TextChoices):
        GUIDELINES = "guidelines", "Exercises and precautions only"
        WITH_DIAGNOSIS = "with_diagnosis", "Exercises, precautions and the diagnosis"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    gym = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="consents",
        limit_choices_to={"kind": Organization.Kind.GYM},
    )
    scope = models.CharField(max_length=20, choices=Scope.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    withdrawal_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "gym"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_patient_gym",
            ),
        ]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "active"
        return f"Consent for {self.gym} ({self.get_scope_display()}, {state})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def includes_diagnosis(self) -> bool:
        return self.scope == self.Scope.WITH_DIAGNOSIS


# How many rows a plan may have: the service refuses more (pages, API and admin alike) and the plan
# editor never builds more forms than this.
PLAN_MAX_EXERCISES = 60
PLAN_MAX_PRECAUTIONS = 30
PLAN_MAX_RED_FLAGS = 30


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
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
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

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The concern an acknowledgement or a resolution answers (the raising event is Concern.event).
    regarding = models.ForeignKey(
        "Concern", on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
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

    class Meta:
        ordering = ["created_at", "id"]
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


class Concern(models.Model):
    """A concern a trainer raised, and where it stands: raised (its event), acknowledged by a physiotherapist
    of the clinic, resolved with a note. The state lives here; each step also appends a HandoffEvent
    (`regarding` this concern), so both sides see it on the timeline and the events stay append-only."""

    class State(models.TextChoices):
        RAISED = "raised", "Raised"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handoff = models.ForeignKey(TrainerHandoff, on_delete=models.PROTECT, related_name="concerns")
    event = models.OneToOneField(HandoffEvent, on_delete=models.PROTECT, related_name="concern")
    put_on_hold = models.BooleanField(default=False, help_text="Raised with the referral put on hold.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(
        blank=True,
        max_length=CONCERN_NOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(CONCERN_NOTE_MAX_LENGTH)],
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the PT home: the unresolved concerns of the clinics, whatever the referral's status
            models.Index(fields=["handoff"], condition=Q(resolved_at__isnull=True), name="concern_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="concern_acknowledged_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True, resolution_note="")
                | (
                    Q(resolved_at__isnull=False, resolved_by__isnull=False, acknowledged_at__isnull=False)
                    & ~Q(resolution_note="")
                ),
                name="concern_resolved_who_when_note",
            ),
        ]

    def __str__(self) -> str:
        return f"Concern on {self.handoff_id} ({self.state})"

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return self.State.RESOLVED
        if self.acknowledged_at is not None:
            return self.State.ACKNOWLEDGED
        return self.State.RAISED

    def get_state_display(self) -> str:
        return str(self.State(self.state).label)


# The notification kind of the rows a HandoffEvent causes (referrals.notifications.NOTIFICATION_KINDS).
HANDOFF_EVENT_KIND = "handoff-event"


def event_source_key(event_id: int) -> str:
    """The source key of the rows a HandoffEvent causes: one row per event, recipient (and channel)."""
    return f"{HANDOFF_EVENT_KIND}:{event_id}"


class _Owed:
    """What a notification and an outbox row share: what caused it (`kind`, `source_key`, and for
    context the referral and the event, both optional). A row given only its event gets the event's key
    and referral, so rows written the old way (`Model(event=..., recipient=...)`) stay valid."""

    event_id: int | None
    handoff_id: int | None
    source_key: str

    def fill_source(self) -> None:
        if self.event_id is not None:
            if not self.source_key:
                self.source_key = event_source_key(self.event_id)
            if self.handoff_id is None:
                self.handoff_id = self.event.handoff_id  # type: ignore[attr-defined]


_Row = TypeVar("_Row", bound=models.Model)


class OwedQuerySet(models.QuerySet[_Row]):
    """`bulk_create` fills each row's source from its event first (see _Owed)."""

    def bulk_create(self, objs: Iterable[_Row], *args: Any, **kwargs: Any) -> list[_Row]:
        objs = list(objs)
        for obj in objs:
            obj.fill_source()  # type: ignore[attr-defined]
        return super().bulk_create(objs, *args, **kwargs)


class Notification(_Owed, models.Model):
    """An in-app notification of any kind of domain event: one per source and recipient. Its text names
    what happened and where, never clinical detail."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(
        max_length=40, default=HANDOFF_EVENT_KIND, help_text="referrals.notifications.NOTIFICATION_KINDS"
    )
    source_key = models.CharField(
        max_length=100,
        help_text='What caused it, e.g. "handoff-event:<id>": one row per source and recipient.',
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        HandoffEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    urgent = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            # the latest few on every page, newest first, whether read or not
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_latest_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "recipient"], name="notification_unique_per_source"
            ),
            models.CheckConstraint(condition=~Q(source_key=""), name="notification_has_source"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_source()
        super().save(*args, **kwargs)


class OutboxMessage(_Owed, models.Model):
    """A message owed to a recipient for any kind of domain event: one per source, recipient and channel.
    The database, not the broker, remembers it until it is sent."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_FLIGHT = "in_flight", "In flight"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(
        max_length=40, default=HANDOFF_EVENT_KIND, help_text="referrals.notifications.NOTIFICATION_KINDS"
    )
    source_key = models.CharField(
        max_length=100,
        help_text='What caused it, e.g. "handoff-event:<id>": one row per source, recipient and channel.',
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        HandoffEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OwedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox message"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "recipient", "channel"],
                name="outbox_unique_per_source_recipient_channel",
            ),
            models.CheckConstraint(condition=~Q(source_key=""), name="outbox_has_source"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient_id} for {self.source_key} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_source()
        super().save(*args, **kwargs)


class AppendOnlyError(Exception):
    """An attempt to edit or delete an append-only row (the access log)."""


class AccessLogQuerySet(models.QuerySet["AccessLog"]):
    """No bulk edit, no bulk delete: the access log only grows."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The access log is append-only: rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only: rows are never deleted.")


class AccessLog(models.Model):
    """One read of a patient's data (patient, plan, handoff, handout, timeline) by one user.

    Written by referrals.audit, never edited or deleted: together with HandoffEvent (the writes) it answers
    "who saw or changed this patient's data". The foreign keys PROTECT: a patient, handoff or user with an
    access history cannot be deleted out from under it (a patient is PROTECTed by their plans anyway).
    `patient` is nullable only so a future read of something without a patient can still be recorded.
    """

    class Channel(models.TextChoices):
        PAGE = "page", "Web page"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    class ObjectType(models.TextChoices):
        PATIENT = "patient", "Patient"
        PLAN = "plan", "Treatment plan"
        HANDOFF = "handoff", "Handoff"
        HANDOUT = "handout", "Printable handout"
        HANDOFF_EVENTS = "handoff_events", "Handoff timeline"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    handoff = models.ForeignKey(
        TrainerHandoff, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_public_id = models.UUIDField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    path = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [models.Index(fields=["patient", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.object_type} {str(self.object_public_id)[:8]} ({self.channel})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The access log is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only: rows are never deleted.")
