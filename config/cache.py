"""Django's Redis cache, made safe to lean on: short timeouts, and Redis trouble is a miss, not a 500.

Production keeps two things in Redis besides the Celery queue: the API throttle counters and a copy of
each session (`cached_db`: the session is written to PostgreSQL and to Redis, and read from Redis, so a
page costs no session query). Neither may take the site down with Redis:

- every call has a short socket timeout (a paused Redis costs a request at most that long);
- a call that cannot reach Redis logs a warning and answers as a miss (`get` gives the default, a write is
  dropped), so sessions fall back to PostgreSQL and throttles let the request through;
- after a failure the cache stays out of the way for `RETRY_AFTER` seconds (no timeout per request while
  Redis is away), then tries again;
- a session deleted or changed while Redis was unreachable (a logout) could come back from its stale copy
  when Redis returns: so `MAX_TIMEOUT` caps how long any entry lives (a minute for sessions), and the
  keys whose delete or write failed are deleted as soon as Redis answers (by the process that failed;
  the others reread the database within the minute).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("handoff.cache")

T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    """RedisCache whose failures are misses. Extra settings beside OPTIONS (the redis-py pool options,
    e.g. socket_timeout): MAX_TIMEOUT (seconds, caps every entry's lifetime), RETRY_AFTER (seconds)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.max_timeout: int | None = params.get("MAX_TIMEOUT")
        self.retry_after = float(params.get("RETRY_AFTER", 5.0))
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._undeleted: set[str] = set()  # keys whose delete failed: deleted again once Redis answers

    @property
    def _client(self) -> Any:
        """Django's RedisCacheClient behind this cache (keys given to it are already made)."""
        return self._cache  # type: ignore[attr-defined]

    # --- the guard -------------------------------------------------------------------------------------

    def _available(self) -> bool:
        if time.monotonic() < self._down_until:
            return False
        if self._undeleted:
            self._retry_deletes()
        return True

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_after
        logger.warning(
            "cache: Redis unreachable during %s (%s); treating it as a miss for %.0f s",
            operation,
            type(exc).__name__,
            self.retry_after,
        )

    def _retry_deletes(self) -> None:
        with self._lock:
            keys, self._undeleted = list(self._undeleted), set()
        try:
            self._client.delete_many(keys)
        except UNREACHABLE as exc:
            with self._lock:
                self._undeleted.update(keys)
            self._failed("delete retry", exc)

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> int | None:
        value = super().get_backend_timeout(timeout)
        if self.max_timeout is not None and (value is None or value > self.max_timeout):
            return int(self.max_timeout)
        return None if value is None else int(value)

    # --- the operations, each a miss when Redis is away --------------------------------------------------

    def _guard(self, operation: str, call: Callable[[], T], miss: T, stale_key: str | None = None) -> T:
        """`call()` against Redis; `miss` when Redis is away (skipped during the back-off, or failing now).
        `stale_key`: a write or delete of that key that did not happen leaves Redis's copy stale, so it is
        deleted as soon as Redis answers."""
        if self._available():
            try:
                return call()
            except UNREACHABLE as exc:
                self._failed(operation, exc)
        if stale_key is not None:
            self._remember_undeleted(stale_key)
        return miss

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard("get", partial(super().get, key, default, version), default)

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return self._guard("get_many", partial(super().get_many, keys, version), {})

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        stale = self.make_and_validate_key(key, version=version)
        self._guard("set", partial(super().set, key, value, timeout, version), None, stale_key=stale)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return bool(self._guard("add", partial(super().add, key, value, timeout, version), False))

    def has_key(self, key: Any, version: Any = None) -> bool:
        return bool(self._guard("has_key", partial(super().has_key, key, version), False))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return bool(self._guard("touch", partial(super().touch, key, timeout, version), False))

    def delete(self, key: Any, version: Any = None) -> bool:
        full_key = self.make_and_validate_key(key, version=version)
        return bool(self._guard("delete", partial(self._client.delete, full_key), False, stale_key=full_key))

    def _remember_undeleted(self, full_key: str) -> None:
        with self._lock:
            self._undeleted.add(full_key)
        logger.warning("cache: %s may be stale in Redis; deleting it as soon as Redis answers", full_key)

    def window_add(
        self, key: str, previous_key: str, *, add: int, add_previous: int, timeout: int
    ) -> tuple[int, int] | None:
        """One round trip for a rate limiter: add `add` to `key` (expiring after `timeout`) and
        `add_previous` to `previous_key`, and read both. Returns (the current count, the previous window's
        count), or None if Redis is away."""
        if not self._available():
            return None
        current = self.make_and_validate_key(key)
        previous = self.make_and_validate_key(previous_key)
        try:
            pipe = self._client.get_client(current, write=True).pipeline(transaction=False)
            if add_previous:
                pipe.incrby(previous, add_previous)
                pipe.expire(previous, timeout)
            pipe.incrby(current, add)
            pipe.expire(current, timeout)
            pipe.get(previous)
            *_, count, _, before = pipe.execute()
        except UNREACHABLE as exc:
            self._failed("rate limit", exc)
            return None
        return int(count), int(before or 0)

    def window_undo(self, key: str, timeout: int) -> None:
        """Take back one call added by `window_add` (a call the limiter refused does not count)."""
        if not self._available():
            return
        try:
            full_key = self.make_and_validate_key(key)
            pipe = self._client.get_client(full_key, write=True).pipeline(transaction=False)
            pipe.decr(full_key)
            pipe.expire(full_key, timeout)  # never a key without expiry, even if it expired meanwhile
            pipe.execute()
        except UNREACHABLE as exc:
            self._failed("rate limit", exc)


class CappedLocMemCache(LocMemCache):
    """This process's memory, with entries capped at MAX_TIMEOUT seconds like the Redis one: the embedded
    default's session copies, so that a second process (e.g. gunicorn -w 2 without Redis) sees a logout
    within that time."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self.max_timeout: int | None = params.get("MAX_TIMEOUT")

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> float | None:
        value = super().get_backend_timeout(timeout)
        if self.max_timeout is None:
            return value
        cap = time.time() + self.max_timeout  # LocMemCache keeps an expiry time, not a duration
        return cap if value is None or value > cap else value
