"""A verification vouches for one credential: editing a verified certification's issuing body (or the name
of an 'other' body), number, expiry or trainer makes it unverified again. The rule is
accounts.services.certification_update; the admin's certification form and the trainer profile's
certification rows both go through it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import Certification, User
from accounts.services import certification_update
from referrals.errors import NotPermitted
from referrals.handoffs import organizations as handoffs_organizations
from tests import factories as f
from tests.conftest import login_with_second_factor, make_trainer

Body = Certification.IssuingBody


@pytest.fixture
def verified(trainer: User, superuser: User) -> Certification:
    certification = Certification.objects.get(profile__user=trainer)
    # the factories verify without a who or when: start from an unverified row, verified by the admin here
    Certification.objects.filter(pk=certification.pk).update(verified=False)
    certification.refresh_from_db()
    return handoffs_organizations.certification_verify(certification=certification, actor=superuser)


def assert_unverified(certification: Certification) -> None:
    certification.refresh_from_db()
    assert not certification.verified
    assert certification.verified_by is None
    assert certification.verified_at is None


CHANGES: dict[str, Any] = {
    "issuing_body": Body.ACE,
    "number": "CPT-999999",
    "expiry": f.in_days(900),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_changing_what_was_verified_unverifies_the_certification(
    verified: Certification, superuser: User, name: str
) -> None:
    updated = certification_update(certification=verified, actor=superuser, **{name: CHANGES[name]})
    assert getattr(updated, name) == CHANGES[name]
    assert_unverified(verified)
    assert getattr(verified, name) == CHANGES[name]


def test_renaming_the_other_body_unverifies_the_certification(trainer: User, superuser: User) -> None:
    certification = f.CertificationFactory(
        profile=trainer.trainer_profile, issuing_body=Body.OTHER, other_body="Coaches Guild"
    )
    handoffs_organizations.certification_verify(certification=certification, actor=superuser)
    certification_update(certification=certification, actor=superuser, other_body="Coaches League")
    assert_unverified(certification)


def test_moving_a_certification_to_another_trainer_unverifies_it(
    verified: Certification, superuser: User, gym: Any
) -> None:
    other = make_trainer(gym)
    certification_update(certification=verified, actor=superuser, profile=other.trainer_profile)
    assert_unverified(verified)
    assert verified.profile == other.trainer_profile


def test_saving_the_same_values_keeps_the_verification(verified: Certification, superuser: User) -> None:
    same = {"issuing_body": verified.issuing_body, "number": verified.number, "expiry": verified.expiry}
    updated = certification_update(certification=verified, actor=superuser, **same)
    assert updated.verified and updated.verified_by == superuser and updated.verified_at is not None


def test_an_invalid_change_is_refused_and_keeps_the_verification(
    verified: Certification, superuser: User
) -> None:
    with pytest.raises(ValidationError) as raised:
        certification_update(certification=verified, actor=superuser, issuing_body=Body.OTHER)
    assert "other_body" in raised.value.message_dict
    verified.refresh_from_db()
    assert verified.verified and verified.issuing_body != Body.OTHER


def test_only_staff_change_a_certification(verified: Certification, trainer: User) -> None:
    with pytest.raises(NotPermitted):
        certification_update(certification=verified, actor=trainer, number="CPT-000001")
    verified.refresh_from_db()
    assert verified.verified and verified.number != "CPT-000001"


def test_fields_other_than_the_credential_are_refused(verified: Certification, superuser: User) -> None:
    with pytest.raises(ValidationError):
        certification_update(certification=verified, actor=superuser, verified=True)


# --- through the admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    return login_with_second_factor(client, superuser)


def certification_post(certification: Certification, **changes: str) -> dict[str, str]:
    return {
        "profile": str(certification.profile_id),
        "issuing_body": certification.issuing_body,
        "other_body": certification.other_body,
        "number": certification.number,
        "expiry": certification.expiry.isoformat(),
        **changes,
    }


def test_editing_a_verified_certifications_number_in_the_admin_unverifies_it(
    admin_client: Client, verified: Certification
) -> None:
    url = reverse("admin:accounts_certification_change", args=[verified.pk])
    response = admin_client.post(url, certification_post(verified, number="CPT-123123"))
    assert response.status_code == 302
    assert_unverified(verified)
    assert verified.number == "CPT-123123"


def test_saving_a_verified_certification_unchanged_in_the_admin_keeps_it_verified(
    admin_client: Client, verified: Certification
) -> None:
    url = reverse("admin:accounts_certification_change", args=[verified.pk])
    assert admin_client.post(url, certification_post(verified)).status_code == 302
    verified.refresh_from_db()
    assert verified.verified


def profile_post(certification: Certification, **changes: str) -> dict[str, str]:
    """The trainer profile's change form with its one certification row (no specializations)."""
    profile = certification.profile
    row = certification_post(certification, **changes)
    return {
        "user": str(profile.user_id),
        "cpr_aed_expiry": (profile.cpr_aed_expiry or datetime.date(2030, 1, 1)).isoformat(),
        "accepting_new_clients": "on",
        "max_active_clients": str(profile.max_active_clients),
        "bio": profile.bio,
        "specializations-TOTAL_FORMS": "0",
        "specializations-INITIAL_FORMS": "0",
        "specializations-MIN_NUM_FORMS": "0",
        "specializations-MAX_NUM_FORMS": "1000",
        "certifications-TOTAL_FORMS": "1",
        "certifications-INITIAL_FORMS": "1",
        "certifications-MIN_NUM_FORMS": "0",
        "certifications-MAX_NUM_FORMS": "1000",
        "certifications-0-id": str(certification.pk),
        "certifications-0-profile": str(profile.pk),
        **{f"certifications-0-{k}": v for k, v in row.items() if k != "profile"},
    }


def test_editing_a_verified_certifications_expiry_on_the_trainer_profile_unverifies_it(
    admin_client: Client, verified: Certification
) -> None:
    url = reverse("admin:accounts_trainerprofile_change", args=[verified.profile_id])
    new_expiry = f.in_days(700).isoformat()
    response = admin_client.post(url, profile_post(verified, expiry=new_expiry))
    assert response.status_code == 302, response.context and response.context["errors"]
    assert_unverified(verified)
    assert verified.expiry.isoformat() == new_expiry


def test_saving_the_trainer_profile_without_touching_the_certification_keeps_it_verified(
    admin_client: Client, verified: Certification
) -> None:
    url = reverse("admin:accounts_trainerprofile_change", args=[verified.profile_id])
    data = profile_post(verified)
    data["bio"] = "Ten years of post-rehab coaching."
    assert admin_client.post(url, data).status_code == 302
    verified.refresh_from_db()
    assert verified.verified
    assert verified.profile.bio == "Ten years of post-rehab coaching."
