"""The API's rate limits as counters: one Redis round trip per request, whatever the rate.

DRF's throttles keep each client's request timestamps as a list in the cache, read and written whole on
every request: at 600/minute that is a list of up to 600 floats pickled each way per call, and two round
trips. These count instead, in the sliding-window approximation (Cloudflare's): the count of the current
fixed window plus the previous window's count weighted by how much of it still overlaps the last
`duration` seconds. One INCR, one EXPIRE and one GET, pipelined (config.cache.ResilientRedisCache); on
any other cache (the embedded default, tests) the same through the cache API.

A refused request does not count (as with DRF's), and when Redis is unreachable the request goes through:
a rate limit is not worth an outage.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from rest_framework import throttling

from config.cache import ResilientRedisCache


class SlidingWindowMixin:
    cache_alias = "default"
    # set by SimpleRateThrottle
    num_requests: int
    duration: int
    rate: str | None
    timer: Any

    if TYPE_CHECKING:

        def get_cache_key(self, request: Any, view: Any) -> str | None: ...  # the throttle class's own

    def allow_request(self, request: Any, view: Any) -> bool:
        self._wait = 0.0
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = float(self.timer())
        window = int(now // self.duration)
        current_key, previous_key = f"{key}:{window}", f"{key}:{window - 1}"
        counts = self._hit(current_key, previous_key)
        if counts is None:
            return True  # the cache is unreachable: let the request through
        current, previous = counts
        elapsed = now - window * self.duration
        overlap = (self.duration - elapsed) / self.duration
        estimate = current + previous * overlap
        if estimate <= self.num_requests:
            return True
        self._undo(current_key)
        # When the estimate falls back to the limit: within this window as the previous one's weight
        # shrinks, or else when this window ends.
        self._wait = self.duration - elapsed
        if previous:
            self._wait = min(self._wait, (estimate - self.num_requests) / previous * self.duration)
        return False

    def wait(self) -> float | None:
        return max(1.0, math.ceil(self._wait)) if self._wait else None

    def _hit(self, current_key: str, previous_key: str) -> tuple[int, int] | None:
        cache = caches[self.cache_alias]
        if isinstance(cache, ResilientRedisCache):
            return cache.window_hit(current_key, previous_key, 2 * self.duration)
        cache.add(current_key, 0, 2 * self.duration)
        try:
            current = int(cache.incr(current_key))
        except ValueError:  # expired between the two calls
            cache.set(current_key, 1, 2 * self.duration)
            current = 1
        return current, int(cache.get(previous_key, 0))

    def _undo(self, current_key: str) -> None:
        cache = caches[self.cache_alias]
        if isinstance(cache, ResilientRedisCache):
            cache.window_undo(current_key)
            return
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
            cache.decr(current_key)


class AnonRateThrottle(SlidingWindowMixin, throttling.AnonRateThrottle):
    """Anonymous calls, per address."""


class UserRateThrottle(SlidingWindowMixin, throttling.UserRateThrottle):
    """Authenticated calls, per user."""
