"""End to end on the production layout (`make prod-local`, scripts/prod_local.py), with killed workers.

    .venv/bin/python .ci/prod_local_e2e.py [--database-url postgres://postgres@127.0.0.1:5432/NAME]

Starts the layout through the same script (gunicorn with 3 workers, 2 Celery workers, beat, the production
settings) on a fresh PostgreSQL database, a private redis-server (tests/integration/harness.py) and an
SMTP receiver of its own on 127.0.0.1 (the notification edge: a message counts once the receiver answered
250 to its DATA), with the demo users (--seed) and short outbox intervals (harness.FAST_OUTBOX_ENV). Then
over HTTP, pages and API:

1. the PT logs in (login page, CSRF), sets up two-factor authentication as production requires (the setup
   page's secret, a TOTP code computed here), makes an API token on the profile page; writes a patient,
   the consent for the gym and a plan through the API; reviews and sends it through the pages;
2. the trainer's email is held at the receiver (RCPT TO not answered): the Celery worker holding that SMTP
   connection is found by its socket and SIGKILLed with its process group while it owns the outbox row;
3. the trainer logs in, makes a token, opens the inbox; one gunicorn worker is SIGKILLed while it reads a
   request this script has half sent (found by its socket, a child of the master), and that request is
   retried once; then the trainer accepts on the page, logs the first session and a progress report
   through the API; the PT acknowledges the report on its page;
4. background threads keep reading pages throughout, so other requests are in flight at the kill too.

Passes when: every outbox row of the database (the demo's and the flow's) is sent, and the receiver got
exactly one email per row (recipient, subject, link), within a bounded wait; the flow's own five emails are
among them; no HTTP 5xx and no connection error, except requests in flight to the killed gunicorn worker
(retried once, counted and printed); the killed Celery worker was started again by the script. Prints a
summary with timings. Tears everything down whatever happens. Takes about a minute; at most ~3.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import email
import email.policy
import hashlib
import hmac
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.harness import FAST_OUTBOX_ENV, RedisServer, free_port, wait_for  # noqa: E402

PASSWORD = os.environ.get("HANDOFF_DEMO_PASSWORD", "handoff-demo-2026")
PT, TRAINER = "pt@lakeside.demo", "trainer@ironworks.demo"
STARTED = time.monotonic()
TIMINGS: list[tuple[str, float]] = []


class Failed(Exception):
    pass


def log(message: str) -> None:
    print(f"e2e [{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def mark(step: str) -> None:
    TIMINGS.append((step, time.monotonic() - STARTED))
    log(step)


# --- the SMTP receiver ---------------------------------------------------------------------------------


class Receiver(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.aborted = 0  # connections that ended before their DATA was accepted
        self.hold = threading.Event()  # set: RCPT TO is not answered until released
        self.release = threading.Event()
        self.held_ports: list[int] = []  # the client ports of the connections being held

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class SmtpSession(socketserver.StreamRequestHandler):
    server: Receiver

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        accepted = False
        try:
            self.reply("220 prod-local-e2e ESMTP")
            while True:
                raw = self.rfile.readline()
                if not raw:
                    break
                verb = raw.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.reply("250-prod-local-e2e")
                    self.reply("250 8BITMIME")
                elif verb in ("HELO", "MAIL", "RSET", "NOOP"):
                    self.reply("250 OK")
                elif verb == "RCPT":
                    if self.server.hold.is_set():
                        with self.server.lock:
                            self.server.held_ports.append(self.client_address[1])
                        self.server.release.wait(60)
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        line = self.rfile.readline()
                        if not line:
                            raise ConnectionError("the client went away inside DATA")
                        if line in (b".\r\n", b".\n"):
                            break
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    self.store(b"".join(lines))
                    accepted = True
                    self.reply("250 OK: queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    break
                else:
                    self.reply("502 Command not implemented")
        except (ConnectionError, OSError):
            if not accepted:
                with self.server.lock:
                    self.server.aborted += 1

    def store(self, data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        link = re.search(r"/handoffs/([0-9a-f-]{36})/", text)
        with self.server.lock:
            self.server.messages.append(
                {
                    "to": str(message["To"]),
                    "subject": str(message["Subject"]),
                    "handoff": link.group(1) if link else None,
                    "t": time.monotonic() - STARTED,
                }
            )


# --- which process holds a socket ----------------------------------------------------------------------


def socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the TCP socket 127.0.0.1:local_port -> :remote_port on this machine (/proc/net/tcp)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == local_port and (
                    int(remote.rsplit(":", 1)[1], 16) == remote_port
                ):
                    return inode
    return None


def pid_holding(inode: str, candidates: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in candidates:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
    return None


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry)) == pgid:
                    members.append(int(entry))
    return members


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as listed:
        return [int(p) for p in listed.read().split()]
    return []


# --- HTTP ----------------------------------------------------------------------------------------------


class Http:
    """Every request through here: 5xx and connection errors are recorded; a connection error within a
    second of a gunicorn worker kill is a request in flight to the killed worker: retried once, counted."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.lock = threading.Lock()
        self.requests = 0
        self.server_errors: list[str] = []
        self.connection_errors: list[str] = []
        self.killed_worker_retries: list[str] = []
        self.kill_times: list[float] = []

    def near_kill(self, started: float, ended: float) -> bool:
        return any(started - 0.5 <= t <= ended + 0.5 for t in self.kill_times)

    def open(
        self,
        opener: urllib.request.OpenerDirector,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        retried: bool = False,
    ) -> tuple[int, str, str]:
        request = urllib.request.Request(  # noqa: S310 - the layout's http address
            self.base + path, data=data, headers=headers or {}, method=method
        )
        started = time.monotonic()
        with self.lock:
            self.requests += 1
        try:
            with opener.open(request, timeout=30) as answer:
                status, url, body = answer.status, answer.geturl(), answer.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, url, body = exc.code, exc.geturl(), exc.read().decode(errors="replace")
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            what = f"{method or ('POST' if data else 'GET')} {path}: {type(exc).__name__}: {exc}"
            with self.lock:
                if not retried and self.near_kill(started, time.monotonic()):
                    self.killed_worker_retries.append(what)
                    retry = True
                else:
                    self.connection_errors.append(what)
                    retry = False
            if retry:
                log(f"in flight to the killed gunicorn worker, retried once: {what}")
                return self.open(opener, path, data, headers, method, retried=True)
            raise Failed(f"connection error: {what}") from exc
        if status >= 500:
            with self.lock:
                self.server_errors.append(f"{status} {path}")
            raise Failed(f"{status} from {path}: {body[:500]}")
        return status, url, body


class User:
    def __init__(self, http_: Http, email_address: str) -> None:
        self.http = http_
        self.email = email_address
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""

    def page(self, path: str, expect: int = 200) -> tuple[str, str]:
        status, url, body = self.http.open(self.opener, path)
        if status != expect:
            raise Failed(f"{self.email}: GET {path} answered {status}: {body[:300]}")
        return url, body

    def form(
        self, path: str, fields: dict[str, str], page: str | None = None, expect: int = 200
    ) -> tuple[str, str]:
        """POST a form the way a browser does: the CSRF token from the page that shows it."""
        _, shown = self.page(page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown)
        if token is None:
            raise Failed(f"no CSRF token on {page or path}")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}).encode()
        status, url, body = self.http.open(
            self.opener, path, data=data, headers={"Referer": self.http.base + (page or path)}
        )
        if status != expect:
            raise Failed(f"{self.email}: POST {path} answered {status}: {body[:800]}")
        return url, body

    def api(self, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        opener = urllib.request.build_opener()
        status, _, text = self.http.open(opener, "/api/v1" + path, data=data, headers=headers)
        if status != expect:
            raise Failed(f"{self.email}: API {path} answered {status} (not {expect}): {text[:800]}")
        parsed: dict[str, Any] = json.loads(text or "{}")
        return parsed

    def login(self) -> str:
        url, body = self.form("/login/", {"username": self.email, "password": PASSWORD})
        if "Log out" not in body:
            raise Failed(f"{self.email}: login failed, ended at {url}")
        return url

    def make_token(self) -> None:
        _, body = self.form("/account/profile/", {"name": "prod-local e2e"})
        shown = re.search(r'data-testid="new-token">([^<]+)<', body)
        if shown is None:
            raise Failed(f"{self.email}: the profile page showed no new API token")
        self.token = shown.group(1)


def totp(secret_base32: str, at: float | None = None) -> str:
    """RFC 6238 (django-otp's defaults: SHA-1, 30 s, 6 digits)."""
    plain = secret_base32.replace(" ", "").upper()
    key = base64.b32decode(plain + "=" * (-len(plain) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at if at is not None else time.time()) // 30), hashlib.sha1)
    raw = digest.digest()
    offset = raw[-1] & 0x0F
    return f"{(struct.unpack('>I', raw[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


# --- the database (what is owed) -----------------------------------------------------------------------

OWED_SQL = """
SELECT u.email, COALESCE(n.title, ''), th.public_id::text, o.status,
       o.next_attempt_at > now() + interval '60 s', o.attempts
FROM referrals_outboxmessage o
JOIN accounts_user u ON u.id = o.recipient_id
LEFT JOIN referrals_handoffevent e ON e.id = o.event_id
LEFT JOIN referrals_trainerhandoff th ON th.id = COALESCE(o.handoff_id, e.handoff_id)
LEFT JOIN referrals_notification n ON n.source_key = o.source_key AND n.recipient_id = o.recipient_id
"""


def owed(database_url: str) -> list[tuple[str, str, str | None, str, bool, int]]:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), connect_timeout=5) as db:
        return [tuple(row) for row in db.execute(OWED_SQL).fetchall()]  # type: ignore[misc]


# --- the run -------------------------------------------------------------------------------------------


class Layout:
    def __init__(self, run_dir: Path, argv: list[str], env: dict[str, str]) -> None:
        self.run_dir = run_dir
        self.log_path = run_dir / "prod_local.out"
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - this repository's script
            [sys.executable, str(ROOT / "scripts" / "prod_local.py"), *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def stop(self) -> None:
        """The script's own Ctrl-C path (SIGTERM), then SIGKILL to whatever is left of every group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=45)
        for name in ("web", "w1", "w2", "beat"):
            with contextlib.suppress(OSError, ValueError):
                os.killpg(self.pid(name), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def background_reader(http_: Http, stop: threading.Event, errors: list[str]) -> None:
    opener = urllib.request.build_opener()
    while not stop.is_set():
        try:
            http_.open(opener, "/login/")
        except Failed as exc:
            errors.append(str(exc))
        time.sleep(0.02)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, name="smtp", daemon=True).start()
    redis = RedisServer(workdir / "redis").start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    http_ = Http(base)
    run_dir = workdir / "run"
    run_dir.mkdir()
    env = {**os.environ, **FAST_OUTBOX_ENV, "HANDOFF_DEMO_PASSWORD": PASSWORD}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    layout = Layout(
        run_dir,
        [
            "--port",
            str(port),
            "--database-url",
            args.database_url,
            "--redis-url",
            redis.url,
            "--run-dir",
            str(run_dir),
            "--smtp",
            f"127.0.0.1:{receiver.port}",
            "--seed",
            "--fresh",
        ],
        env,
    )
    stop_readers = threading.Event()
    reader_errors: list[str] = []
    try:
        mark("starting the layout (scripts/prod_local.py --seed --fresh)")

        def ready() -> bool:
            if layout.process.poll() is not None:
                raise Failed(f"scripts/prod_local.py exited with {layout.process.returncode}")
            return "prod-local: ready at" in layout.output()

        wait_for(ready, 150, "the layout ready", step=0.2)
        relaxed = [line for line in layout.output().splitlines() if "relaxed" in line]
        if len(relaxed) < 3:
            raise Failed("the script did not print what it relaxes")
        mark("layout ready")
        web = layout.pid("web")
        gunicorn_workers = children(web)
        if len(gunicorn_workers) != 3:
            raise Failed(f"gunicorn master {web} has {len(gunicorn_workers)} workers, not 3")
        workers = {name: layout.pid(name) for name in ("w1", "w2")}

        # the demo's emails first (sent by the workers as they start): the flow's held email is then its own
        wait_for(
            lambda: all(row[3] == "sent" or row[4] for row in owed(args.database_url)),
            60,
            "the demo data's emails sent",
            step=0.5,
        )
        demo_emails = len(receiver.messages)
        mark(f"the demo data's {demo_emails} emails arrived")

        readers = [
            threading.Thread(target=background_reader, args=(http_, stop_readers, reader_errors), daemon=True)
            for _ in range(2)
        ]
        for reader in readers:
            reader.start()

        # --- the physiotherapist: pages, two-factor set up as production requires, API token
        pt = User(http_, PT)
        url = pt.login()
        if "/account/two-factor/setup/" not in url:
            raise Failed(f"production did not ask the PT for two-factor authentication (ended at {url})")
        _, setup = pt.page("/account/two-factor/setup/")
        secret = re.search(r'data-testid="totp-secret">([^<]+)<', setup)
        if secret is None:
            raise Failed("the two-factor setup page shows no secret")
        setup_path = "/account/two-factor/setup/"
        _, codes = pt.form(setup_path, {"otp_token": totp(secret.group(1))})
        if "backup" not in codes.lower():
            raise Failed("confirming the authenticator did not show the backup codes")
        pt.make_token()
        mark("PT logged in with two-factor authentication and made an API token")

        exercise = pt.api("/exercises/?page_size=1")["results"][0]["id"]
        trainers = pt.api("/trainers/?page_size=100")["results"]
        sam = next(t for t in trainers if t["full_name"] == "Sam Rivera")
        patient = pt.api(
            "/patients/",
            {"full_name": f"E2E Patient {os.getpid()}", "date_of_birth": "1980-04-02"},
            expect=201,
        )
        pt.api(
            "/consents/",
            {"patient": patient["id"], "gym": sam["gym"]["id"], "scope": "guidelines"},
            expect=201,
        )
        plan = pt.api(
            "/plans/",
            {
                "patient": patient["id"],
                "diagnosis": "Anterior knee pain after ACL reconstruction",
                "goals": "Climb stairs without pain.",
                "exercises": [{"exercise": exercise, "sets": 3, "reps": 10}],
                "precautions": [{"kind": "pain_rule", "limit_value": "3", "limit_unit": "pain"}],
                "red_flags": ["Swelling after a session"],
            },
            expect=201,
        )
        mark("PT wrote the patient, the consent and the plan through the API")

        # --- send through the pages while the trainer's email is held: kill the worker that holds it
        review = f"/plans/{plan['id']}/discharge/review/?trainer={sam['id']}&gym={sam['gym']['id']}"
        receiver.hold.set()
        url, _ = pt.form(
            f"/plans/{plan['id']}/discharge/send/",
            {"trainer": sam["id"], "gym": sam["gym"]["id"]},
            page=review,
        )
        found = re.search(r"/handoffs/([0-9a-f-]{36})/", url)
        if found is None:
            raise Failed(f"sending did not land on the referral's page ({url})")
        handoff = found.group(1)
        sent_at = time.monotonic()
        mark(f"PT sent referral {handoff} through the pages")
        wait_for(lambda: receiver.held_ports, 15, "the trainer's email at the receiver (held)")
        client_port = receiver.held_ports[0]
        candidates = [pid for main in workers.values() for pid in (main, *children(main))]
        inode = socket_inode(client_port, receiver.port)
        holder = pid_holding(inode, candidates) if inode else None
        if holder is None:
            raise Failed(f"no Celery worker process holds the SMTP connection from port {client_port}")
        killed_worker = next(name for name, main in workers.items() if os.getpgid(holder) == main)
        members = group_members(workers[killed_worker])
        os.killpg(workers[killed_worker], signal.SIGKILL)
        celery_kill_at = time.monotonic() - STARTED
        mark(f"SIGKILLed Celery worker {killed_worker} (group {workers[killed_worker]}: {members}) mid-send")
        receiver.hold.clear()
        receiver.release.set()

        # --- the trainer: pages and API; a gunicorn worker killed with a request in flight
        trainer = User(http_, TRAINER)
        trainer.login()
        trainer.make_token()
        _, inbox = trainer.page("/")
        if handoff not in inbox:
            raise Failed("the new referral is not in the trainer's inbox")
        mark("trainer logged in, made an API token, sees the referral in the inbox")

        half = socket.create_connection(("127.0.0.1", port), timeout=10)
        half.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: the worker waits
        local_port = half.getsockname()[1]

        def reader_of_half() -> int | None:
            inode = socket_inode(port, local_port)
            return pid_holding(inode, children(web)) if inode else None

        wait_for(reader_of_half, 10, "a gunicorn worker reading the half-sent request", step=0.05)
        victim = reader_of_half()
        if victim is None or victim == web:
            raise Failed("no gunicorn worker holds the half-sent request")
        http_.kill_times.append(time.monotonic())
        os.kill(victim, signal.SIGKILL)
        gunicorn_kill_at = time.monotonic() - STARTED
        try:
            half.settimeout(10)
            leftover = half.recv(100)
        except (ConnectionError, TimeoutError):
            leftover = b""
        half.close()
        if leftover:
            raise Failed(f"the killed gunicorn worker still answered: {leftover!r}")
        with http_.lock:
            http_.requests += 1
            http_.killed_worker_retries.append(
                "GET /login/ (half sent, read by the killed worker): connection closed"
            )
        opener = urllib.request.build_opener()
        status, _, _ = http_.open(opener, "/login/", retried=True)
        if status != 200:
            raise Failed(f"the retried request answered {status}")
        mark(f"SIGKILLed gunicorn worker {victim} (master {web}) with a request in flight; retried: {status}")
        wait_for(lambda: len(children(web)) == 3 and victim not in children(web), 30, "gunicorn's new worker")
        mark("gunicorn's master replaced the killed worker")

        trainer.form(f"/handoffs/{handoff}/accept/", {"accept-text": ""}, page=f"/handoffs/{handoff}/")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        trainer.api(
            f"/handoffs/{handoff}/sessions/",
            {"session_date": today, "attendance": "attended", "rpe": 5, "pain_before": 2, "pain_after": 2},
            expect=201,
        )
        report = trainer.api(
            f"/handoffs/{handoff}/reports/",
            {
                "period_start": today,
                "period_end": today,
                "impressions": "Keeps to the plan.",
                "goals": ["partly"],
            },
            expect=201,
        )
        if trainer.api(f"/handoffs/{handoff}/")["status"] != "in-progress":
            raise Failed("the first attended session did not start the referral")
        mark("trainer accepted on the page, logged a session and a report through the API")
        pt.form(f"/reports/{report['id']}/acknowledge/", {}, page=f"/reports/{report['id']}/")
        mark("PT acknowledged the report on its page")

        # --- every email exactly once
        def settled() -> bool:
            rows = owed(args.database_url)
            return all(row[3] == "sent" or row[4] for row in rows) and len(receiver.messages) >= sum(
                1 for row in rows if row[3] == "sent"
            )

        waited = wait_for(settled, 90, "every outbox row sent and received", step=0.5)
        time.sleep(2)  # a late duplicate would show now
        mark(f"every email owed was sent ({waited:.1f} s after the last step)")
        stop_readers.set()
        for reader in readers:
            reader.join(timeout=35)

        rows = owed(args.database_url)
        failed = [row for row in rows if row[3] == "failed"]
        deferred = [row for row in rows if row[3] != "sent" and row[4]]
        expected = collections.Counter(
            (row[0], f"[Handoff] {row[1]}", row[2]) for row in rows if row[3] == "sent"
        )
        received = collections.Counter((m["to"], m["subject"], m["handoff"]) for m in receiver.messages)
        # two rows may look alike (two concerns on one referral: the same recipient, title and link), so the
        # count of each look is compared with the rows'
        twice = {key: n for key, n in received.items() if n > max(1, expected[key])}
        missing = expected - received
        extra = received - expected
        flow = [m for m in receiver.messages if m["handoff"] == handoff]
        flow_keys = sorted((m["to"], m["subject"]) for m in flow)
        problems = []
        if failed:
            problems.append(f"outbox rows failed: {failed}")
        if twice:
            problems.append(f"emails received more than once: {twice}")
        if missing:
            problems.append(f"emails owed and not received: {dict(missing)}")
        if extra:
            problems.append(f"emails received and not owed: {dict(extra)}")
        if len(flow) != 5 or {m["to"] for m in flow} != {PT, TRAINER}:
            problems.append(f"the flow's emails are not the five expected: {flow_keys}")
        trainer_email = next((m for m in flow if m["to"] == TRAINER and "New referral" in m["subject"]), None)
        if trainer_email is None:
            problems.append("the held email of the killed worker never arrived")
        if http_.server_errors or http_.connection_errors or reader_errors:
            problems.append(
                f"request errors: {http_.server_errors + http_.connection_errors + reader_errors}"
            )
        restarted = f"{killed_worker} started again" in layout.output()
        if not restarted:
            problems.append(f"the script did not start {killed_worker} again")
        summary = {
            "emails_received": len(receiver.messages),
            "emails_demo": demo_emails,
            "emails_flow": flow_keys,
            "outbox_rows": len(rows),
            "outbox_deferred": len(deferred),
            "outbox_rows_sent_after_a_retry": sum(1 for row in rows if row[5] > 1),
            "smtp_connections_aborted": receiver.aborted,
            "killed_celery_worker": killed_worker,
            "celery_kill_at_s": round(celery_kill_at, 1),
            "held_email_arrived_after_s": round(trainer_email["t"] - (sent_at - STARTED), 1)
            if trainer_email
            else None,
            "killed_gunicorn_worker": victim,
            "gunicorn_kill_at_s": round(gunicorn_kill_at, 1),
            "killed_worker_retries": http_.killed_worker_retries,
            "requests": http_.requests,
            "http_5xx": len(http_.server_errors),
            "other_connection_errors": len(http_.connection_errors) + len(reader_errors),
            "celery_worker_restarted": restarted,
            "timings_s": {step: round(t, 1) for step, t in TIMINGS},
        }
        if problems:
            raise Failed("\n".join(problems) + "\n" + json.dumps(summary, indent=2))
        return summary
    finally:
        stop_readers.set()
        receiver.release.set()
        layout.stop()
        redis.stop()
        receiver.shutdown()
        receiver.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROD_LOCAL_E2E_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/handoff_prod_local_e2e",
        help="dropped and created again (--fresh) at every run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs) after a pass")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="prod-local-e2e-"))
    try:
        summary = run(args, workdir)
    except Exception as exc:  # anything: the logs are printed, the layout was torn down by run()
        print(f"e2e FAILED after {time.monotonic() - STARTED:.1f} s: {exc}", flush=True)
        for name in ("prod_local.out", "web.log", "w1.log", "w2.log", "beat.log"):
            path = workdir / "run" / name
            if path.exists():
                print(f"---- {path} (tail)\n{path.read_text(errors='replace')[-3000:]}", flush=True)
        return 1
    print("e2e summary:\n" + json.dumps(summary, indent=2), flush=True)
    print(f"e2e passed in {time.monotonic() - STARTED:.1f} s", flush=True)
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
