"""Care: the patient, the treatment plan and what it prescribes (exercises, precautions, red flags), and
the patient's consent to what a gym sees. Data and invariants only; every write goes through care.services."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization
from referrals.library.models import BodyRegion, Exercise

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


# How often a progress report is due, in weeks: the range and the default (forms, API and admin read them).
REPORT_INTERVAL_WEEKS = (1, 26)
REPORT_INTERVAL_DEFAULT = 4


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
    # How often the trainer owes a progress report (progress.services); one is also owed to complete.
    report_interval_weeks = models.PositiveSmallIntegerField(
        default=REPORT_INTERVAL_DEFAULT,
        validators=[MinValueValidator(REPORT_INTERVAL_WEEKS[0]), MaxValueValidator(REPORT_INTERVAL_WEEKS[1])],
        help_text="How often the trainer sends a progress report, in weeks (1-26).",
    )
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
