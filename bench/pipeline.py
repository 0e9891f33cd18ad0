"""The notification pipeline with a real Redis and a real Celery worker process (one, concurrency 1).

Steady: discharges at a fixed rate; for each, the time from the commit to the email handed to the mail
backend (bench.mail.RecordingBackend, one JSON line per email, stamped in the worker). Burst: with the
worker stopped, many discharges queue their deliveries; then the worker starts and drains them, and the
rate is the number of emails over the time from the first to the last. No-op: as many tasks that do
nothing but stamp the time (bench.tasks.noop), queued the same way and drained by the same worker: the
machine's limit for one worker process, measured in the same run; the burst is reported as a ratio to it
(the target a ratio, not an absolute rate: a slower shared machine lowers both).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from accounts.models import Organization, User
from bench.mail import log_path
from referrals.care import selectors as care_selectors
from referrals.handoffs import sending as handoffs_sending

QUEUE = "handoff-bench"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: the task in hand finishes
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(log: Path) -> Worker:
    celery = str(Path(sys.executable).parent / "celery")
    command = [
        celery,
        "-A",
        "config",
        "worker",
        "-c",
        "1",
        "-Q",
        QUEUE,
        "-n",
        "bench@%h",
        "-l",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--include",
        "bench.tasks",
    ]
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
        command, stdout=handle, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    worker = Worker(process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{log.read_text()[-3000:]}")
        if " ready." in log.read_text(errors="replace"):
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"the Celery worker did not start within 90 s:\n{log.read_text()[-3000:]}")


def mail_log() -> Path:
    return log_path()


def delivered() -> dict[str, float]:
    """handoff public id -> when its first email was handed to the backend."""
    found: dict[str, float] = {}
    path = mail_log()
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["handoff"] and record["handoff"] not in found:
            found[record["handoff"]] = float(record["t"])
    return found


def wait_for(wanted: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        seen = delivered()
        if wanted <= set(seen) or time.monotonic() > deadline:
            return {key: seen[key] for key in wanted if key in seen}
        time.sleep(0.25)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class Discharger:
    """Discharges the pool's plans in this process, through the service, stamping each commit."""

    def __init__(self, physio_id: int, pool: list[dict[str, Any]]) -> None:
        self.physio = User.objects.get(pk=physio_id)
        self.pool = list(pool)
        self.trainers = {
            str(u.public_id): u for u in User.objects.filter(public_id__in={e["trainer"] for e in pool})
        }
        self.gyms = {
            str(g.public_id): g for g in Organization.objects.filter(public_id__in={e["gym"] for e in pool})
        }

    def one(self) -> tuple[str, float]:
        entry = self.pool.pop(0)
        plan = care_selectors.plan_get_for_user(user=self.physio, public_id=entry["plan"])
        committed: list[float] = []
        with transaction.atomic():
            # registered first, so it runs at the commit, before the service's own publish callback
            transaction.on_commit(lambda: committed.append(time.time()))
            handoff = handoffs_sending.plan_discharge(
                plan=plan,
                trainer=self.trainers[entry["trainer"]],
                gym=self.gyms[entry["gym"]],
                actor=self.physio,
            )
        return str(handoff.public_id), committed[0]


def run(
    *,
    physio_id: int,
    pool: list[dict[str, Any]],
    rate: float,
    seconds: float,
    burst: int,
    log_dir: Path,
    say: Callable[[str], None],
) -> dict[str, Any]:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(QUEUE)
    mail_log().unlink(missing_ok=True)
    discharger = Discharger(physio_id, pool)
    result: dict[str, Any] = {"worker": "celery -A config worker -c 1 (prefork, one child process)"}

    worker = start_worker(log_dir / "worker-steady.log")
    try:
        count = int(rate * seconds)
        say(f"pipeline: {count} discharges at {rate:g}/s for {seconds:g} s")
        commits: dict[str, float] = {}
        began = time.monotonic()
        for i in range(count):
            pause = began + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            public_id, stamp = discharger.one()
            commits[public_id] = stamp
        achieved = count / (time.monotonic() - began)
        arrived = wait_for(set(commits), timeout=120)
    finally:
        worker.stop()
    latencies = [arrived[key] - commits[key] for key in arrived]
    result["steady"] = {
        "discharges": count,
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 2),
        "emails": len(arrived),
        "commit_to_email_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "commit_to_email_p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "commit_to_email_max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
    }

    say(f"pipeline: {burst} discharges queued with the worker stopped")
    mail_log().unlink(missing_ok=True)
    queued = {discharger.one()[0] for _ in range(burst)}
    worker = start_worker(log_dir / "worker-burst.log")
    started = time.time()
    try:
        arrived = wait_for(queued, timeout=max(120.0, burst / 20))
    finally:
        worker.stop()
    stamps = sorted(arrived.values())
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    result["burst"] = {
        "messages": burst,
        "emails": len(arrived),
        "first_to_last_s": round(span, 3),
        "deliveries_per_s": round((len(stamps) - 1) / span, 1) if span and span > 0 else 0.0,
        "worker_ready_to_last_s": round(stamps[-1] - started, 3) if stamps else None,
    }
    say(f"pipeline: {burst} no-op tasks queued with the worker stopped (the machine's limit)")
    result["noop"] = noop_burst(burst, log_dir)
    noop_rate = result["noop"]["tasks_per_s"]
    result["burst"]["ratio_to_noop"] = (
        round(result["burst"]["deliveries_per_s"] / noop_rate, 2) if noop_rate else 0.0
    )
    return result


def noop_burst(count: int, log_dir: Path) -> dict[str, Any]:
    """`count` no-op tasks queued with the worker stopped, then drained by one worker process: tasks per
    second from the first to the last stamp."""
    from bench import tasks as bench_tasks

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(bench_tasks.NOOP_STAMPS)
    for _ in range(count):
        bench_tasks.noop.apply_async(queue=QUEUE)
    worker = start_worker(log_dir / "worker-noop.log")
    deadline = time.monotonic() + max(120.0, count / 20)
    try:
        while client.llen(bench_tasks.NOOP_STAMPS) < count and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stop()
    stamps = sorted(float(raw) for raw in client.lrange(bench_tasks.NOOP_STAMPS, 0, -1))
    client.delete(bench_tasks.NOOP_STAMPS)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    return {
        "tasks": count,
        "ran": len(stamps),
        "first_to_last_s": round(span, 3),
        "tasks_per_s": round((len(stamps) - 1) / span, 1) if span > 0 else 0.0,
    }
