"""The benchmark's own Celery task: the machine's limit for one worker process (issue 20). It does nothing
but stamp when it ran on a Redis list, so a burst of it measures what Celery, Redis and one prefork child
can do here; the delivery burst is reported as a ratio to it, measured in the same run (bench.pipeline).
The worker loads this module only in the benchmark (`--include bench.tasks`): the product never has it."""

from __future__ import annotations

import functools
import time

import redis
from celery import shared_task
from django.conf import settings

NOOP_STAMPS = "handoff-bench-noop"


@functools.cache
def _client() -> redis.Redis:
    """One connection pool per worker process: the stamp costs one round trip, not a connection."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task(name="bench.noop", ignore_result=True)
def noop() -> None:
    _client().rpush(NOOP_STAMPS, repr(time.time()))
