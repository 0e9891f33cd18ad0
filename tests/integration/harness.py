"""Real services a test (or scripts/measure_reliability.py) starts, breaks and restarts on its own.

- `RedisServer`: a private `redis-server` on a free port, in its own process group, so a test can stop,
  pause (SIGSTOP), resume and restart it without touching the machine's shared Redis.
- `CeleryWorker`: `celery -A tests.integration.worker_app worker` (and beat with `-B` when asked) as a
  separate process group, pointed at the test database, that Redis and the SMTP edge of
  tests/mail_backends.py; killed as a group on teardown.

No pytest here: a missing service raises `ServiceUnavailable`, which the pytest fixtures turn into a
failure (CI=true) or a skip, and the measuring script into an error message.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis

ROOT = Path(__file__).resolve().parents[2]

# Short, test-friendly intervals for the worker; production defaults live in config/settings/base.py.
FAST_OUTBOX_ENV = {
    "HANDOFF_OUTBOX_SWEEP_SECONDS": "1",
    "HANDOFF_OUTBOX_STALE_SECONDS": "2",
    "HANDOFF_OUTBOX_LEASE_SECONDS": "5",
    "HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS": "1",
    "HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS": "2",
}


class ServiceUnavailable(Exception):
    """A service the real-thing tests need is missing: the caller fails (CI) or skips."""


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str = "condition", step: float = 0.05
) -> float:
    """Poll until `predicate()` is truthy; return the seconds it took. No fixed sleeps."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(step)
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """The URL of the database this process uses (pytest-django's test database), for a worker process."""
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        raise ServiceUnavailable(
            "DATABASE_URL pointing at PostgreSQL (a worker process cannot share the test's SQLite database)"
        )
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server on PATH (Debian: apt-get install redis-server)")
        self.binary = binary
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def ping(self) -> bool:
        try:
            return bool(self.client(0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self.ping, 10, f"redis-server on port {self.port} answering")
        except AssertionError as exc:
            self.stop()
            raise ServiceUnavailable(f"redis-server to start ({exc})") from exc
        return self

    def stop(self) -> None:
        """Down hard: SIGKILL, the way a crashed or unreachable broker looks to a client."""
        if self.process is not None:
            if self.paused:
                self.resume()
            _kill_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> RedisServer:
        """Back on the same port, empty (no persistence): whatever it held is lost, as after a crash."""
        self.stop()
        return self.start()

    def pause(self) -> None:
        assert self.process is not None
        _kill_group(self.process, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.process is not None
        _kill_group(self.process, signal.SIGCONT)
        self.paused = False

    def queue_length(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))


class CeleryWorker:
    """One `celery worker` process group. Its task starts and ends are appended to `tasks.jsonl`.

    `supervised` (the default) restarts the worker when it exits on its own, as systemd's
    `Restart=always` or a container's restart policy does in production: when Redis disappears while
    the worker holds unacknowledged messages (acks_late), kombu 5.7's Redis transport can end the worker
    with "Unrecoverable error: AttributeError(... 'hostname')". Each such exit is recorded in `crashes`.
    A `kill()` or `stop()` by the test is not a crash and is not restarted.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        broker_url: str,
        mail_dir: Path,
        beat: bool = False,
        concurrency: int = 1,
        env: Mapping[str, str] | None = None,
        supervised: bool = True,
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "worker.log"
        self.task_log = workdir / "tasks.jsonl"
        self.beat = beat
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "False",
            "DATABASE_URL": database_url,
            "REDIS_URL": broker_url,
            "HANDOFF_VAR_DIR": str(workdir / "var"),
            "DJANGO_EMAIL_BACKEND": "tests.mail_backends.EdgeBackend",
            "HANDOFF_TEST_MAIL_DIR": str(mail_dir),
            "HANDOFF_TASK_LOG": str(self.task_log),
            "PYTHONUNBUFFERED": "1",
            **FAST_OUTBOX_ENV,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.crashes: list[str] = []  # why the worker exited on its own, one entry per restart
        self.supervised = supervised
        self._lock = threading.RLock()
        self._watcher: threading.Thread | None = None
        self._log_offset = 0

    def start(self, timeout: float = 60) -> CeleryWorker:
        with self._lock:
            self._start(timeout)
        if self.supervised and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
            self._watcher.start()
        return self

    def _watch(self) -> None:
        while self.supervised:
            with self._lock:
                process = self.process
                if process is not None and process.poll() is not None:
                    reasons = [
                        line
                        for line in self.log_text(self._log_offset).splitlines()
                        if "Unrecoverable error" in line
                    ]
                    self.crashes.append(reasons[0] if reasons else f"exit code {process.returncode}")
                    self.kill()
                    try:
                        self._start(60)
                    except AssertionError as exc:
                        self.crashes.append(f"restart failed: {exc}")
            time.sleep(0.2)

    def shutdown(self) -> None:
        """Stop supervising and kill the worker: the end of a test."""
        self.supervised = False
        self.kill()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _start(self, timeout: float) -> None:
        self.starts += 1
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.integration.worker_app",
            "worker",
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
        ]
        if self.beat:
            command += ["-B", "--schedule", str(self.workdir / f"beat-schedule-{self.starts}")]
        offset = self.log.stat().st_size if self.log.exists() else 0
        self._log_offset = offset
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the Celery worker exited with {self.process.returncode}")
            return "ready." in self.log_text(offset)

        try:
            wait_for(ready, timeout, "the Celery worker ready", step=0.1)
        except AssertionError as exc:
            tail = self.log_text()[-3000:]
            self.kill()
            raise AssertionError(f"{exc}\n--- worker log\n{tail}") from exc

    def log_text(self, offset: int = 0) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def task_events(self, name: str | None = None) -> list[dict[str, Any]]:
        if not self.task_log.exists():
            return []
        rows = [json.loads(line) for line in self.task_log.read_text().splitlines() if line.strip()]
        return [row for row in rows if name is None or row["task"].endswith(name)]

    def outcomes(self, message_id: int) -> list[str]:
        """The return values of every finished deliver_outbox_message run for one outbox row."""
        return [
            row["retval"]
            for row in self.task_events("deliver_outbox_message")
            if row["event"] == "end" and row["args"] == [message_id]
        ]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for whatever is left of the group."""
        with self._lock:
            if self.process is None:
                return
            if self.process.poll() is None:
                _kill_group(self.process, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=15)
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole group: main process, pool children and beat, with no chance to clean up."""
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        if self.process is None:
            return
        _kill_group(self.process, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        # the group may outlive its leader for a moment; wait until no member is left
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            _kill_group(self.process, signal.SIGKILL)
            time.sleep(0.05)
        self.process = None
