"""`make prod-local`: the production layout on one machine, with the production settings.

    make prod-local                                  # = .venv/bin/python scripts/prod_local.py
    python scripts/prod_local.py --port 8100 --seed --database-url postgres://postgres@127.0.0.1:5432/mine

What it starts (docs/deployment.md "Run the production layout locally"), each process in a session of its
own, its pid in RUN_DIR/<name>.pid and its output in RUN_DIR/<name>.log:

- gunicorn with 3 sync workers on 127.0.0.1:PORT (the options of deploy/systemd/handoff-web.service);
- two `celery worker` processes, w1@%h and w2@%h, one pool process each: two whole workers, so that killing
  one (its main process or its group) leaves the other delivering, as with two worker hosts;
- one `celery beat` (the outbox sweep, the timers, the daily reviews);
- against the PostgreSQL database of --database-url (created when missing; --fresh drops it first,
  migrated, the exercise library loaded, the static files collected) and the Redis of --redis-url.

All with DJANGO_SETTINGS_MODULE=config.settings.production. A process that exits is started again after
5 s, as the units' `Restart=always` / `RestartSec=5` do. Ctrl-C (or SIGTERM) stops them all: SIGTERM to
each process group (warm shutdowns), SIGKILL to whatever is left after 30 s.

Relaxed, because a local run cannot have it, and printed at the start (RELAXED below): HTTPS (no TLS
terminates here: HANDOFF_INSECURE_LOCAL_HTTP=1 turns off the https redirect, HSTS and the secure-only
cookies, config/settings/production.py), the secrets (a dummy DJANGO_SECRET_KEY and HANDOFF_TOTP_KEYS made
for this run directory, RUN_DIR/secrets.env, mode 0600, never committed: var/ is ignored), and email (the
console, into the workers' logs, unless --smtp HOST:PORT names a local SMTP sink). `--seed` loads the demo
data (seed_demo refuses the production settings: it runs with config.settings.local on the same database
and Redis). Anything else in the environment reaches every process (HANDOFF_OUTBOX_* for short sweeps).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SETTINGS = "config.settings.production"

# The layout (tests/test_prod_local.py keeps docs/deployment.md in step with it).
GUNICORN_WORKERS = 3
CELERY_WORKERS = ("w1", "w2")
WORKER_CONCURRENCY = 1
BEATS = 1
RESTART_SECONDS = 5  # the units' RestartSec
STOP_SECONDS = 30  # then SIGKILL

RELAXED = (
    "HTTPS: served over plain http://127.0.0.1 (HANDOFF_INSECURE_LOCAL_HTTP=1: no https redirect, no HSTS, "
    "cookies not secure-only)",
    "secrets: a dummy DJANGO_SECRET_KEY and HANDOFF_TOTP_KEYS made for this run directory (secrets.env)",
    "email: {email}",
)


@dataclass
class Service:
    name: str
    argv: list[str]
    ready_text: str  # in its log once it serves
    ready_count: int = 1  # that many times (gunicorn: one "Booting worker" a worker)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exited_at: float | None = None
    log_offset: int = field(default=0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROD_LOCAL_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/handoff_prod_local",
        help="a PostgreSQL database (created when missing); default handoff_prod_local on 127.0.0.1",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "prod-local")
    parser.add_argument("--smtp", default="", help="HOST:PORT of a local SMTP sink (default: the console)")
    parser.add_argument("--seed", action="store_true", help="load the demo data (seed_demo)")
    parser.add_argument("--fresh", action="store_true", help="drop the database and the secrets first")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a port number")
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must name a PostgreSQL database (postgres://...)")
    if args.smtp and not args.smtp.rpartition(":")[2].isdigit():
        parser.error("--smtp must be HOST:PORT")
    return args


def say(message: str) -> None:
    print(f"prod-local: {message}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the database when missing (drop it first with --fresh), through the server's `postgres`."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("prod-local: --database-url names no database")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"prod-local: cannot reach PostgreSQL at {parts.hostname}:{parts.port}: {exc}"
        ) from exc
    with connection:
        if fresh:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"created the database {name}")


def secrets_for(run_dir: Path, *, fresh: bool) -> dict[str, str]:
    """Dummy secrets for this run directory, kept so that the TOTP devices stay readable across restarts."""
    path = run_dir / "secrets.env"
    if fresh or not path.exists():
        values = {
            "DJANGO_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(48)).decode(),
            "HANDOFF_TOTP_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),  # a Fernet key
        }
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def environment(args: argparse.Namespace) -> dict[str, str]:
    site = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        **secrets_for(args.run_dir, fresh=args.fresh),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HANDOFF_SITE_URL": site,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "HANDOFF_VAR_DIR": str(args.run_dir / "var"),
        "HANDOFF_INSECURE_LOCAL_HTTP": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CACHE_URL", None)
    if args.smtp:
        host, _, port = args.smtp.rpartition(":")
        env.update(
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=host or "127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS="False",
        )
    else:
        env["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.console.EmailBackend"
    return env


def manage(env: dict[str, str], *command: str) -> None:
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - this virtualenv's Python and this repository's manage.py
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"prod-local: manage.py {' '.join(command)} failed ({result.returncode})")
    say(f"manage.py {command[0]} done in {time.monotonic() - started:.1f} s")


def static_stale() -> bool:
    """collectstatic compresses every file again (half a minute on two cores): only when something changed
    since the last run, the project's static/ or the installed packages (their lock)."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [ROOT / "requirements.txt", *(p for p in (ROOT / "static").rglob("*") if p.is_file())]
    return any(p.stat().st_mtime > built for p in sources)


def services(args: argparse.Namespace) -> list[Service]:
    run_dir = args.run_dir
    web = Service(
        "web",
        [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{args.port}",
            f"--workers={GUNICORN_WORKERS}",
            "--timeout=30",
            "--graceful-timeout=30",
            "--access-logfile=-",
        ],
        "Booting worker",
        ready_count=GUNICORN_WORKERS,
    )
    workers = [
        Service(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={WORKER_CONCURRENCY}",
                "-n",
                f"{name}@%h",
            ],
            " ready.",
        )
        for name in CELERY_WORKERS
    ]
    beat = Service(
        "beat",
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            f"--schedule={run_dir / 'celerybeat-schedule'}",
        ],
        "beat: Starting",
    )
    return [web, *workers, beat]


def log_path(run_dir: Path, service: Service) -> Path:
    return run_dir / f"{service.name}.log"


def start(service: Service, env: dict[str, str], run_dir: Path) -> int:
    log = log_path(run_dir, service)
    service.log_offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        service.process = subprocess.Popen(  # noqa: S603 - this virtualenv's gunicorn and celery
            service.argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    service.starts += 1
    service.exited_at = None
    (run_dir / f"{service.name}.pid").write_text(f"{service.process.pid}\n")
    return service.process.pid


def is_ready(service: Service, run_dir: Path) -> bool:
    with log_path(run_dir, service).open("rb") as log:
        log.seek(service.log_offset)
        return log.read().count(service.ready_text.encode()) >= service.ready_count


def tail(path: Path, size: int = 3000) -> str:
    data = path.read_bytes() if path.exists() else b""
    return data[-size:].decode(errors="replace")


def signal_group(service: Service, sig: int) -> None:
    if service.process is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(service.process.pid, sig)


def stop_all(running: list[Service], run_dir: Path) -> None:
    for service in running:
        signal_group(service, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for service in running:
        if service.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for service in running:
        signal_group(service, signal.SIGKILL)  # what is left of the group: pool children, a hung worker
        if service.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=5)
        (run_dir / f"{service.name}.pid").unlink(missing_ok=True)


def wait_ready(running: list[Service], run_dir: Path, base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = list(running)
    while pending:
        for service in list(pending):
            if service.process is None or service.process.poll() is not None:
                code = service.process.returncode if service.process is not None else None
                raise SystemExit(
                    f"prod-local: {service.name} exited with {code} while starting\n"
                    f"--- {log_path(run_dir, service)}\n{tail(log_path(run_dir, service))}"
                )
            if is_ready(service, run_dir) and (service.name != "web" or answers(base)):
                pending.remove(service)
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise SystemExit(f"prod-local: not ready within {timeout:.0f} s: {names} (logs in {run_dir})")
        time.sleep(0.2)


def answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/login/", timeout=2) as response:  # noqa: S310 - our http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Stop(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.run_dir = args.run_dir.resolve()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    if not port_free(args.port):
        raise SystemExit(f"prod-local: port {args.port} on 127.0.0.1 is taken (--port or PORT=another)")
    base = f"http://127.0.0.1:{args.port}"
    env = environment(args)
    email = f"SMTP to {args.smtp}" if args.smtp else "the console (the workers' logs: w1.log, w2.log)"
    say(f"the production settings ({SETTINGS}), relaxed only where a local run cannot have them:")
    for line in RELAXED:
        say("  relaxed " + line.format(email=email))
    ensure_database(args.database_url, fresh=args.fresh)
    manage(env, "migrate", "--noinput")
    manage(env, "library_load")
    if static_stale():
        manage(env, "collectstatic", "--noinput", "--verbosity=0")
    else:
        say("static files up to date (staticfiles/staticfiles.json newer than static/ and the lock)")
    if args.seed:
        manage(
            {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "False"}, "seed_demo"
        )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    running: list[Service] = []
    try:
        for service in services(args):
            start(service, env, args.run_dir)
            running.append(service)
        wait_ready(running, args.run_dir, base)
        pids = ", ".join(f"{s.name} {s.process.pid}" for s in running if s.process is not None)
        say(
            f"ready at {base}/ ({GUNICORN_WORKERS} gunicorn workers, {len(CELERY_WORKERS)} celery workers, "
            f"{BEATS} beat; pids {pids}); logs and pid files in {args.run_dir}; Ctrl-C stops everything"
        )
        while True:
            time.sleep(0.5)
            for service in running:
                code = service.process.poll() if service.process is not None else None
                if code is None:
                    continue
                now = time.monotonic()
                if service.exited_at is None:
                    service.exited_at = now
                    signal_group(service, signal.SIGKILL)  # pool children of a killed main process
                    say(f"{service.name} exited ({code}); started again in {RESTART_SECONDS} s")
                elif now - service.exited_at >= RESTART_SECONDS:
                    pid = start(service, env, args.run_dir)
                    say(f"{service.name} started again (pid {pid})")
    except Stop as stop:
        say(f"{stop}: stopping every process")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(running, args.run_dir)
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
