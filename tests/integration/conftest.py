"""Real services for integration tests: PostgreSQL (the test database), Redis, a Celery worker process.

Outside CI a missing service skips these tests with the reason; with CI=true it fails them: CI must
prove the real thing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from tests.celery_switch import broker_at

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"integration test needs {reason} (CI=true: not skipping)")
    pytest.skip(f"needs {reason}")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        unavailable("REDIS_URL pointing at a running Redis")
    # a database of its own, so the test never sees or leaves another run's messages
    url = url.rsplit("/", 1)[0] + "/13"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        unavailable(f"Redis at {url} ({exc})")
    return url


@pytest.fixture
def postgres(transactional_db: Any) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        unavailable("DATABASE_URL pointing at PostgreSQL (a worker process cannot see an in-memory SQLite)")
    return dict(connection.settings_dict)


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """Publish from this process to Redis instead of running tasks in-process."""
    with broker_at(redis_url):
        yield redis_url


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], mail_dir: Path, log: Path) -> None:
        self.process, self.mail_dir, self.log = process, mail_dir, log

    def mails(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        return sorted(p.read_text() for p in self.mail_dir.iterdir())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def worker(broker: str, postgres: dict[str, Any], tmp_path: Path) -> Iterator[Worker]:
    """`celery -A config worker` as `make worker` runs it, against the test database and the test broker."""
    db = postgres
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DATABASE_URL": database_url,
        "REDIS_URL": broker,
        "HANDOFF_VAR_DIR": str(tmp_path),
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the Celery worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    running = Worker(process, tmp_path / "mail", log)
    yield running
    running.stop()
