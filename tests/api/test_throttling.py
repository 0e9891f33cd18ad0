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
    # the window ends in 50 s; then its 3 calls weigh 3 x (60 - s)/60, and one more fits from s = 20
    assert refused.json()["retry_after"] == 70
    assert int(refused["Retry-After"]) == 70
    clock["t"] += 69
    assert client.get(f"{API}/exercises/").status_code == 429
    clock["t"] += 1
    assert client.get(f"{API}/exercises/").status_code == 200


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


def _shared_count(user: Any, clock: dict[str, float]) -> int:
    return int(cache.get(f"throttle_user_{user.pk}:{int(clock['t'] // 60)}", 0))


def test_far_below_the_limit_calls_are_counted_here_and_added_to_the_shared_count_in_batches(
    api_for: Any, physio: Any, clock: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/minute", "user": "1000/minute"})
    client = api_for(physio)
    for _ in range(10):
        assert client.get(f"{API}/exercises/").status_code == 200
    assert _shared_count(physio, clock) == 1  # the first call synced; nine wait here
    clock["t"] += 0.6  # SYNC_SECONDS later the next call adds them
    assert client.get(f"{API}/exercises/").status_code == 200
    assert _shared_count(physio, clock) == 11


def test_a_process_keeps_at_most_five_percent_of_the_limit_unseen_by_the_others(
    api_for: Any, physio: Any, clock: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100/minute", "user": "100/minute"})
    client = api_for(physio)
    for _ in range(12):  # no time passes: only the share (5 of 100) forces the syncs
        assert client.get(f"{API}/exercises/").status_code == 200
    assert _shared_count(physio, clock) == 7  # synced at calls 1 and 7: five are unseen, no more
    assert client.get(f"{API}/exercises/").status_code == 200
    assert _shared_count(physio, clock) == 13


def test_near_the_limit_every_call_is_checked_against_what_other_processes_allowed(
    api_for: Any, physio: Any, clock: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "10/minute", "user": "10/minute"})
    client = api_for(physio)
    for _ in range(7):  # the first is added to the shared count at once, six wait here
        assert client.get(f"{API}/exercises/").status_code == 200
    cache.incr(f"throttle_user_{physio.pk}:{int(clock['t'] // 60)}", 3)  # another web process's calls
    # 8 of 10 as this process knows it is near the limit: the call adds its six and itself, sees 11
    assert client.get(f"{API}/exercises/").status_code == 429
    assert _shared_count(physio, clock) == 10
