"""Security tests: a world with every kind of object, and the throttles kept out of the way."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture(autouse=True)
def _generous_throttles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix sends many requests per persona: no throttling, and a clean history per test."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "10000/minute", "user": "10000/minute"}
    )
    cache.clear()
