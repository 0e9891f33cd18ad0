"""API tokens: only a hash is stored, the raw token is shown once; a user creates and revokes their own on
the profile page, staff in the admin; a revoked token stops working at once."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.api.conftest import API, assert_error
from tests.conftest import login, login_with_second_factor


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_the_hash_and_a_short_prefix_are_stored(physio: Any) -> None:
    token, raw = api_token_create(user=physio, name="EHR sync")
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(row.prefix) and len(row.prefix) == 12 and len(raw) > 40
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_a_token_authenticates_and_records_its_use(physio: Any) -> None:
    token, raw = api_token_create(user=physio, name="EHR sync")
    assert bearer(raw).get(f"{API}/patients/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_answers_every_call_not_only_the_first(physio: Any) -> None:
    """The second call reads the last_used_at the first one wrote (SQLite hands it back naive from the
    compiled query); a use older than a minute is recorded again."""
    token, raw = api_token_create(user=physio, name="EHR sync")
    client = bearer(raw)
    assert client.get(f"{API}/patients/").status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert client.get(f"{API}/patients/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use  # within the minute: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - datetime.timedelta(minutes=5))
    assert client.get(f"{API}/handoffs/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > first_use


def test_an_inactive_users_token_stops_working(physio: Any) -> None:
    _, raw = api_token_create(user=physio, name="EHR sync")
    physio.is_active = False
    physio.save()
    assert_error(bearer(raw).get(f"{API}/patients/"), 401, "authentication_failed")


def test_the_profile_page_creates_a_token_shown_once(client: Client, physio: Any) -> None:
    login(client, physio)
    response = client.post("/account/profile/", {"name": "Clinic EHR"})
    assert response.status_code == 200
    raw = response.context["new_token"]
    assert raw and raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert bearer(raw).get(f"{API}/handoffs/").status_code == 200
    page = client.get("/account/profile/").content.decode()
    assert "Clinic EHR" in page and raw not in page  # never shown again


def test_the_profile_page_refuses_a_nameless_token(client: Client, physio: Any) -> None:
    login(client, physio)
    response = client.post("/account/profile/", {"name": "   "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_and_it_stops_working(client: Client, physio: Any) -> None:
    token, raw = api_token_create(user=physio, name="Old sync")
    login(client, physio)
    response = client.post(f"/account/tokens/{token.public_id}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(bearer(raw).get(f"{API}/patients/"), 401, "authentication_failed")


def test_nobody_revokes_someone_elses_token_from_the_profile(
    client: Client, physio: Any, trainer: Any
) -> None:
    token, raw = api_token_create(user=physio, name="Pat's laptop script")
    login(client, trainer)
    assert client.post(f"/account/tokens/{token.public_id}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "laptop script" not in client.get("/account/profile/").content.decode()
    assert bearer(raw).get(f"{API}/patients/").status_code == 200


def test_the_profile_page_needs_a_login(client: Client, db: Any) -> None:
    response = client.get("/account/profile/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_create_a_token_in_the_admin_and_see_it_once(
    client: Client, superuser: Any, physio: Any
) -> None:
    login_with_second_factor(client, superuser)
    response = client.post(
        "/admin/accounts/apitoken/add/", {"user": physio.pk, "name": "Made by staff"}, follow=True
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Made by staff")
    assert token.user == physio
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for message in shown for word in message.split() if word.startswith("hnd_"))
    assert hashlib.sha256(raw.encode()).hexdigest() == token.key_hash
    assert bearer(raw).get(f"{API}/patients/").status_code == 200


def test_staff_revoke_tokens_with_an_admin_action(client: Client, superuser: Any, physio: Any) -> None:
    token, raw = api_token_create(user=physio, name="EHR sync")
    login_with_second_factor(client, superuser)
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(bearer(raw).get(f"{API}/patients/"), 401)
