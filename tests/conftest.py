"""Persona fixtures (STYLE.md): physio, other_clinic_physio, trainer, other_trainer, clinic_admin, anonymous,
plus the world they live in: a clinic partnered with a gym, a plan ready to send."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from hypothesis import settings as hypothesis_settings

from accounts.models import Membership, Organization, User
from config.throttling import reset_local_counts
from referrals.care.models import Consent, TreatmentPlan
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import TrainerHandoff
from tests import factories as f

Role = Membership.Role
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `postgresql` needs PostgreSQL itself. On another database it is deselected on purpose
    (`-m "not postgresql"`: the SQLite pass of `make test` and of .ci/run); run there anyway it fails under
    CI=true, never a silent skip, and is skipped with the reason otherwise."""
    if item.get_closest_marker("postgresql") is None:
        return
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    message = (
        f"needs PostgreSQL (marked postgresql), the database is {connection.vendor}: set DATABASE_URL "
        "to a PostgreSQL database, or deselect it with -m 'not postgresql'"
    )
    if IN_CI:
        pytest.fail(f"{message} (CI=true: not skipping)", pytrace=False)
    pytest.skip(message)


# Property-based tests (hypothesis): in CI the same examples every run (derandomized, no example database,
# no deadline on a shared machine), so a failure reproduces and a pass is not luck; locally, random.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counts() -> None:
    """The API rate limit keeps unsynced counts per process (config/throttling.py): none carry over
    from one test to the next (the tests that clear the cache clear these too)."""
    reset_local_counts()


@pytest.fixture
def clinic(db: Any) -> Organization:
    return f.ClinicFactory(name="Lakeside Physio")


@pytest.fixture
def other_clinic(db: Any) -> Organization:
    return f.ClinicFactory(name="Hillview Rehab")


@pytest.fixture
def gym(clinic: Organization) -> Organization:
    gym = f.GymFactory(name="Iron Works Gym")
    f.PartnershipFactory(clinic=clinic, gym=gym)
    return gym


@pytest.fixture
def unpartnered_gym(db: Any) -> Organization:
    return f.GymFactory(name="Lone Wolf Fitness")


def make_physio(clinic: Organization, **kwargs: Any) -> User:
    user = f.UserFactory(**kwargs)
    f.MembershipFactory(user=user, organization=clinic, role=Role.PHYSIOTHERAPIST)
    f.PhysioProfileFactory(user=user)
    return user


def make_trainer(gym: Organization, **profile: Any) -> User:
    user = f.UserFactory()
    f.MembershipFactory(user=user, organization=gym, role=Role.TRAINER)
    trainer_profile = f.TrainerProfileFactory(user=user, **profile)
    f.CertificationFactory(profile=trainer_profile)
    return user


@pytest.fixture
def physio(clinic: Organization) -> User:
    return make_physio(clinic, full_name="Pat Physio", email="pat@lakeside.test")


@pytest.fixture
def other_clinic_physio(other_clinic: Organization) -> User:
    return make_physio(other_clinic, full_name="Olive Other", email="olive@hillview.test")


@pytest.fixture
def trainer(gym: Organization) -> User:
    return make_trainer(gym)


@pytest.fixture
def other_trainer(gym: Organization) -> User:
    return make_trainer(gym)


@pytest.fixture
def unpartnered_trainer(unpartnered_gym: Organization) -> User:
    return make_trainer(unpartnered_gym)


@pytest.fixture
def clinic_admin(clinic: Organization) -> User:
    user = f.UserFactory(is_staff=True, full_name="Ada Admin")
    f.MembershipFactory(user=user, organization=clinic, role=Role.ORG_ADMIN)
    return user


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser("root@handoff.test", f.TEST_PASSWORD, full_name="Root")


@pytest.fixture
def anonymous() -> AnonymousUser:
    return AnonymousUser()


@pytest.fixture
def plan(physio: User, clinic: Organization, gym: Organization) -> TreatmentPlan:
    """An active plan with two exercises, a precaution, a red flag and consent for `gym`."""
    patient = f.PatientFactory(clinic=clinic, full_name="Jamie Patient")
    plan = f.PlanFactory(patient=patient, physiotherapist=physio)
    f.PlanExerciseFactory(plan=plan, position=0)
    f.PlanExerciseFactory(plan=plan, position=1, reps=None, hold_seconds=30)
    f.PrecautionFactory(plan=plan)
    f.RedFlagFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=gym, recorded_by=physio, scope=Consent.Scope.GUIDELINES)
    return plan


@dataclass
class World:
    physio: User
    trainer: User
    gym: Organization
    plan: TreatmentPlan


@pytest.fixture
def world(physio: User, trainer: User, gym: Organization, plan: TreatmentPlan) -> World:
    return World(physio=physio, trainer=trainer, gym=gym, plan=plan)


@pytest.fixture
def draft(world: World) -> TrainerHandoff:
    return handoffs_sending.handoff_create(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )


@pytest.fixture
def requested(world: World, draft: TrainerHandoff, django_capture_on_commit_callbacks: Any) -> TrainerHandoff:
    with django_capture_on_commit_callbacks(execute=True):
        return handoffs_sending.handoff_send(handoff=draft, actor=world.physio)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def login_with_second_factor(client: Client, user: User) -> Client:
    """Logged in AND past the two-factor step, as the admin requires of staff: the user gets a confirmed
    TOTP device and the session records it as verified (what django_otp.login does after a right code)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import EncryptedTOTPDevice

    device = EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = EncryptedTOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
