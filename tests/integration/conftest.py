"""Real services for integration tests: PostgreSQL (the test database), a private Redis, Celery workers.

Every test here commits for real (`transactional_db`), so a worker process sees its rows. Outside CI a
missing service skips these tests with the reason; with CI=true it fails them: CI must prove the real
thing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from referrals.library.data import EXERCISES
from referrals.library.models import Exercise
from tests.celery_switch import broker_at
from tests.integration.harness import CeleryWorker, RedisServer, ServiceUnavailable, database_url
from tests.mail_backends import MailEdge

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"integration test needs {reason} (CI=true: not skipping)")
    pytest.skip(f"needs {reason}")


@pytest.fixture
def live_db(transactional_db: Any) -> str:
    """Real commits in pytest-django's test database; returns its URL for worker processes."""
    try:
        url = database_url(connection.settings_dict)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
        raise
    return url


@pytest.fixture(autouse=True)
def exercise_library(transactional_db: Any) -> None:
    """A transactional test ends by emptying every table, the migrated exercise library included: put it
    back for the next one (the plan fixtures pick exercises from it)."""
    if not Exercise.objects.exists():
        Exercise.objects.bulk_create(
            Exercise(
                slug=e["slug"],
                name=e["name"],
                category=e["category"],
                body_region=e["body_region"],
                equipment=e["equipment"],
                instructions=e["instructions"],
            )
            for e in EXERCISES
        )


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own on a free port; the machine's shared one is never touched."""
    try:
        server = RedisServer(tmp_path / "redis").start()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
        raise
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Publish from this process (the 'web request') to that Redis instead of running tasks in-process."""
    with broker_at(redis_server.url):
        yield redis_server


@pytest.fixture
def mail_edge(tmp_path: Path) -> MailEdge:
    return MailEdge(tmp_path / "mail")


StartWorker = Callable[..., CeleryWorker]


@pytest.fixture
def start_worker(
    live_db: str, redis_server: RedisServer, mail_edge: MailEdge, tmp_path: Path
) -> Iterator[StartWorker]:
    """Start worker processes (`beat=True` adds the sweeper); every one is killed at teardown."""
    started: list[CeleryWorker] = []

    def start(*, beat: bool = False, concurrency: int = 1, **env: str) -> CeleryWorker:
        worker = CeleryWorker(
            workdir=tmp_path / f"worker{len(started)}",
            database_url=live_db,
            broker_url=redis_server.url,
            mail_dir=mail_edge.root,
            beat=beat,
            concurrency=concurrency,
            env=env,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.shutdown()  # nothing to finish cleanly: the test is over


@pytest.fixture
def worker(start_worker: StartWorker, broker: RedisServer) -> CeleryWorker:
    """One worker with the sweeper, the way `make worker` and `make beat` run in production."""
    return start_worker(beat=True)
