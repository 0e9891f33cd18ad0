"""Whom an org admin may change in the admin: the members of their organizations who are neither superusers
nor staff and who belong to no other organization. Everyone else they can list is read-only to them: no
change form save, no password change or reset, no deletion; and they cannot escalate (tick is_superuser or
is_staff, give themselves a membership elsewhere, take an API token of someone above them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, Membership, Organization, User
from tests import factories as f
from tests.conftest import login_with_second_factor, make_physio
from tests.security.test_admin_scoping import with_every_permission

Role = Membership.Role
NEW_PASSWORD = "a-brand-new-passphrase"


def password_url(user: User) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_post() -> dict[str, str]:
    return {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}


def user_post(user: User, **extra: str) -> dict[str, str]:
    """The user change form as an org admin sees it (no permission fields), with no membership rows."""
    return {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "date_joined_0": "2024-01-02",
        "date_joined_1": "09:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **extra,
    }


@pytest.fixture
def admin_client(client: Client, clinic_admin: User) -> Client:
    return login_with_second_factor(client, with_every_permission(clinic_admin))


@pytest.fixture
def superuser_member(clinic: Organization) -> User:
    """A superuser who also works at the org admin's clinic: listed there, but above the org admin."""
    root = User.objects.create_superuser("boss@handoff.test", f.TEST_PASSWORD, full_name="Big Boss")
    f.MembershipFactory(user=root, organization=clinic, role=Role.PHYSIOTHERAPIST)
    return root


@pytest.fixture
def shared_physio(clinic: Organization, other_clinic: Organization) -> User:
    """A physiotherapist of the org admin's clinic and of another clinic."""
    user = make_physio(clinic, full_name="Sam Shared")
    f.MembershipFactory(user=user, organization=other_clinic, role=Role.PHYSIOTHERAPIST)
    return user


@pytest.fixture
def staff_colleague(clinic: Organization) -> User:
    """Another org admin of the same clinic (staff)."""
    user = f.UserFactory(is_staff=True, full_name="Cole League")
    f.MembershipFactory(user=user, organization=clinic, role=Role.ORG_ADMIN)
    return user


OUTSIDE_AUTHORITY = ("superuser_member", "shared_physio", "staff_colleague")


@pytest.mark.parametrize("who", OUTSIDE_AUTHORITY)
def test_an_org_admin_cannot_open_or_post_the_password_form_of_a_user_outside_their_authority(
    admin_client: Client, request: pytest.FixtureRequest, who: str
) -> None:
    target: User = request.getfixturevalue(who)
    assert admin_client.get(password_url(target)).status_code == 403
    assert admin_client.post(password_url(target), password_post()).status_code == 403
    target.refresh_from_db()
    assert target.check_password(f.TEST_PASSWORD)
    assert not target.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("who", OUTSIDE_AUTHORITY)
def test_a_user_outside_the_org_admins_authority_is_listed_but_read_only(
    admin_client: Client, request: pytest.FixtureRequest, who: str
) -> None:
    target: User = request.getfixturevalue(who)
    listed = admin_client.get(reverse("admin:accounts_user_changelist"))
    assert target in listed.context["cl"].result_list
    page = admin_client.get(change_url(target))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert password_url(target) not in page.content.decode()  # no "reset password" link either
    before = User.objects.filter(pk=target.pk).values().get()
    response = admin_client.post(change_url(target), user_post(target, full_name="Renamed"))
    assert response.status_code == 403
    delete_url = reverse("admin:accounts_user_delete", args=[target.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=target.pk).values().get() == before


def test_an_org_admin_changes_the_password_of_a_user_only_in_their_organization(
    admin_client: Client, physio: User
) -> None:
    assert admin_client.get(password_url(physio)).status_code == 200
    assert admin_client.post(password_url(physio), password_post()).status_code == 302
    physio.refresh_from_db()
    assert physio.check_password(NEW_PASSWORD)


def test_an_org_admin_cannot_make_a_user_staff_or_superuser_by_posting_the_flags(
    admin_client: Client, physio: User
) -> None:
    response = admin_client.post(
        change_url(physio), user_post(physio, full_name="Still Physio", is_staff="on", is_superuser="on")
    )
    assert response.status_code == 302
    physio.refresh_from_db()
    assert physio.full_name == "Still Physio"  # the form was saved ...
    assert not physio.is_staff and not physio.is_superuser  # ... without the flags


def test_an_org_admin_cannot_change_their_own_user_in_the_admin(
    admin_client: Client, clinic_admin: User, other_clinic: Organization
) -> None:
    """They are staff, so outside their own authority: no escalating through their own memberships."""
    data = user_post(
        clinic_admin,
        **{
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-organization": str(other_clinic.pk),
            "memberships-0-role": Role.ORG_ADMIN,
        },
    )
    assert admin_client.post(change_url(clinic_admin), data).status_code == 403
    assert admin_client.get(password_url(clinic_admin)).status_code == 403
    assert not clinic_admin.memberships.filter(organization=other_clinic).exists()


def test_an_org_admin_cannot_give_themselves_a_membership_elsewhere(
    admin_client: Client, clinic_admin: User, other_clinic: Organization
) -> None:
    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(clinic_admin.pk), "organization": str(other_clinic.pk), "role": Role.ORG_ADMIN},
    )
    assert response.status_code == 200
    assert [e.code for e in response.context["adminform"].form.errors.as_data()["organization"]] == [
        "invalid_choice"
    ]
    assert not Membership.objects.filter(organization=other_clinic, user=clinic_admin).exists()


def test_an_org_admin_cannot_add_a_member_of_another_organization_to_theirs(
    admin_client: Client, clinic: Organization, other_clinic_physio: User
) -> None:
    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(other_clinic_physio.pk), "organization": str(clinic.pk), "role": Role.PHYSIOTHERAPIST},
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(organization=clinic, user=other_clinic_physio).exists()


@pytest.mark.parametrize("who", OUTSIDE_AUTHORITY)
def test_an_org_admin_cannot_create_an_api_token_for_a_user_outside_their_authority(
    admin_client: Client, request: pytest.FixtureRequest, who: str
) -> None:
    """A token acts as its user: one for a superuser would hand the org admin the superuser's powers."""
    target: User = request.getfixturevalue(who)
    response = admin_client.post(
        reverse("admin:accounts_apitoken_add"), {"user": str(target.pk), "name": "Mine now"}
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.filter(user=target).exists()


def test_an_org_admin_creates_an_api_token_for_a_user_of_their_organization(
    admin_client: Client, physio: User, django_capture_on_commit_callbacks: Any
) -> None:
    response = admin_client.post(
        reverse("admin:accounts_apitoken_add"), {"user": str(physio.pk), "name": "Clinic EHR sync"}
    )
    assert response.status_code == 302
    assert ApiToken.objects.filter(user=physio, name="Clinic EHR sync").exists()


def test_the_api_token_user_autocomplete_offers_only_users_under_the_org_admins_authority(
    admin_client: Client, physio: User, superuser_member: User, shared_physio: User, staff_colleague: User
) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "apitoken", "field_name": "user", "term": ""},
    )
    assert response.status_code == 200
    offered = {row["id"] for row in response.json()["results"]}
    assert offered == {str(physio.pk)}
