"""Users, organizations (clinics and gyms), memberships, partnerships, professional credentials, API
tokens and the authenticator-app devices (two-factor authentication)."""

from __future__ import annotations

import datetime
import functools
import uuid
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp import models as otp_totp

from accounts.encryption import EncryptedTextField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Log in with the email address in any letter case: addresses are stored lower-case."""
        return self.get(email__iexact=(username or "").strip())

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


# Whoever a page, the API or the admin may be asked about: a signed-in user, or the anonymous visitor of
# a request (the policies answer "no" for them). Where only a signed-in user can be meant: `User`.
UserOrAnonymous = User | AnonymousUser


def time_zone_validator(value: str) -> None:
    """An IANA time zone name this machine knows (zoneinfo)."""
    if value and value not in available_time_zones():
        raise ValidationError(f"{value!r} is not a time zone: use an IANA name such as Europe/Berlin.")


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Organization(models.Model):
    """A physiotherapy clinic or a gym."""

    class Kind(models.TextChoices):
        CLINIC = "clinic", "Clinic"
        GYM = "gym", "Gym"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    city = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Its IANA time zone ("Europe/Berlin"): its deadlines count in its calendar, its people are not sent
    # reminders at night. Empty: the deployment's (settings.TIME_ZONE).
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[time_zone_validator],
        help_text="An IANA time zone, e.g. Europe/Berlin or America/New_York; empty: the server's default.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["clinic", "gym"]), name="organization_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """Its time zone; the deployment's when it names none (or one this machine does not know)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class Membership(models.Model):
    """A user's role in one organization."""

    class Role(models.TextChoices):
        PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
        TRAINER = "trainer", "Trainer"
        ORG_ADMIN = "org_admin", "Organization admin"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} at {self.organization}"

    def clean(self) -> None:
        organization = Organization.objects.filter(pk=self.organization_id).first()
        if organization is None:
            return
        kind = organization.kind
        if self.role == self.Role.PHYSIOTHERAPIST and kind != Organization.Kind.CLINIC:
            raise ValidationError({"role": "A physiotherapist belongs to a clinic."})
        if self.role == self.Role.TRAINER and kind != Organization.Kind.GYM:
            raise ValidationError({"role": "A trainer belongs to a gym."})


class Partnership(models.Model):
    """A clinic may refer patients to the trainers of a gym while the partnership is active."""

    clinic = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="gym_partnerships",
        limit_choices_to={"kind": Organization.Kind.CLINIC},
    )
    gym = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="clinic_partnerships",
        limit_choices_to={"kind": Organization.Kind.GYM},
    )
    active = models.BooleanField(default=True)
    started_on = models.DateField(default=datetime.date.today)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["clinic__name", "gym__name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "gym"], name="partnership_unique_pair"),
            models.CheckConstraint(condition=~Q(clinic=models.F("gym")), name="partnership_distinct_orgs"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic} -> {self.gym}{'' if self.active else ' (inactive)'}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.clinic_id is not None and self.clinic.kind != Organization.Kind.CLINIC:
            errors["clinic"] = "Choose a clinic."
        if self.gym_id is not None and self.gym.kind != Organization.Kind.GYM:
            errors["gym"] = "Choose a gym."
        if errors:
            raise ValidationError(errors)


class PhysiotherapistProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="physio_profile")
    licence_number = models.CharField(max_length=60)
    jurisdiction = models.CharField(max_length=120, help_text="State, province or country of the licence.")
    licence_expiry = models.DateField()

    class Meta:
        verbose_name = "physiotherapist profile"

    def __str__(self) -> str:
        return f"{self.user} ({self.jurisdiction} {self.licence_number})"

    @property
    def licence_current(self) -> bool:
        return self.licence_expiry >= timezone.localdate()


class Specialization(models.TextChoices):
    POST_REHAB = "post_rehab", "Post-rehab / orthopedic"
    SENIOR_FITNESS = "senior_fitness", "Senior fitness"
    CORRECTIVE_EXERCISE = "corrective_exercise", "Corrective exercise"
    SPORTS_PERFORMANCE = "sports_performance", "Sports performance"
    GENERAL_FITNESS = "general_fitness", "General fitness"


class TrainerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="trainer_profile")
    cpr_aed_expiry = models.DateField(null=True, blank=True, verbose_name="CPR/AED expiry")
    accepting_new_clients = models.BooleanField(default=True)
    max_active_clients = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    bio = models.TextField(blank=True)

    class Meta:
        verbose_name = "trainer profile"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_active_clients__gte=1, max_active_clients__lte=500),
                name="trainer_max_active_clients_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def cpr_aed_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.cpr_aed_expiry is not None and self.cpr_aed_expiry >= day


class TrainerSpecialization(models.Model):
    profile = models.ForeignKey(TrainerProfile, on_delete=models.CASCADE, related_name="specializations")
    specialization = models.CharField(max_length=30, choices=Specialization.choices)

    class Meta:
        ordering = ["specialization"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "specialization"], name="trainer_specialization_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_specialization_display()


class Certification(models.Model):
    class IssuingBody(models.TextChoices):
        NSCA_CSCS = "nsca_cscs", "NSCA-CSCS"
        NSCA_CPT = "nsca_cpt", "NSCA-CPT"
        NASM_CPT = "nasm_cpt", "NASM-CPT"
        ACE = "ace", "ACE"
        ISSA = "issa", "ISSA"
        ACSM_EP = "acsm_ep", "ACSM-EP"
        OTHER = "other", "Other"

    profile = models.ForeignKey(TrainerProfile, on_delete=models.CASCADE, related_name="certifications")
    issuing_body = models.CharField(max_length=20, choices=IssuingBody.choices)
    other_body = models.CharField(max_length=120, blank=True, help_text="Name of the body when 'Other'.")
    number = models.CharField(max_length=80)
    expiry = models.DateField()
    verified = models.BooleanField(default=False)
    verified_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-expiry"]
        constraints = [
            models.UniqueConstraint(fields=["issuing_body", "number"], name="certification_unique_number"),
        ]

    def __str__(self) -> str:
        body = (
            self.other_body
            if self.issuing_body == self.IssuingBody.OTHER
            else self.get_issuing_body_display()
        )
        return f"{body} {self.number}"

    def clean(self) -> None:
        if self.issuing_body == self.IssuingBody.OTHER and not self.other_body.strip():
            raise ValidationError({"other_body": "Name the issuing body."})

    def is_current(self, on: datetime.date | None = None) -> bool:
        return self.expiry >= (on or timezone.localdate())


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 hash is stored; the raw token is shown once, at creation."""

    PREFIX_LENGTH = 12

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'Clinic EHR sync'.")
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, editable=False, help_text="The token's visible start."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class EncryptedTOTPDeviceManager(DeviceManager, models.Manager["EncryptedTOTPDevice"]):  # type: ignore[misc]
    """django-otp's device manager (`devices_for_user`), typed."""


# models.Model last, already a base of django-otp's classes: for the type checker, which sees them as Any
class EncryptedTOTPDevice(TimestampMixin, ThrottlingMixin, Device, models.Model):  # type: ignore[misc]
    """django-otp's TOTP device (an authenticator app) with its secret encrypted at rest.

    django-otp's own TOTPDevice keeps the hex secret as plain text in a varchar(80) column, too short for
    a Fernet token, and a third-party table. This is the same device, field for field, with `key` an
    EncryptedTextField (accounts.encryption): Python code sees the hex secret, the database a token under
    HANDOFF_TOTP_KEYS. The behaviour is django-otp's own code, not a copy: verification (throttling, the
    last verified time step, drift), the otpauth:// URL and `bin_key` are TOTPDevice's functions, which
    read the secret only through `self.key`; tests/security/test_totp_encryption.py checks that the fields
    still match django-otp's. Migration 0005 moved the devices of django-otp's table here, encrypted."""

    key = EncryptedTextField(
        validators=[otp_totp.key_validator, MaxLengthValidator(80)],
        default=otp_totp.default_key,
        help_text="A hex-encoded secret key of up to 40 bytes (stored encrypted).",
    )
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(default=0, help_text="The Unix time at which to begin counting steps.")
    digits = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)], default=6, help_text="The number of digits to expect in a token."
    )
    tolerance = models.PositiveSmallIntegerField(
        default=1, help_text="The number of time steps in the past or future to allow."
    )
    drift = models.SmallIntegerField(
        default=0, help_text="The number of time steps the prover is known to deviate from our clock."
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The t value of the latest verified token. The next token must be at a higher time step.",
    )

    objects = EncryptedTOTPDeviceManager()

    bin_key = otp_totp.TOTPDevice.bin_key
    verify_token = otp_totp.TOTPDevice.verify_token
    get_throttle_factor = otp_totp.TOTPDevice.get_throttle_factor
    config_url = otp_totp.TOTPDevice.config_url
    _read_str_from_settings = otp_totp.TOTPDevice._read_str_from_settings

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "TOTP device"

    def __str__(self) -> str:
        return str(super().__str__())  # django-otp's: the device's name and its user
