"""Issue 13: adding a patient the clinic already has (same name, whatever its case and spacing, same date
of birth) shows the existing one and asks for confirmation; the API answers 409 unless confirmed."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from accounts.models import Organization, User
from referrals import access as referrals_access
from referrals.care import services as care_services
from referrals.care.models import Patient
from referrals.errors import DuplicatePatient
from tests import factories as f
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import login
from tests.test_views import url

pytestmark = pytest.mark.django_db

BORN = datetime.date(1975, 3, 9)


@pytest.fixture
def existing(clinic: Organization) -> Patient:
    return f.PatientFactory(clinic=clinic, full_name="Maria  de la Cruz", date_of_birth=BORN)


@pytest.mark.parametrize("typed", ["Maria de la Cruz", "maria DE LA cruz", "  Maria   de la  Cruz "])
def test_the_service_refuses_a_namesake_born_the_same_day_and_names_the_existing_patient(
    physio: User, clinic: Organization, existing: Patient, typed: str
) -> None:
    with pytest.raises(DuplicatePatient) as caught:
        care_services.patient_create(clinic=clinic, actor=physio, full_name=typed, date_of_birth=BORN)
    assert caught.value.existing == existing
    assert caught.value.code == "duplicate_patient"
    assert Patient.objects.filter(clinic=clinic).count() == 1


def test_the_service_adds_the_namesake_once_told_it_is_a_different_person(
    physio: User, clinic: Organization, existing: Patient
) -> None:
    other = care_services.patient_create(
        clinic=clinic, actor=physio, full_name="Maria de la Cruz", date_of_birth=BORN, confirm_distinct=True
    )
    assert other.pk != existing.pk and Patient.objects.filter(clinic=clinic).count() == 2


def test_another_birthday_another_clinic_or_another_name_is_not_a_duplicate(
    physio: User, clinic: Organization, existing: Patient, other_clinic: Organization
) -> None:
    care_services.patient_create(
        clinic=clinic, actor=physio, full_name="Maria de la Cruz", date_of_birth=BORN + datetime.timedelta(1)
    )
    care_services.patient_create(
        clinic=clinic, actor=physio, full_name="Maria de la Cruz Lopez", date_of_birth=BORN
    )
    f.MembershipFactory(user=physio, organization=other_clinic)
    referrals_access.forget_roles(physio)
    care_services.patient_create(
        clinic=other_clinic, actor=physio, full_name="Maria de la Cruz", date_of_birth=BORN
    )
    assert Patient.objects.filter(full_name__icontains="cruz").count() == 4


def test_the_page_shows_the_existing_patient_and_adds_only_after_the_box_is_ticked(
    client: Client, physio: User, clinic: Organization, existing: Patient
) -> None:
    client = login(client, physio)
    data = {"full_name": "maria de la cruz", "date_of_birth": BORN.isoformat(), "email": "", "phone": ""}
    first = client.post(url("patient_create"), data)
    assert first.status_code == 200
    assert first.context["duplicate"] == existing
    body = first.content.decode()
    assert f'href="{url("patient_detail", existing)}"' in body
    assert 'name="confirm_distinct"' in body and "This is a different person" in body
    assert Patient.objects.filter(clinic=clinic).count() == 1
    # a fresh form does not show the box
    assert 'name="confirm_distinct"' not in client.get(url("patient_create")).content.decode()
    again = client.post(url("patient_create"), data | {"confirm_distinct": "on"})
    added = Patient.objects.filter(clinic=clinic).exclude(pk=existing.pk).get()
    assert again.status_code == 302 and again["Location"] == url("patient_detail", added)
    assert added.full_name == "maria de la cruz"


def test_the_api_answers_409_with_the_existing_patients_id_and_stores_nothing(
    physio: User, clinic: Organization, existing: Patient
) -> None:
    client = token_client(physio)
    data = {"full_name": "MARIA DE LA CRUZ", "date_of_birth": BORN.isoformat()}
    body = assert_error(client.post(f"{API}/patients/", data, format="json"), 409, "duplicate_patient")
    assert body["existing_patient"] == str(existing.public_id)
    assert body["detail"]
    assert Patient.objects.filter(clinic=clinic).count() == 1
    declined = client.post(f"{API}/patients/", data | {"confirm_distinct": False}, format="json")
    assert_error(declined, 409, "duplicate_patient")
    assert Patient.objects.filter(clinic=clinic).count() == 1
    confirmed = client.post(f"{API}/patients/", data | {"confirm_distinct": True}, format="json")
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["id"] != str(existing.public_id)
    assert Patient.objects.filter(clinic=clinic).count() == 2


def test_confirm_distinct_must_be_a_boolean(physio: User, existing: Patient) -> None:
    data = {"full_name": "Maria de la Cruz", "date_of_birth": BORN.isoformat(), "confirm_distinct": "maybe"}
    body = assert_error(token_client(physio).post(f"{API}/patients/", data, format="json"), 400, "invalid")
    assert list(body["fields"]) == ["confirm_distinct"]
