"""Production's cache (config.cache.ResilientRedisCache) against a real, private Redis that the test stops,
pauses and brings back: the session copies and the API throttle counters live there, and neither may turn
a Redis fault into an error page, nor bring a logged-out session back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_token_create
from config.cache import ResilientRedisCache
from tests.conftest import World
from tests.integration.harness import RedisServer


def production_caches(url: str) -> dict[str, dict[str, Any]]:
    """config/settings/production.py's CACHES, pointed at the test's own Redis."""
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "handoff",
            "TIMEOUT": 300,
            "OPTIONS": options,
            "RETRY_AFTER": 1,
        },
        "sessions": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "handoff-session",
            "MAX_TIMEOUT": 60,
            "OPTIONS": options,
            "RETRY_AFTER": 1,
        },
    }


@pytest.fixture
def redis_caches(redis_server: RedisServer) -> Iterator[RedisServer]:
    with override_settings(CACHES=production_caches(redis_server.url)):
        assert isinstance(caches["sessions"], ResilientRedisCache)
        yield redis_server


def _session_keys(server: RedisServer) -> list[bytes]:
    return list(server.client().scan_iter("handoff-session:*"))


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    return client


def test_pages_read_the_session_from_redis_and_keep_working_while_it_is_down(
    world: World, redis_caches: RedisServer
) -> None:
    client = _logged_in(world.trainer)
    assert _session_keys(redis_caches), "the session's copy is in Redis"

    redis_caches.stop()
    started = time.monotonic()
    for _ in range(5):
        assert client.get("/").status_code == 200  # from PostgreSQL
    assert time.monotonic() - started < 2.0

    redis_caches.start()  # back, empty
    time.sleep(1.1)  # RETRY_AFTER
    assert client.get("/").status_code == 200
    assert _session_keys(redis_caches), "the copy is written again"


def test_a_paused_redis_costs_a_page_at_most_the_socket_timeout_once(
    world: World, redis_caches: RedisServer
) -> None:
    client = _logged_in(world.trainer)
    redis_caches.pause()
    try:
        timings = []
        for _ in range(4):
            started = time.monotonic()
            assert client.get("/").status_code == 200
            timings.append(time.monotonic() - started)
    finally:
        redis_caches.resume()
    assert timings[0] < 1.5  # one 0.5 s timeout
    assert max(timings[1:]) < 0.5, timings  # then the cache stays out of the way


def test_a_logout_while_redis_is_paused_does_not_come_back_from_the_stale_copy(
    world: World, redis_caches: RedisServer
) -> None:
    client = _logged_in(world.trainer)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    redis_caches.pause()
    try:
        client.post("/logout/")  # the database row goes; the copy in Redis cannot be deleted yet
    finally:
        redis_caches.resume()
    assert _session_keys(redis_caches), "the stale copy outlived the logout"

    time.sleep(1.1)  # RETRY_AFTER
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not _session_keys(redis_caches), "the failed delete was done as soon as Redis answered"


def test_session_copies_expire_within_a_minute(world: World, redis_caches: RedisServer) -> None:
    _logged_in(world.trainer)
    [key] = _session_keys(redis_caches)
    assert 0 < redis_caches.client().ttl(key) <= 60


def test_the_api_rate_limit_counts_in_redis_and_lets_calls_through_while_it_is_down(
    world: World, redis_caches: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})
    _, raw = api_token_create(user=world.trainer, name="limits")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [api.get("/api/v1/handoffs/").status_code for _ in range(4)] == [200, 200, 200, 429]
    counters = list(redis_caches.client().scan_iter("handoff:*throttle_user*"))
    assert counters and int(redis_caches.client().get(counters[0]) or 0) == 3  # the refused one is not kept

    redis_caches.stop()
    assert [api.get("/api/v1/handoffs/").status_code for _ in range(3)] == [200, 200, 200]


def test_a_session_changed_while_redis_is_paused_is_not_read_back_from_the_stale_copy(
    world: World, redis_caches: RedisServer
) -> None:
    from importlib import import_module

    client = _logged_in(world.trainer)
    session = client.session
    redis_caches.pause()
    try:
        session["marker"] = "changed while Redis was away"
        session.save()  # written to PostgreSQL; the copy in Redis could not be replaced
    finally:
        redis_caches.resume()
    time.sleep(1.1)  # RETRY_AFTER
    store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    assert store.load().get("marker") == "changed while Redis was away"
