"""Point this process's Celery app at a real broker for one test, then back to in-process tasks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu import pools

from config.celery_app import app

# Its connection pools are private attributes and its settings writable at run time: neither is in the
# stubs (celery-types), which describe the public, read-only view.
celery_app: Any = app


def _reset_pools() -> None:
    # Connections are pooled per broker URL at first use; drop them so the next publish uses the new URL.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide pools, shared by the in-memory transport too


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    _reset_pools()
    try:
        yield
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved
        _reset_pools()
