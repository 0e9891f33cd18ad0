"""`make bench` (python -m bench.run): build the data, serve it with gunicorn, measure, report.

1. (Re)creates the benchmark's own PostgreSQL database (never the one the tests or the app use),
   migrates it and loads the network with COPY: 1,000 handoffs first, each referral in progress or on
   hold with its session logs (20 by default, --sessions-per-referral).
2. Starts gunicorn (one sync worker, bench.settings: production's settings, DEBUG off) and measures with
   wrk, a separate process, one connection at a time: the baseline, the inbox (API and page), the
   PT home page and the PT's progress page.
3. Grows the history to the full volume (100,000 handoffs at --scale 1) and measures every endpoint:
   p50/p95/p99, requests per second, SQL queries per request (X-Bench-Queries, bench.middleware);
   then the inbox API and the baseline once more, round for round in turn, for the tracked ratio.
4. The notification pipeline with Redis and a Celery worker process (bench.pipeline), the drawing of
   the progress charts of 200 sessions (bench.charts), then the timers' sweep (bench.timers; last: its
   catch-up cancels the history's unanswered referrals).
5. Prints each target with PASS or FALLS SHORT, the change since the previous docs/benchmarks.json, and
   writes docs/benchmarks.md and docs/benchmarks.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
SMALL = 1_000  # the inbox is measured at this many handoffs, and again at the full volume
FULL = 100_000
# measured at SMALL and again at the full volume (the baseline: the machine's own drift between the two)
GROWTH_MEASURED = ("baseline", "inbox_api", "inbox_page", "pt_home", "progress_page")


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 100,000 handoffs (default); 0.05 = 5,000"
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of wrk per endpoint (default 10)"
    )
    parser.add_argument(
        "--sessions-per-referral",
        type=int,
        default=None,
        help="session logs of each referral in progress or on hold (default bench.data."
        "SESSIONS_PER_REFERRAL, 20: about a million exercise rows at --scale 1)",
    )
    parser.add_argument("--steady-seconds", type=float, default=60.0, help="pipeline: steady phase length")
    parser.add_argument("--steady-rate", type=float, default=20.0, help="pipeline: discharges per second")
    parser.add_argument("--burst", type=int, default=2_000, help="pipeline: deliveries in the burst")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff_bench_data"),
        help="the benchmark's own database: dropped and created again (BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
        help="the broker for the pipeline (BENCH_REDIS_URL); the run uses its own queue, handoff-bench",
    )
    parser.add_argument(
        "--out", default=str(ROOT / "docs"), help="where benchmarks.md/.json go (default docs/)"
    )
    return parser.parse_args(argv)


# --- processes ---------------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name) or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to recreate database {name!r}: give the benchmark a database of its own")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn, one sync worker, the benchmark's settings."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                gunicorn,
                "config.wsgi:application",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}")
            try:
                urllib.request.urlopen(f"{self.base}/login/", timeout=2).read()  # noqa: S310
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a busy machine: slow to start
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def probe(url: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, int]:
    """One request outside the load generator: (HTTP status, SQL queries the request ran)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, int(response.headers.get("X-Bench-Queries", -1))
    except urllib.error.HTTPError as exc:
        return exc.code, int(exc.headers.get("X-Bench-Queries", -1))


def wrk(
    url: str, headers: dict[str, str], seconds: float, script: str = "report.lua", **env: str
) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        "-c1",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(  # noqa: S603 - wrk, fixed arguments
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_LUA_DIR": str(BENCH), **env},
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("BENCH ") :])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": raw["socket_errors"] + raw["http_errors"],
    }


# --- the run -----------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")
            ),
            cpu,
        )
    ram_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = next(int(ln.split()[1]) for ln in meminfo.read_text().splitlines() if ln.startswith("MemTotal"))
        ram_gb = round(kb / 1024 / 1024, 1)
    from django import get_version
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg,) = cursor.fetchone() or ("?",)
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": str(pg).split()[0],
        "django": get_version(),
        "wrk": (version.stdout + version.stderr).split("\n")[0].strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse(given)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench installs it)")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        BENCH_MAIL_LOG=str(work / "mail.jsonl"),
        DATABASE_CONN_MAX_AGE="60",
    )
    full = max(SMALL + 100, round(FULL * args.scale))
    http_pool = max(400, round(60 * args.duration))
    pipeline_pool = round(args.steady_rate * args.steady_seconds) + args.burst
    say(f"database {urlsplit(args.database_url).path.lstrip('/')}: recreating; logs in {work}")
    recreate_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    from bench import charts as bench_charts
    from bench import data, pipeline, report
    from bench import timers as bench_timers

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    info = machine()

    loading = time.monotonic()
    sessions = (
        data.SESSIONS_PER_REFERRAL if args.sessions_per_referral is None else args.sessions_per_referral
    )
    builder = data.Builder(sessions_per_referral=max(0, sessions))
    net = builder.network()
    builder.focus()
    builder.discharge_pool(http_pool + pipeline_pool + 1)
    builder.history(SMALL)
    builder.finish()
    say(f"loaded {net.handoffs:,} handoffs in {time.monotonic() - loading:.1f} s")
    creds = report.credentials(net)
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": f'make bench BENCH_ARGS="{" ".join(given)}"' if given else "make bench",
        "machine": info,
        "scale": args.scale,
        "duration_s": args.duration,
        "endpoints": {},
        "growth": {},
    }
    server = Server(work / "gunicorn.log")
    try:
        endpoints = report.endpoints(server.base, net, creds)
        say(f"measuring the inbox at {net.handoffs:,} handoffs")
        small: dict[str, Any] = {}
        for name in GROWTH_MEASURED:
            small[name] = report.measure(endpoints[name], args.duration, wrk, probe)
        # growth is judged on each endpoint's ratio to the baseline, measured in turn at both volumes:
        # the machine's speed moved up to 1.7x within one run, and paired rounds do not see it
        small_pairs = {
            name: report.paired(endpoints[name], endpoints["baseline"], args.duration / 2, wrk)
            for name in GROWTH_MEASURED
            if name != "baseline"
        }
        loading = time.monotonic()
        builder.history(full)
        builder.finish()
        say(f"grew to {net.handoffs:,} handoffs in {time.monotonic() - loading:.1f} s")
        results["volume"] = data.table_counts(data.COUNTED)
        for name, endpoint in endpoints.items():
            say(f"measuring {name} at {net.handoffs:,} handoffs")
            body_file = work / "bodies.jsonl"
            if name == "discharge":
                pool = net.discharge_pool[:http_pool]
                body_file.write_text("".join(json.dumps({**e, "send": True}) + "\n" for e in pool))
            elif name == "session_post":  # the same session, logged again and again (one per request)
                body_file.write_text((json.dumps(report.session_body(net)) + "\n") * http_pool)
            results["endpoints"][name] = report.measure(
                endpoint, args.duration, wrk, probe, bodies=str(body_file)
            )
        say("measuring the inbox API and the baseline in turn (the tracked ratio)")
        results["paired"] = {
            "inbox_api": report.paired(endpoints["inbox_api"], endpoints["baseline"], args.duration, wrk)
        }
        say("measuring the inbox page and the PT home with the baseline in turn (growth)")
        full_pairs = {
            name: results["paired"].get(name)
            or report.paired(endpoints[name], endpoints["baseline"], args.duration / 2, wrk)
            for name in small_pairs
        }
        results["growth"] = {
            name: {
                "small_handoffs": SMALL,
                "full_handoffs": net.handoffs,
                "small_p50_ms": small[name]["p50_ms"],
                "full_p50_ms": results["endpoints"][name]["p50_ms"],
                "ratio": round(results["endpoints"][name]["p50_ms"] / small[name]["p50_ms"], 2),
                "small_baseline_ratio": round(small[name]["p50_ms"] / small["baseline"]["p50_ms"], 2),
                # the baseline's rows do not change with the volume: its own drift is the machine's noise
                "baseline_small_p50_ms": small["baseline"]["p50_ms"],
                "baseline_full_p50_ms": results["endpoints"]["baseline"]["p50_ms"],
                # the growth of the endpoint's ratio to the baseline, each measured in paired rounds
                "small_paired_ratio": small_pairs[name]["ratio"],
                "full_paired_ratio": full_pairs[name]["ratio"],
                "paired_ratio": round(full_pairs[name]["ratio"] / small_pairs[name]["ratio"], 2),
            }
            for name in GROWTH_MEASURED
            if name != "baseline"
        }
    finally:
        server.stop()
    results["pipeline"] = pipeline.run(
        physio_id=net.focus_physio,
        pool=net.discharge_pool[http_pool:],
        rate=args.steady_rate,
        seconds=args.steady_seconds,
        burst=args.burst,
        log_dir=work,
        say=say,
    )
    say("timing the progress charts of 200 sessions (bench.charts)")
    results["charts"] = bench_charts.measure()
    say("timing the timers' sweep: the catch-up, then with nothing due (bench.timers)")
    results["timers"] = bench_timers.measure()
    results["wall_time_s"] = round(time.monotonic() - started, 1)
    report.finish(results, Path(args.out), say)
    return 0


if __name__ == "__main__":
    sys.exit(main())
