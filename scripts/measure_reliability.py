"""Measure the notification pipeline against the real services and write docs/reliability.md.

    make reliability                       # = .venv/bin/python scripts/measure_reliability.py
    python scripts/measure_reliability.py --sends 50 --out docs/reliability.md --skip-production

Needs DATABASE_URL pointing at PostgreSQL (a throwaway database `<name>_reliability` is created and
dropped, never the one named) and `redis-server` on PATH (a private one is started on a free port; the
machine's Redis is not touched). Workers are real `celery worker` processes with beat, started by the
harness of the integration tests (tests/integration/harness.py); the only stand-in is the SMTP server
(tests/mail_backends.EdgeBackend, which stamps the time each email is handed over).

What it measures:
- latency: N discharges, one after the other, each waited for: commit -> task start, commit -> email
  handed to the mail backend (p50, p95, max);
- recovery after each fault, with the short test intervals of the integration tests and, unless
  --skip-production, with the production defaults of config/settings/base.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from accounts.models import User  # noqa: E402
from referrals.care.models import Consent, TreatmentPlan  # noqa: E402
from referrals.handoffs import sending as handoffs_sending  # noqa: E402
from referrals.notify.models import OutboxMessage  # noqa: E402
from tests import factories  # noqa: E402
from tests.celery_switch import broker_at  # noqa: E402
from tests.conftest import make_physio, make_trainer  # noqa: E402
from tests.integration.harness import (  # noqa: E402
    FAST_OUTBOX_ENV,
    CeleryWorker,
    RedisServer,
    ServiceUnavailable,
    database_url,
    wait_for,
)
from tests.mail_backends import MailEdge  # noqa: E402

f: Any = factories  # factory_boy has no type information

# The production defaults (config/settings/base.py), spelled out so the run does not depend on whatever
# HANDOFF_OUTBOX_* the caller's shell may export.
PRODUCTION_OUTBOX_ENV = {
    "HANDOFF_OUTBOX_SWEEP_SECONDS": "15",
    "HANDOFF_OUTBOX_STALE_SECONDS": "30",
    "HANDOFF_OUTBOX_LEASE_SECONDS": "90",
    "HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS": "5",
    "HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS": "900",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


@dataclass
class Lab:
    """The running parts of one profile: a private Redis, one worker with beat, the SMTP edge."""

    root: Path
    db_url: str
    profile: dict[str, str]
    redis: RedisServer = field(init=False)
    mail: MailEdge = field(init=False)
    worker: CeleryWorker = field(init=False)
    physio: User = field(init=False)
    sends: list[tuple[str, int]] = field(default_factory=list)  # (recipient, emails expected)
    clinic: Any = field(init=False)
    gym: Any = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.mail = MailEdge(self.root / "mail")

    @contextmanager
    def running(self) -> Iterator[Lab]:
        self.redis = RedisServer(self.root / "redis").start()
        self.worker = CeleryWorker(
            workdir=self.root / "worker",
            database_url=self.db_url,
            broker_url=self.redis.url,
            mail_dir=self.mail.root,
            beat=True,
            concurrency=2,
            env=self.profile,
        )
        try:
            with broker_at(self.redis.url):
                self.worker.start()
                yield self
        finally:
            self.worker.shutdown()
            self.redis.stop()

    def case(self) -> tuple[TreatmentPlan, User]:
        """A fresh plan ready to send (consent for the gym) and a trainer with a free place."""
        self.count += 1
        patient = f.PatientFactory(clinic=self.clinic)
        plan = f.PlanFactory(patient=patient, physiotherapist=self.physio)
        f.PlanExerciseFactory(plan=plan, position=0)
        f.RedFlagFactory(plan=plan)
        f.ConsentFactory(
            patient=patient, gym=self.gym, recorded_by=self.physio, scope=Consent.Scope.GUIDELINES
        )
        return plan, make_trainer(self.gym)

    def setup_people(self) -> None:
        self.clinic = f.ClinicFactory()
        self.gym = f.GymFactory()
        f.PartnershipFactory(clinic=self.clinic, gym=self.gym)
        self.physio = make_physio(self.clinic)

    def discharge(self) -> Sent:
        plan, trainer = self.case()
        committed: list[float] = []
        started = time.monotonic()
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.time()))
            handoff = handoffs_sending.plan_discharge(
                plan=plan, trainer=trainer, gym=self.gym, actor=self.physio
            )
        took = time.monotonic() - started
        row = OutboxMessage.objects.get(event__handoff=handoff)
        self.sends.append((trainer.email, 1))
        return Sent(row_id=row.pk, to=trainer.email, committed_at=committed[0], request_seconds=took)

    def email_time(self, sent: Sent, timeout: float) -> float:
        wait_for(lambda: self.mail.sent(to=sent.to), timeout, f"the email to {sent.to}", step=0.02)
        emails = self.mail.sent(to=sent.to)
        if len(emails) != 1:
            raise AssertionError(f"{len(emails)} emails to {sent.to}")
        return float(emails[0]["t"])

    def check_once(self) -> None:
        """After two more sweeps, every recipient has exactly the emails owed: none lost, none twice."""
        sweep = float(self.profile["HANDOFF_OUTBOX_SWEEP_SECONDS"])

        def ends() -> list[dict[str, Any]]:
            return [e for e in self.worker.task_events("sweep_outbox") if e["event"] == "end"]

        before = len(ends())
        wait_for(lambda: len(ends()) >= before + 2, 3 * sweep + 30, "two more sweeps")
        for to, expected in self.sends:
            got = len(self.mail.sent(to=to))
            if got != expected:
                raise AssertionError(f"{got} emails to {to}, expected {expected}")

    def task_start(self, sent: Sent) -> float:
        starts = [
            e["t"]
            for e in self.worker.task_events("deliver_outbox_message")
            if e["event"] == "start" and e["args"] == [sent.row_id]
        ]
        return float(min(starts))


@dataclass
class Sent:
    row_id: int
    to: str
    committed_at: float
    request_seconds: float


@dataclass
class Fault:
    name: str
    measured: str  # what "recovery" is measured from
    recovery: float
    request: float | None = None
    detail: str = ""


def latency(lab: Lab, n: int) -> dict[str, list[float]]:
    to_task, to_email, request = [], [], []
    for _ in range(n):
        sent = lab.discharge()
        emailed = lab.email_time(sent, 30)
        to_task.append(lab.task_start(sent) - sent.committed_at)
        to_email.append(emailed - sent.committed_at)
        request.append(sent.request_seconds)
    return {"task": to_task, "email": to_email, "request": request}


def redis_down(lab: Lab, timeout: float) -> Fault:
    lab.redis.stop()
    sent = lab.discharge()
    time.sleep(5)  # the outage
    lab.redis.start()
    back = time.time()
    emailed = lab.email_time(sent, timeout)
    return Fault(
        "Redis down when the PT sends (5 s outage)", "Redis back", emailed - back, sent.request_seconds
    )


def redis_outages(lab: Lab, timeout: float, n: int = 10) -> Fault:
    """Back-to-back 2 s outages, each with a send: how often the worker itself falls over."""
    recoveries = []
    for _ in range(n):
        lab.redis.stop()
        sent = lab.discharge()
        time.sleep(2)
        lab.redis.start()
        back = time.time()
        recoveries.append(lab.email_time(sent, timeout) - back)
    return Fault(
        f"Redis down {n} times in a row (2 s each, one send each)",
        "Redis back",
        max(recoveries),
        detail=f"recovery p50 {percentile(recoveries, 50):.1f} s, the worst shown",
    )


def redis_paused(lab: Lab, timeout: float) -> Fault:
    lab.redis.pause()
    paused = time.monotonic()
    try:
        sent = lab.discharge()
    finally:
        time.sleep(max(0.0, 6 - (time.monotonic() - paused)))
        lab.redis.resume()
    resumed = time.time()
    emailed = lab.email_time(sent, timeout)
    return Fault(
        "Redis paused (SIGSTOP) for 6 s during the send", "SIGCONT", emailed - resumed, sent.request_seconds
    )


def in_flight(lab: Lab) -> Sent:
    lab.mail.control(delay=120)
    sent = lab.discharge()
    wait_for(lambda: lab.mail.attempts(to=sent.to), 30, "the delivery in flight")
    return sent


def worker_killed(lab: Lab, timeout: float) -> Fault:
    sent = in_flight(lab)
    lab.worker.kill()
    killed = time.time()
    lab.mail.control(delay=0)
    lab.worker.start()
    restarted = time.time() - killed
    emailed = lab.email_time(sent, timeout)
    return Fault(
        "Whole worker SIGKILLed mid-delivery, restarted at once",
        "SIGKILL",
        emailed - killed,
        detail=f"worker back up after {restarted:.1f} s",
    )


def child_killed(lab: Lab, timeout: float) -> Fault:
    sent = in_flight(lab)
    os.kill(int(lab.mail.attempts(to=sent.to)[0]["pid"]), signal.SIGKILL)
    killed = time.time()
    lab.mail.control(delay=0)
    emailed = lab.email_time(sent, timeout)
    return Fault("Pool child SIGKILLed mid-delivery", "SIGKILL", emailed - killed)


def smtp_transient(lab: Lab, timeout: float) -> Fault:
    lab.mail.control(fail_next=2)
    sent = lab.discharge()
    emailed = lab.email_time(sent, timeout)
    return Fault("SMTP fails twice, then accepts", "commit", emailed - sent.committed_at, detail="3 attempts")


def smtp_permanent(lab: Lab, timeout: float) -> Fault:
    lab.mail.control(fail_always=True)
    sent = lab.discharge()

    def failed() -> bool:
        return OutboxMessage.objects.get(pk=sent.row_id).status == OutboxMessage.Status.FAILED

    took = wait_for(failed, timeout, "the row to end failed", step=0.1)
    lab.sends[-1] = (sent.to, 0)
    lab.mail.control()
    attempts = OutboxMessage.objects.get(pk=sent.row_id).attempts
    return Fault(
        "SMTP fails every time", "commit", took, detail=f"row failed after {attempts} attempts, 0 emails"
    )


def run_profile(
    name: str,
    root: Path,
    db_url: str,
    env: dict[str, str],
    sends: int,
    faults: list[Callable[..., Fault]],
    timeout: float,
) -> tuple[dict[str, list[float]] | None, list[Fault]]:
    lab = Lab(root / name, db_url, env)
    lab.setup_people()
    results: list[Fault] = []
    lat = None
    with lab.running():
        if sends:
            print(f"[{name}] {sends} sends ...", flush=True)
            lat = latency(lab, sends)
        for fault in faults:
            print(f"[{name}] {fault.__name__} ...", flush=True)
            crashes = len(lab.worker.crashes)
            result = fault(lab, timeout)
            crashed = len(lab.worker.crashes) - crashes
            if crashed:
                note = f"the worker crashed {crashed}x (kombu) and was restarted by the supervisor"
                result.detail = f"{result.detail}; {note}" if result.detail else note
            results.append(result)
            print(f"[{name}]   {results[-1].recovery:.2f} s", flush=True)
        lab.check_once()
    return lat, results


def version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except OSError:
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def write(
    out: Path, args: argparse.Namespace, lat: dict[str, list[float]], fast: list[Fault], prod: list[Fault]
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
        pg = row[0] if row else "?"
    commit = version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else "?"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    lines = [
        "# Notification pipeline: what was measured",
        "",
        "Generated by `scripts/measure_reliability.py` (`make reliability`); do not edit by hand, rerun it.",
        "Everything is real except the SMTP server: PostgreSQL, a private `redis-server`, `celery worker`",
        "processes with beat (`--concurrency=2`), the production Celery settings. Times are wall-clock,",
        "taken in the sending process (commit), the worker (task start) and the mail backend (email handed",
        "over), all on one machine.",
        "",
        "## Machine and command",
        "",
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{commit}`",
        f"- command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        f"- machine: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"load average at the end {load[0]:.2f} (shared with other test runs)",
        f"- Python {platform.python_version()}, Celery {celery.__version__}, "
        f"{' '.join(version(['redis-server', '--version']).split()[:3])}, PostgreSQL {pg}",
        "",
        f"## Latency ({len(lat['email'])} discharges, one after the other, each waited for)",
        "",
        "| from commit to | p50 | p95 | max |",
        "|---|---|---|---|",
    ]
    for key, label in (
        ("task", "the delivery task starting in the worker"),
        ("email", "the email handed to the mail backend"),
    ):
        values = lat[key]
        lines.append(
            f"| {label} | {ms(percentile(values, 50))} | {ms(percentile(values, 95))} | {ms(max(values))} |"
        )
    req = lat["request"]
    lines += [
        "",
        f"The service call itself (transaction and the publish after commit): p50 {ms(percentile(req, 50))}, "
        f"p95 {ms(percentile(req, 95))}.",
        "",
    ]

    def table(title: str, env: dict[str, str], faults: list[Fault]) -> None:
        lines.extend(
            [
                f"## Recovery after each fault: {title}",
                "",
                "Outbox intervals: sweep every {HANDOFF_OUTBOX_SWEEP_SECONDS} s, pending rows re-enqueued "
                "after {HANDOFF_OUTBOX_STALE_SECONDS} s, lease {HANDOFF_OUTBOX_LEASE_SECONDS} s, backoff "
                "{HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS} s doubling (cap "
                "{HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS} s).".format(**env),
                "",
                "| fault | request took | email out, counted from | recovery | note |",
                "|---|---|---|---|---|",
            ]
        )
        for fault in faults:
            request = ms(fault.request) if fault.request is not None else "-"
            lines.append(
                f"| {fault.name} | {request} | {fault.measured} | {fault.recovery:.1f} s | {fault.detail} |"
            )
        lines.append("")

    table("test intervals (as in tests/integration)", FAST_OUTBOX_ENV, fast)
    if prod:
        table("production defaults", PRODUCTION_OUTBOX_ENV, prod)
        lines += [
            "A permanently failing SMTP server is not run with the production defaults: 8 attempts with",
            "backoffs of 5, 10, 20, 40, 80, 160 and 320 s end the row failed about 10.6 minutes after the",
            'commit (plus up to one sweep), where the admin\'s "failed" filter shows it.',
            "",
        ]
    lines += [
        "## Reading the figures",
        "",
        "- Every send ends with exactly one email to its recipient (none for the permanent SMTP failure),",
        "  checked after two more sweeps; the script stops with an error otherwise.",
        "- The worker runs supervised: restarted when it exits on its own, as systemd `Restart=always`",
        "  would. When Redis disappears while the worker holds unacknowledged messages (acks_late),",
        "  kombu 5.7's Redis transport sometimes ends it (`Unrecoverable error: AttributeError(...",
        "  'hostname')`); the note column says how often that happened. The outbox loses nothing, and the",
        "  restarted worker delivers; an unsupervised one would stay down (README, Operations).",
        "- A publish against a stalled Redis may still land when it resumes (the command was written",
        "  before the client gave up): the email then follows at once, and the sweeper's copy is skipped",
        "  by the claim.",
        "- A publish against a broker that is down fails within the 1 s connect timeout; against a stalled",
        "  broker within the 2 s socket timeout. The request never waits for the outage itself.",
        "- Recovery after a broker outage is the worker's reconnect, plus the rest of the row's stale age,",
        "  plus at most one sweep interval.",
        "- After the whole worker is killed mid-delivery it is the rest of the row's lease plus at most one",
        "  sweep: the broker alone would hand the unacknowledged message back only after its 300 s",
        "  visibility timeout. A pool child killed alone has its message put back at once (reject on",
        "  worker lost); the rerun claims under the same token (derived from the task id), sees the",
        "  message marked redelivered, takes over the rows its dead run held and sends them at once.",
        "",
    ]
    out.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sends", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--skip-production", action="store_true", help="only the short test intervals")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("DATABASE_URL must point at PostgreSQL (worker processes share the database).", file=sys.stderr)
        return 2
    if shutil.which("redis-server") is None:
        print("redis-server is not on PATH (Debian: apt-get install redis-server).", file=sys.stderr)
        return 2
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_reliability"
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    root = Path(tempfile.mkdtemp(prefix="handoff-reliability-"))
    ok = False
    try:
        db_url = database_url(connection.settings_dict)
        everything: list[Callable[..., Fault]] = [
            redis_down,
            redis_outages,
            redis_paused,
            worker_killed,
            child_killed,
            smtp_transient,
            smtp_permanent,
        ]
        lat, fast = run_profile("fast", root, db_url, FAST_OUTBOX_ENV, args.sends, everything, 120)
        prod: list[Fault] = []
        if not args.skip_production:
            prod_faults = [redis_down, redis_paused, worker_killed, child_killed, smtp_transient]
            _, prod = run_profile("production", root, db_url, PRODUCTION_OUTBOX_ENV, 0, prod_faults, 300)
        if lat is None:
            raise SystemExit("no latency figures")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write(args.out, args, lat, fast, prod)
        print(f"wrote {args.out}")
        ok = True
    except ServiceUnavailable as exc:
        print(f"needs {exc}", file=sys.stderr)
        return 2
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"logs of the failed run (worker, Redis, emails): {root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
