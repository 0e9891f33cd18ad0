"""factory_boy factories: valid objects by default, every field overridable."""

from __future__ import annotations

import datetime

import factory
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
from referrals.models import Consent, Exercise, Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan

TEST_PASSWORD = "correct-horse-battery"


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Clinic {n}")
    kind = Organization.Kind.CLINIC


class GymFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Gym {n}")
    kind = Organization.Kind.GYM


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(ClinicFactory)
    role = Membership.Role.PHYSIOTHERAPIST


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    clinic = factory.SubFactory(ClinicFactory)
    gym = factory.SubFactory(GymFactory)
    active = True


class PhysioProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhysiotherapistProfile

    user = factory.SubFactory(UserFactory)
    licence_number = factory.Sequence(lambda n: f"PT-{n:05d}")
    jurisdiction = "Wisconsin"
    licence_expiry = factory.LazyFunction(lambda: in_days(400))


class TrainerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainerProfile

    user = factory.SubFactory(UserFactory)
    cpr_aed_expiry = factory.LazyFunction(lambda: in_days(300))
    accepting_new_clients = True
    max_active_clients = 10


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    profile = factory.SubFactory(TrainerProfileFactory)
    issuing_body = Certification.IssuingBody.NSCA_CPT
    number = factory.Sequence(lambda n: f"CPT-{n:06d}")
    expiry = factory.LazyFunction(lambda: in_days(500))
    verified = True  # only a verified certification makes a trainer sendable (pass False for one that is not)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    full_name = factory.Faker("name")
    date_of_birth = datetime.date(1968, 5, 17)
    email = factory.Sequence(lambda n: f"patient{n}@example.test")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentPlan

    patient = factory.SubFactory(PatientFactory)
    physiotherapist = factory.SubFactory(UserFactory)
    diagnosis = "Right rotator cuff tendinopathy"
    icd10_code = "M75.1"
    goals = "Lift a 10 kg box to shoulder height without pain."


class PlanExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanExercise

    plan = factory.SubFactory(PlanFactory)
    exercise = factory.LazyFunction(lambda: Exercise.objects.order_by("name").first())
    sets = 3
    reps = 12
    frequency_per_week = 3


class PrecautionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Precaution

    plan = factory.SubFactory(PlanFactory)
    kind = Precaution.Kind.LOAD_LIMIT
    body_region = "shoulder"
    limit_value = 5
    limit_unit = Precaution.Unit.KG
    valid_until = factory.LazyFunction(lambda: in_days(42))
    detail = "No overhead load above 5 kg."


class RedFlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RedFlag

    plan = factory.SubFactory(PlanFactory)
    description = "Night pain or numbness down the arm"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    gym = factory.SubFactory(GymFactory)
    scope = Consent.Scope.GUIDELINES
    recorded_by = factory.SubFactory(UserFactory)


class TrainerSpecializationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainerSpecialization

    profile = factory.SubFactory(TrainerProfileFactory)
    specialization = "post_rehab"
