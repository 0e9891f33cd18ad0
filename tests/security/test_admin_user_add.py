"""Adding a user in the admin: an org admin picks one of their organizations and a role, and one service
(`user_create_with_membership`) creates the user and the membership together, so the new user is under
the org admin's authority from the start. An organization outside their scope, a role that does not fit
the organization's kind, or no organization at all is a form error and stores nothing; a superuser may
leave the organization empty."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Membership, Organization, User
from referrals.errors import NotPermitted
from tests import factories as f
from tests.conftest import login_with_second_factor
from tests.security.test_admin_scoping import with_every_permission

Role = Membership.Role
NEW_PASSWORD = "a-brand-new-passphrase"
NEW_EMAIL = "newcomer@example.test"
ADD_URL = reverse("admin:accounts_user_add")


def change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def add_post(**values: Any) -> dict[str, str]:
    data: dict[str, Any] = {
        "email": NEW_EMAIL,
        "full_name": "New Comer",
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "_save": "Save",
        **values,
    }
    return {k: str(v.pk) if isinstance(v, Organization) else str(v) for k, v in data.items()}


def stored() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [dict(row) for row in User.objects.order_by("pk").values()],
        [dict(row) for row in Membership.objects.order_by("pk").values()],
    )


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    errors = response.context["adminform"].form.errors.as_data()
    return {name: [e.code or str(e.message) for e in items] for name, items in errors.items()}


@pytest.fixture
def gym_admin(gym: Organization) -> User:
    user = f.UserFactory(is_staff=True, full_name="Gwen Gym-Admin")
    f.MembershipFactory(user=user, organization=gym, role=Role.ORG_ADMIN)
    return with_every_permission(user)


@pytest.fixture
def gym_admin_client(client: Client, gym_admin: User) -> Client:
    return login_with_second_factor(client, gym_admin)


# --- through the admin ---------------------------------------------------------------------------------


def test_an_org_admin_adds_a_trainer_to_their_gym_and_then_sees_and_edits_them(
    gym_admin_client: Client, gym: Organization
) -> None:
    response = gym_admin_client.post(ADD_URL, add_post(organization=gym, role=Role.TRAINER))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    new = User.objects.get(email=NEW_EMAIL)
    assert response["Location"] == change_url(new)  # lands on the new user's change page
    assert list(new.memberships.values_list("organization", "role")) == [(gym.pk, Role.TRAINER)]
    assert new.check_password(NEW_PASSWORD) and not new.is_staff and not new.is_superuser

    page = gym_admin_client.get(change_url(new))
    assert page.status_code == 200 and page.context["has_change_permission"] is True
    assert new in gym_admin_client.get(reverse("admin:accounts_user_changelist")).context["cl"].result_list
    edit = {
        "email": NEW_EMAIL,
        "full_name": "Renamed Comer",
        "is_active": "on",
        "date_joined_0": "2024-01-02",
        "date_joined_1": "09:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(new.memberships.get().pk),
        "memberships-0-user": str(new.pk),
        "memberships-0-organization": str(gym.pk),
        "memberships-0-role": Role.TRAINER,
    }
    assert gym_admin_client.post(change_url(new), edit).status_code == 302
    new.refresh_from_db()
    assert new.full_name == "Renamed Comer"
    password_url = reverse("admin:auth_user_password_change", args=[new.pk])
    assert gym_admin_client.get(password_url).status_code == 200


def test_the_add_form_offers_only_the_org_admins_organizations(
    gym_admin_client: Client, gym: Organization, clinic: Organization, other_clinic: Organization
) -> None:
    form = gym_admin_client.get(ADD_URL).context["adminform"].form
    assert list(form.fields["organization"].queryset) == [gym]
    assert form.fields["organization"].required


def test_a_posted_organization_outside_the_org_admins_scope_is_a_form_error_and_stores_nothing(
    gym_admin_client: Client, clinic: Organization, other_clinic: Organization
) -> None:
    before = stored()
    for outside in (clinic, other_clinic):  # partner of their gym or not: neither is theirs
        response = gym_admin_client.post(ADD_URL, add_post(organization=outside, role=Role.ORG_ADMIN))
        assert "invalid_choice" in form_errors(response)["organization"]
        assert stored() == before


@pytest.mark.parametrize(
    ("where", "role", "message"),
    [
        ("gym", Role.PHYSIOTHERAPIST, "A physiotherapist belongs to a clinic."),
        ("clinic", Role.TRAINER, "A trainer belongs to a gym."),
    ],
)
def test_a_role_that_does_not_fit_the_organizations_kind_is_a_field_error_and_stores_nothing(
    client: Client, gym: Organization, clinic: Organization, where: str, role: str, message: str
) -> None:
    org_admin = f.UserFactory(is_staff=True)
    organization = {"gym": gym, "clinic": clinic}[where]
    f.MembershipFactory(user=org_admin, organization=organization, role=Role.ORG_ADMIN)
    login_with_second_factor(client, with_every_permission(org_admin))
    before = stored()
    response = client.post(ADD_URL, add_post(organization=organization, role=role))
    assert form_errors(response) == {"role": [message]}
    assert stored() == before


@pytest.mark.parametrize("role", [Role.TRAINER, Role.ORG_ADMIN])
def test_an_org_admin_may_add_a_trainer_or_an_org_admin_to_a_gym(
    gym_admin_client: Client, gym: Organization, role: str
) -> None:
    assert gym_admin_client.post(ADD_URL, add_post(organization=gym, role=role)).status_code == 302
    assert Membership.objects.filter(user__email=NEW_EMAIL, organization=gym, role=role).exists()


def test_an_org_admin_must_choose_an_organization_and_a_role(
    gym_admin_client: Client, gym: Organization
) -> None:
    before = stored()
    assert "required" in form_errors(gym_admin_client.post(ADD_URL, add_post()))["organization"]
    assert "required" in form_errors(gym_admin_client.post(ADD_URL, add_post(organization=gym)))["role"]
    assert stored() == before


def test_a_superuser_may_add_a_user_without_an_organization(client: Client, superuser: User) -> None:
    login_with_second_factor(client, superuser)
    response = client.post(ADD_URL, add_post(usable_password="false", password1="", password2=""))
    assert response.status_code == 302
    new = User.objects.get(email=NEW_EMAIL)
    assert response["Location"] == change_url(new)
    assert not new.memberships.exists() and not new.has_usable_password()


def test_a_superuser_is_offered_every_organization_and_may_add_a_physio_to_any_clinic(
    client: Client, superuser: User, clinic: Organization, other_clinic: Organization, gym: Organization
) -> None:
    login_with_second_factor(client, superuser)
    form = client.get(ADD_URL).context["adminform"].form
    assert set(form.fields["organization"].queryset) == set(Organization.objects.all())
    assert not form.fields["organization"].required
    response = client.post(ADD_URL, add_post(organization=other_clinic, role=Role.PHYSIOTHERAPIST))
    assert response.status_code == 302
    assert Membership.objects.filter(user__email=NEW_EMAIL, organization=other_clinic).exists()


# --- the service ---------------------------------------------------------------------------------------


def create(actor: User, organization: Organization | None, role: str = "", **extra: Any) -> User:
    values: dict[str, Any] = {
        "actor": actor,
        "email": NEW_EMAIL,
        "full_name": "New Comer",
        "password": NEW_PASSWORD,
        "organization": organization,
        "role": role,
        **extra,
    }
    return services.user_create_with_membership(**values)


def test_user_create_with_membership_creates_the_user_and_the_membership_together(
    gym_admin: User, gym: Organization
) -> None:
    new = create(gym_admin, gym, Role.TRAINER, email="  NewComer@Example.TEST ")
    assert new.email == NEW_EMAIL and new.check_password(NEW_PASSWORD)
    assert list(new.memberships.values_list("organization", "role")) == [(gym.pk, Role.TRAINER)]


def test_user_create_with_membership_refuses_an_organization_the_actor_does_not_administer(
    gym_admin: User, clinic: Organization, trainer: User, gym: Organization
) -> None:
    """Whatever the form offered: the service re-checks the actor's authority."""
    trainer.is_staff = True
    trainer.save(update_fields=["is_staff"])
    before = stored()
    with pytest.raises(NotPermitted):
        create(gym_admin, clinic, Role.PHYSIOTHERAPIST)
    with pytest.raises(NotPermitted):  # a member of the gym, but not its org admin
        create(trainer, gym, Role.TRAINER)
    assert stored() == before


def test_user_create_with_membership_refuses_a_lost_authority(gym_admin: User, gym: Organization) -> None:
    Membership.objects.filter(user=gym_admin, role=Role.ORG_ADMIN).delete()
    with pytest.raises(NotPermitted):
        create(gym_admin, gym, Role.TRAINER)
    assert not User.objects.filter(email=NEW_EMAIL).exists()


def test_user_create_with_membership_leaves_the_organization_empty_only_for_a_superuser(
    gym_admin: User, superuser: User
) -> None:
    with pytest.raises(NotPermitted):
        create(gym_admin, None)
    assert not User.objects.filter(email=NEW_EMAIL).exists()
    new = create(superuser, None, password=None)
    assert not new.memberships.exists() and not new.has_usable_password()


@pytest.mark.parametrize(
    ("kind", "role"), [("gym", Role.PHYSIOTHERAPIST), ("clinic", Role.TRAINER), ("gym", "chief")]
)
def test_user_create_with_membership_refuses_a_role_that_does_not_fit_the_kind(
    superuser: User, gym: Organization, clinic: Organization, kind: str, role: str
) -> None:
    organization = {"gym": gym, "clinic": clinic}[kind]
    with pytest.raises(ValidationError) as refused:
        create(superuser, organization, role)
    assert set(refused.value.message_dict) == {"role"}
    assert not User.objects.filter(email=NEW_EMAIL).exists()


def test_user_create_with_membership_refuses_a_taken_email_in_any_case(
    gym_admin: User, gym: Organization, physio: User
) -> None:
    before = stored()
    with pytest.raises(ValidationError) as refused:
        create(gym_admin, gym, Role.TRAINER, email=physio.email.upper())
    assert set(refused.value.message_dict) == {"email"}
    assert stored() == before


def test_user_create_with_membership_stores_no_user_when_the_membership_fails(
    gym_admin: User, gym: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: a user without their membership would be outside the org admin's authority."""

    def broken_create(**kwargs: Any) -> Membership:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Membership.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        create(gym_admin, gym, Role.TRAINER)
    assert not User.objects.filter(email=NEW_EMAIL).exists()
