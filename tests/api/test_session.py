"""The pages' session works for the API too, with Django's CSRF protection on writes."""

from __future__ import annotations

from typing import Any

from django.test import Client

from referrals.care.models import Patient
from tests.api.conftest import API, assert_error


def test_a_logged_in_session_reads_the_api(physio: Any) -> None:
    client = Client()
    client.force_login(physio)
    assert client.get(f"{API}/patients/").status_code == 200


def test_a_session_write_needs_the_csrf_token(physio: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(physio)
    body = {"full_name": "Robin Reyes", "date_of_birth": "1980-02-03"}
    response = client.post(f"{API}/patients/", body, content_type="application/json")
    assert "CSRF" in assert_error(response, 403, "permission_denied")["detail"]
    assert not Patient.objects.exists()
    client.get("/account/profile/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(f"{API}/patients/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
