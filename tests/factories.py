"""factory_boy factories: valid objects by default, every field overridable."""

from __future__ import annotations

import datetime
from typing import Any, Protocol, TypeVar, cast

import factory
from django.db.models import Model
from django.utils import timezone

from accounts.models import (
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from referrals.care.models import Consent, Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan
from referrals.library.models import Exercise
from referrals.library.services import library_load

TEST_PASSWORD = "correct-horse-battery"

M = TypeVar("M", bound=Model)


class Made(Protocol[M]):
    """What mypy knows of a factory: calling it, or its create(), makes a saved `M`. (factory_boy types
    create() and create_batch(), but not the call itself, whose result it types as the factory.)"""

    def __call__(self, **kwargs: Any) -> M: ...
    def create(self, **kwargs: Any) -> M: ...
    def build(self, **kwargs: Any) -> M: ...
    def create_batch(self, size: int, **kwargs: Any) -> list[M]: ...
    def __getattr__(self, name: str) -> Any: ...


def made(cls: type[factory.django.DjangoModelFactory[M]]) -> Made[M]:
    """The factory itself (nothing changes at run time), typed by the model it makes."""
    return cast("Made[M]", cls)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


class _UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)


UserFactory = made(_UserFactory)


class _ClinicFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Clinic {n}")
    kind = Organization.Kind.CLINIC


ClinicFactory = made(_ClinicFactory)


class _GymFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Gym {n}")
    kind = Organization.Kind.GYM


GymFactory = made(_GymFactory)


class _MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(ClinicFactory)
    role = Membership.Role.PHYSIOTHERAPIST


MembershipFactory = made(_MembershipFactory)


class _PartnershipFactory(factory.django.DjangoModelFactory[Partnership]):
    class Meta:
        model = Partnership

    clinic = factory.SubFactory(ClinicFactory)
    gym = factory.SubFactory(GymFactory)
    active = True


PartnershipFactory = made(_PartnershipFactory)


class _PhysioProfileFactory(factory.django.DjangoModelFactory[PhysiotherapistProfile]):
    class Meta:
        model = PhysiotherapistProfile

    user = factory.SubFactory(UserFactory)
    licence_number = factory.Sequence(lambda n: f"PT-{n:05d}")
    jurisdiction = "Wisconsin"
    licence_expiry = factory.LazyFunction(lambda: in_days(400))


PhysioProfileFactory = made(_PhysioProfileFactory)


class _TrainerProfileFactory(factory.django.DjangoModelFactory[TrainerProfile]):
    class Meta:
        model = TrainerProfile

    user = factory.SubFactory(UserFactory)
    cpr_aed_expiry = factory.LazyFunction(lambda: in_days(300))
    accepting_new_clients = True
    max_active_clients = 10


TrainerProfileFactory = made(_TrainerProfileFactory)


class _CertificationFactory(factory.django.DjangoModelFactory[Certification]):
    class Meta:
        model = Certification

    profile = factory.SubFactory(TrainerProfileFactory)
    issuing_body = Certification.IssuingBody.NSCA_CPT
    number = factory.Sequence(lambda n: f"CPT-{n:06d}")
    expiry = factory.LazyFunction(lambda: in_days(500))
    verified = True  # only a verified certification makes a trainer sendable (pass False for one that is not)


CertificationFactory = made(_CertificationFactory)


class _PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    full_name = factory.Faker("name")
    date_of_birth = datetime.date(1968, 5, 17)
    email = factory.Sequence(lambda n: f"patient{n}@example.test")


PatientFactory = made(_PatientFactory)


class _PlanFactory(factory.django.DjangoModelFactory[TreatmentPlan]):
    class Meta:
        model = TreatmentPlan

    patient = factory.SubFactory(PatientFactory)
    physiotherapist = factory.SubFactory(UserFactory)
    diagnosis = "Right rotator cuff tendinopathy"
    icd10_code = "M75.1"
    goals = "Lift a 10 kg box to shoulder height without pain."


PlanFactory = made(_PlanFactory)


def an_exercise() -> Exercise:
    """The library's first exercise. A transactional test (the browser's) flushes the tables when it ends,
    the library the migrations loaded with them: a later test finds it loaded again."""
    exercise = Exercise.objects.order_by("name").first()
    if exercise is None:
        library_load()
        exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    return exercise


class _PlanExerciseFactory(factory.django.DjangoModelFactory[PlanExercise]):
    class Meta:
        model = PlanExercise

    plan = factory.SubFactory(PlanFactory)
    exercise = factory.LazyFunction(lambda: an_exercise())
    sets = 3
    reps = 12
    frequency_per_week = 3


PlanExerciseFactory = made(_PlanExerciseFactory)


class _PrecautionFactory(factory.django.DjangoModelFactory[Precaution]):
    class Meta:
        model = Precaution

    plan = factory.SubFactory(PlanFactory)
    kind = Precaution.Kind.LOAD_LIMIT
    body_region = "shoulder"
    limit_value = 5
    limit_unit = Precaution.Unit.KG
    valid_until = factory.LazyFunction(lambda: in_days(42))
    detail = "No overhead load above 5 kg."


PrecautionFactory = made(_PrecautionFactory)


class _RedFlagFactory(factory.django.DjangoModelFactory[RedFlag]):
    class Meta:
        model = RedFlag

    plan = factory.SubFactory(PlanFactory)
    description = "Night pain or numbness down the arm"


RedFlagFactory = made(_RedFlagFactory)


class _ConsentFactory(factory.django.DjangoModelFactory[Consent]):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    gym = factory.SubFactory(GymFactory)
    scope = Consent.Scope.GUIDELINES
    recorded_by = factory.SubFactory(UserFactory)


ConsentFactory = made(_ConsentFactory)


class _TrainerSpecializationFactory(factory.django.DjangoModelFactory[TrainerSpecialization]):
    class Meta:
        model = TrainerSpecialization

    profile = factory.SubFactory(TrainerProfileFactory)
    specialization = "post_rehab"


TrainerSpecializationFactory = made(_TrainerSpecializationFactory)
