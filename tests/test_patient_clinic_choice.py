"""A physiotherapist of several clinics chooses the clinic when adding a patient on the pages, as in the
API: the choice is shown only to them, and a clinic outside their memberships is a form error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Organization, User
from referrals.care.models import Patient
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db

NEW = {"full_name": "Robin New", "date_of_birth": "1980-04-02", "email": "", "phone": ""}


@pytest.fixture
def second_clinic(physio: User) -> Organization:
    clinic = f.ClinicFactory(name="Riverside Physio")
    f.MembershipFactory(user=physio, organization=clinic, role=Membership.Role.PHYSIOTHERAPIST)
    return clinic


def test_a_physio_of_one_clinic_is_not_asked_and_the_patient_joins_it(
    client: Client, physio: User, clinic: Organization
) -> None:
    login(client, physio)
    assert 'name="clinic"' not in client.get(reverse("patient_create")).content.decode()
    response = client.post(reverse("patient_create"), NEW)
    assert response.status_code == 302
    assert Patient.objects.get(full_name="Robin New").clinic == clinic


def test_a_physio_of_two_clinics_chooses_the_clinic(
    client: Client, physio: User, clinic: Organization, second_clinic: Organization
) -> None:
    login(client, physio)
    page = client.get(reverse("patient_create")).content.decode()
    assert 'name="clinic"' in page and "Riverside Physio" in page and "Lakeside Physio" in page
    response = client.post(reverse("patient_create"), NEW | {"clinic": str(second_clinic.public_id)})
    assert response.status_code == 302
    assert Patient.objects.get(full_name="Robin New").clinic == second_clinic


@pytest.mark.parametrize("choice", ["", "not-a-uuid", "outside", "other_clinic"])
def test_a_clinic_outside_the_memberships_is_a_form_error_and_nothing_is_stored(
    client: Client, physio: User, second_clinic: Organization, other_clinic: Organization, choice: str
) -> None:
    posted: Any = {
        "outside": str(f.ClinicFactory(name="Elsewhere").public_id),
        "other_clinic": str(other_clinic.public_id),
    }.get(choice, choice)
    response = login(client, physio).post(reverse("patient_create"), NEW | {"clinic": posted})
    assert response.status_code == 200
    assert response.context["form"].errors["clinic"]
    assert not Patient.objects.filter(full_name="Robin New").exists()
