"""API test helpers: a client per persona (token or session), JSON helpers, throttling kept out of the way."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from accounts.services import api_token_create

API = "/api/v1"


@pytest.fixture(autouse=True)
def _generous_throttles(monkeypatch: pytest.MonkeyPatch) -> None:
    """High rates in tests (the throttle test sets its own), and a clean throttle history per test."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "10000/minute", "user": "10000/minute"}
    )
    cache.clear()


def token_client(user: User) -> APIClient:
    _, raw = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_for() -> Any:
    """api_for(user) -> an APIClient authenticated with a fresh token of that user (None: anonymous)."""

    def make(user: User | None) -> APIClient:
        return APIClient() if user is None else token_client(user)

    return make


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body: dict[str, Any] = response.json()
    assert set(body) >= {"code", "detail", "fields"}, body
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body
