"""The API's rate limits (config/throttling.py): counted in a sliding window, refused calls not counted,
and the 429 says when to come back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import API


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The throttles' clock, moved by the test: starts 10 s into a minute."""
    now = {"t": 1_800_000_000.0 - (1_800_000_000.0 % 60) + 10}
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now["t"])
    return now


@pytest.fixture
def three_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})
    cache.clear()


def test_the_fourth_call_in_a_minute_is_refused_with_a_retry_time(
    api_for: Any, physio: Any, clock: dict[str, float], three_a_minute: None
) -> None:
    client = api_for(physio)
    assert [client.get(f"{API}/exercises/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(f"{API}/exercises/")
    assert refused.status_code == 429
    assert 1 <= refused.json()["retry_after"] <= 50  # the window ends 50 s from now
    assert int(refused["Retry-After"]) == refused.json()["retry_after"]


def test_refused_calls_do_not_count_and_the_window_slides(
    api_for: Any, physio: Any, clock: dict[str, float], three_a_minute: None
) -> None:
    client = api_for(physio)
    for _ in range(3):
        assert client.get(f"{API}/exercises/").status_code == 200
    for _ in range(5):  # hammering while refused does not push the limit further away
        assert client.get(f"{API}/exercises/").status_code == 429
    clock["t"] += 55  # 5 s into the next minute: the last minute's 3 calls still weigh 3 x 55/60
    assert client.get(f"{API}/exercises/").status_code == 429
    clock["t"] += 20  # 25 s in: 3 x 35/60 = 1.75, so one more call fits (2.75 <= 3), not two
    assert client.get(f"{API}/exercises/").status_code == 200
    assert client.get(f"{API}/exercises/").status_code == 429
    clock["t"] += 120  # two quiet minutes later: the full rate again
    assert [client.get(f"{API}/exercises/").status_code for _ in range(3)] == [200, 200, 200]


def test_users_are_counted_apart_and_anonymous_calls_by_address(
    api_for: Any, physio: Any, trainer: Any, clock: dict[str, float], three_a_minute: None
) -> None:
    first, second = api_for(physio), api_for(trainer)
    for _ in range(3):
        assert first.get(f"{API}/exercises/").status_code == 200
    assert first.get(f"{API}/exercises/").status_code == 429
    assert second.get(f"{API}/exercises/").status_code == 200
    anonymous = api_for(None)
    assert [anonymous.get(f"{API}/schema/").status_code for _ in range(3)] == [200, 200, 429]
