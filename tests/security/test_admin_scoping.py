"""Admin scoping: a staff org admin sees and edits only the objects of their own organizations in the Django
admin (changelists, change pages, autocompletes), a superuser sees all, and staff without an org-admin
membership see nothing of the organizations' data. The decision is policies.admin_organization_ids.

The org admins here hold every model permission (a group), so what limits them is the scoping alone. They
log in with a verified second factor, as the admin requires of staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db.models import Model, QuerySet
from django.test import Client
from django.urls import reverse

from accounts.admin_base import ModelAdmin as ScopedModelAdmin
from accounts.models import (
    ApiToken,
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from accounts.services import api_token_create
from referrals.care.models import Consent, Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.library.models import Exercise
from referrals.notify.models import Notification, OutboxMessage
from tests import factories as f
from tests.conftest import World, login_with_second_factor, make_physio, make_trainer

Role = Membership.Role

M = TypeVar("M", bound=Model)


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def with_every_permission(user: User) -> User:
    group, _ = Group.objects.get_or_create(name="org admins")
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=["accounts", "referrals"]))
    user.groups.add(group)
    return user


@dataclass
class Side:
    """One clinic's world: its physio, patient, plan, handoff to a trainer of its partner gym."""

    clinic: Organization
    gym: Organization
    physio: User
    trainer: User
    handoff: TrainerHandoff


def build_side(clinic: Organization, gym: Organization, physio: User, trainer: User) -> Side:
    patient = f.PatientFactory(clinic=clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=physio)
    f.PlanExerciseFactory(plan=plan)
    f.PrecautionFactory(plan=plan)
    f.RedFlagFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=gym, recorded_by=physio)
    handoff = handoffs_sending.plan_discharge(plan=plan, trainer=trainer, gym=gym, actor=physio)
    TrainerSpecialization.objects.create(profile=trainer.trainer_profile, specialization="post_rehab")
    api_token_create(user=physio, name="clinic system")
    api_token_create(user=trainer, name="gym app")
    return Side(clinic, gym, physio, trainer, handoff)


@pytest.fixture
def sides(
    world: World, other_clinic: Organization, django_capture_on_commit_callbacks: Any
) -> tuple[Side, Side]:
    other_gym = f.GymFactory(name="Harbour Strength")
    f.PartnershipFactory(clinic=other_clinic, gym=other_gym)
    with django_capture_on_commit_callbacks(execute=True):
        mine = build_side(world.plan.patient.clinic, world.gym, world.physio, world.trainer)
        theirs = build_side(
            other_clinic,
            other_gym,
            make_physio(other_clinic, full_name="Theo Their"),
            make_trainer(other_gym),
        )
    return mine, theirs


def _first(rows: QuerySet[M]) -> M:
    row = rows.first()
    assert row is not None, rows.model
    return row


def clinic_rows(side: Side) -> dict[type[Model], Model]:
    """One row of each clinic-owned model on this side."""
    plan = side.handoff.plan
    event = HandoffEvent.objects.filter(handoff=side.handoff).first()
    assert event is not None
    return {
        Patient: plan.patient,
        TreatmentPlan: plan,
        PlanExercise: _first(plan.exercises.all()),
        Precaution: _first(plan.precautions.all()),
        RedFlag: _first(plan.red_flags.all()),
        Consent: Consent.objects.get(patient=plan.patient),
        TrainerHandoff: side.handoff,
        HandoffEvent: event,
        Notification: _first(Notification.objects.filter(event__handoff=side.handoff)),
        OutboxMessage: _first(OutboxMessage.objects.filter(event__handoff=side.handoff)),
        Organization: side.clinic,
        Membership: Membership.objects.get(user=side.physio, organization=side.clinic),
        Partnership: Partnership.objects.get(clinic=side.clinic, gym=side.gym),
        PhysiotherapistProfile: side.physio.physio_profile,
        User: side.physio,
        ApiToken: ApiToken.objects.get(user=side.physio),
    }


def gym_rows(side: Side) -> dict[type[Model], Model]:
    """One row of each gym-owned model on this side."""
    profile = side.trainer.trainer_profile
    return {
        Organization: side.gym,
        Membership: Membership.objects.get(user=side.trainer, organization=side.gym),
        Partnership: Partnership.objects.get(clinic=side.clinic, gym=side.gym),
        TrainerProfile: profile,
        TrainerSpecialization: _first(profile.specializations.all()),
        Certification: _first(profile.certifications.all()),
        User: side.trainer,
        ApiToken: ApiToken.objects.get(user=side.trainer),
    }


def listed(client: Client, model: type[Model]) -> set[int]:
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200, (model, response.status_code)
    return {row.pk for row in response.context["cl"].result_list}


def check_scoped(client: Client, mine: dict[type[Model], Model], theirs: dict[type[Model], Model]) -> None:
    for model, own in mine.items():
        other = theirs[model]
        assert own is not None and other is not None, model
        rows = listed(client, model)
        assert own.pk in rows, f"{model.__name__}: the org admin's own row is missing"
        assert other.pk not in rows, f"{model.__name__}: another organization's row is listed"
        assert client.get(admin_url(model, "change", own.pk)).status_code == 200, model
        response = client.get(admin_url(model, "change", other.pk))
        # Django's admin answers an object outside the queryset with a redirect to the index, saying it
        # does not exist: the same answer as for an id that was never used.
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), model


def test_a_clinic_org_admin_sees_only_their_clinics_objects(
    client: Client, sides: tuple[Side, Side], clinic_admin: User
) -> None:
    mine, theirs = sides
    login_with_second_factor(client, with_every_permission(clinic_admin))
    check_scoped(client, clinic_rows(mine), clinic_rows(theirs))


def test_a_gym_org_admin_sees_only_their_gyms_trainers_and_no_clinical_rows(
    client: Client, sides: tuple[Side, Side]
) -> None:
    mine, theirs = sides
    gym_admin = f.UserFactory(is_staff=True)
    f.MembershipFactory(user=gym_admin, organization=mine.gym, role=Role.ORG_ADMIN)
    login_with_second_factor(client, with_every_permission(gym_admin))
    check_scoped(client, gym_rows(mine), gym_rows(theirs))
    # Patients, plans and handoffs belong to the clinic: a gym's admin sees none of them.
    for model in (Patient, TreatmentPlan, Consent, TrainerHandoff, HandoffEvent, OutboxMessage):
        assert listed(client, model) == set(), model


def test_a_superuser_sees_every_organizations_objects(
    client: Client, sides: tuple[Side, Side], superuser: User
) -> None:
    mine, theirs = sides
    login_with_second_factor(client, superuser)
    for rows in (clinic_rows(mine), clinic_rows(theirs), gym_rows(mine), gym_rows(theirs)):
        for model, obj in rows.items():
            assert obj.pk in listed(client, model), model
            assert client.get(admin_url(model, "change", obj.pk)).status_code == 200, model


def test_staff_without_an_org_admin_membership_see_no_organizations_data(
    client: Client, sides: tuple[Side, Side]
) -> None:
    staff = with_every_permission(f.UserFactory(is_staff=True))
    login_with_second_factor(client, staff)
    for model in {*clinic_rows(sides[0]), *gym_rows(sides[0])}:
        assert listed(client, model) <= ({staff.pk} if model is User else set()), model
    assert Exercise.objects.exists() and listed(client, Exercise)  # the shared library stays visible


def test_the_autocomplete_offers_only_the_org_admins_organizations(
    client: Client, sides: tuple[Side, Side], clinic_admin: User
) -> None:
    mine, _ = sides
    login_with_second_factor(client, with_every_permission(clinic_admin))
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "referrals", "model_name": "patient", "field_name": "clinic", "term": ""},
    )
    assert response.status_code == 200
    offered = {row["id"] for row in response.json()["results"]}
    assert offered == {str(mine.clinic.pk)}


def test_an_org_admin_cannot_edit_another_organizations_patient(
    client: Client, sides: tuple[Side, Side], clinic_admin: User
) -> None:
    _, theirs = sides
    patient = theirs.handoff.plan.patient
    login_with_second_factor(client, with_every_permission(clinic_admin))
    response = client.post(
        admin_url(Patient, "change", patient.pk),
        {"full_name": "Renamed", "clinic": theirs.clinic.pk, "date_of_birth": "1970-01-01"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    patient.refresh_from_db()
    assert patient.full_name != "Renamed"


def test_an_org_admin_cannot_make_anyone_staff_or_superuser(
    client: Client, sides: tuple[Side, Side], clinic_admin: User
) -> None:
    mine, _ = sides
    login_with_second_factor(client, with_every_permission(clinic_admin))
    response = client.get(admin_url(User, "change", mine.physio.pk))
    readonly = response.context["adminform"].readonly_fields
    assert {"is_staff", "is_superuser", "groups", "user_permissions"} <= set(readonly)


def test_every_model_admin_declares_its_organization_scope() -> None:
    """A new model admin must say how it is scoped; the fail-closed default hides everything from org
    admins, and only shared reference data and the superuser-only access log, periodic tasks and
    two-factor devices are unscoped."""
    unscoped_on_purpose = {
        "referrals.Exercise",
        "referrals.AccessLog",
        "referrals.PeriodicRun",
        "accounts.EncryptedTOTPDevice",
    }
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("accounts", "referrals"):
            continue
        label = model._meta.label
        scope = getattr(model_admin, "organization_scope", ())
        assert hasattr(model_admin, "organization_scope"), f"{label}: its admin is not scoped"
        if label in unscoped_on_purpose:
            assert scope is None, label
        else:
            assert scope, f"{label}: name the path to its organization in organization_scope"
        assert isinstance(model_admin, ScopedModelAdmin) or label == "accounts.User", label
