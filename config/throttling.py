"""The API's rate limits as shared counters, kept in Redis in batches: most calls pay no round trip.

DRF's throttles keep each client's request timestamps as a list in the cache, read and written whole on
every request (up to 600 floats pickled each way at 600/minute, two round trips). These count instead,
in the sliding-window approximation (Cloudflare's): the current fixed window's count plus the previous
window's weighted by how much of it still overlaps the last `duration` seconds.

The counts live in the shared cache (Redis in production: every web process sees every call). Each
process keeps what it has allowed since it last synced and adds it in one round trip
(config.cache.ResilientRedisCache.window_add):
- far below the limit, at most every SYNC_SECONDS and every LOCAL_SHARE of the limit: most calls are one
  dictionary lookup;
- once a client's count, as this process knows it, reaches NEAR_LIMIT of the limit, on every call, which
  is then checked against the shared count before it is allowed.
What no process has seen yet is at most LOCAL_SHARE of the limit per web process: with 4 processes and
600/minute, a burst at the same instant can pass 600 by at most 4 x 30.

A refused call does not count (as with DRF's), and when Redis is unreachable the call goes through: a rate
limit is not worth an outage. On any other cache (the embedded default, tests) the same through the cache
API.
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from rest_framework import throttling

from config.cache import ResilientRedisCache

SYNC_SECONDS = 0.5
NEAR_LIMIT = 0.8
LOCAL_SHARE = 0.05  # of the limit: the most a process allows before it adds them to the shared count


@dataclass
class _Count:
    window: int
    current: int = 0  # this window's shared count at the last sync (this process's calls included)
    previous: int = 0  # the previous window's shared count at the last sync
    pending: int = 0  # allowed here since the last sync, not yet in the shared count
    synced_at: float = -math.inf


_LOCK = threading.Lock()
_COUNTS: dict[tuple[str, str], _Count] = {}


def reset_local_counts() -> None:
    """Forget this process's unsynced counts (tests that clear the cache call this too)."""
    with _LOCK:
        _COUNTS.clear()


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
        elapsed = now - window * self.duration
        overlap = (self.duration - elapsed) / self.duration
        with _LOCK:
            count = _COUNTS.get((self.cache_alias, key))
            carried = 0  # allowed in the previous window and never synced
            if count is None or count.window != window:
                if count is not None and count.window == window - 1:
                    carried = count.pending
                count = _COUNTS[(self.cache_alias, key)] = _Count(window)
                if len(_COUNTS) > 10_000:  # clients gone quiet
                    for stale in [k for k, c in _COUNTS.items() if c.window < window - 1]:
                        del _COUNTS[stale]
            estimate = count.current + count.pending + 1 + count.previous * overlap
            if (
                not carried
                and now - count.synced_at < SYNC_SECONDS
                and count.pending < max(1, int(LOCAL_SHARE * self.num_requests))
                and estimate < NEAR_LIMIT * self.num_requests
            ):
                count.pending += 1
                return True
            adding, count.pending = count.pending + 1, 0
        shared = self._add(f"{key}:{window}", f"{key}:{window - 1}", adding, carried)
        if shared is None:
            return True  # the cache is unreachable: let the call through
        current, previous = shared
        with _LOCK:
            count.current, count.previous, count.synced_at = current, previous, now
        estimate = current + previous * overlap
        if estimate <= self.num_requests:
            return True
        self._undo(f"{key}:{window}")
        with _LOCK:
            count.current -= 1
        self._wait = self._until_allowed(current - 1, previous, elapsed)
        return False

    def _until_allowed(self, current: int, previous: int, elapsed: float) -> float:
        """Seconds until one more call fits, if no other call comes: within this window as the previous
        one's weight shrinks, or else in the next one, where this window's calls are the weighted ones."""
        limit, duration = self.num_requests, float(self.duration)
        left = duration - elapsed
        if previous:
            # current + 1 + previous * (left - t) / duration <= limit
            within = left - (limit - 1 - current) * duration / previous
            if within <= left:
                return max(0.0, within)
        # next window: 1 + current * (duration - s) / duration <= limit
        if current <= limit - 1:
            return left
        return left + duration * (1 - (limit - 1) / current)

    def wait(self) -> float | None:
        return max(1.0, math.ceil(self._wait)) if self._wait else None

    def _add(
        self, current_key: str, previous_key: str, add: int, add_previous: int
    ) -> tuple[int, int] | None:
        cache = caches[self.cache_alias]
        timeout = 2 * self.duration
        if isinstance(cache, ResilientRedisCache):
            return cache.window_add(
                current_key, previous_key, add=add, add_previous=add_previous, timeout=timeout
            )
        if add_previous:
            cache.add(previous_key, 0, timeout)
            cache.incr(previous_key, add_previous)
        cache.add(current_key, 0, timeout)
        try:
            current = int(cache.incr(current_key, add))
        except ValueError:  # expired between the two calls
            cache.set(current_key, add, timeout)
            current = add
        return current, int(cache.get(previous_key, 0))

    def _undo(self, current_key: str) -> None:
        cache = caches[self.cache_alias]
        if isinstance(cache, ResilientRedisCache):
            cache.window_undo(current_key, 2 * self.duration)
            return
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
            cache.decr(current_key)


class AnonRateThrottle(SlidingWindowMixin, throttling.AnonRateThrottle):
    """Anonymous calls, per address."""


class UserRateThrottle(SlidingWindowMixin, throttling.UserRateThrottle):
    """Authenticated calls, per user."""
