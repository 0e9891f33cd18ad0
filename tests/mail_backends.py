"""Stand-ins for the SMTP server abroad: the one true external edge of the notification pipeline.

`FlakyBackend` serves in-process tests. `EdgeBackend` serves a real worker process: it appends every email
it is handed to a JSON-lines file the test reads, and obeys a control file the test writes, so a test can
make the "SMTP server" fail the next N sends, fail every send, or be slow (to kill a worker mid-send).
"""

from __future__ import annotations

import fcntl
import json
import os
import smtplib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    """Fails `failures_left` times with a connection error, then delivers into mail.outbox."""

    failures_left: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise ConnectionRefusedError("SMTP server unavailable")
        return super().send_messages(messages)


def set_failures(n: int) -> Any:
    FlakyBackend.failures_left = n
    return FlakyBackend


# --- the SMTP edge of a worker process -----------------------------------------------------------------

SENT = "sent.jsonl"  # one line per email handed over: {"t", "to", "subject", "body", "pid"}
ATTEMPTS = "attempts.jsonl"  # one line per attempt, failed or not: {"t", "to", "outcome", "pid"}
CONTROL = "control.json"  # {"fail_next": n, "fail_always": bool, "delay": seconds}


class EdgeBackend(BaseEmailBackend):
    """Directory from HANDOFF_TEST_MAIL_DIR. Appends are serialized with a lock on the control file."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.root = Path(os.environ["HANDOFF_TEST_MAIL_DIR"])
        self.root.mkdir(parents=True, exist_ok=True)

    def _append(self, name: str, row: dict[str, Any]) -> None:
        with (self.root / name).open("a") as out:
            out.write(json.dumps(row) + "\n")

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            to = ",".join(message.to)
            with (self.root / CONTROL).open("a+") as control:
                fcntl.flock(control, fcntl.LOCK_EX)
                control.seek(0)
                raw = control.read()
                state = json.loads(raw) if raw.strip() else {}
                fail = bool(state.get("fail_always")) or int(state.get("fail_next", 0)) > 0
                if int(state.get("fail_next", 0)) > 0:
                    state["fail_next"] = int(state["fail_next"]) - 1
                    control.seek(0)
                    control.truncate()
                    control.write(json.dumps(state))
                    control.flush()
            if fail:
                self._append(ATTEMPTS, {"t": time.time(), "to": to, "outcome": "error", "pid": os.getpid()})
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test SMTP edge)")
            delay = float(state.get("delay", 0))
            if delay:
                self._append(ATTEMPTS, {"t": time.time(), "to": to, "outcome": "slow", "pid": os.getpid()})
                time.sleep(delay)  # a slow SMTP server: the window in which a test kills the worker
            now = time.time()
            self._append(ATTEMPTS, {"t": now, "to": to, "outcome": "sent", "pid": os.getpid()})
            self._append(
                SENT,
                {"t": now, "to": to, "subject": message.subject, "body": message.body, "pid": os.getpid()},
            )
            sent += 1
        return sent


class MailEdge:
    """The test's side of EdgeBackend: read what was handed over, steer what happens next."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _rows(self, name: str) -> list[dict[str, Any]]:
        path = self.root / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        return [row for row in self._rows(SENT) if to is None or row["to"] == to]

    def attempts(self, to: str | None = None) -> list[dict[str, Any]]:
        return [row for row in self._rows(ATTEMPTS) if to is None or row["to"] == to]

    def control(self, *, fail_next: int = 0, fail_always: bool = False, delay: float = 0) -> None:
        state = {"fail_next": fail_next, "fail_always": fail_always, "delay": delay}
        with (self.root / CONTROL).open("a+") as control:
            fcntl.flock(control, fcntl.LOCK_EX)
            control.seek(0)
            control.truncate()
            control.write(json.dumps(state))


class TickingBackend(EmailBackend):
    """Delivers into mail.outbox; each email moves `TickingBackend.clock` one second on (a slow mail server
    on a clock a test reads instead of the real one)."""

    clock: ClassVar[float] = 0.0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        TickingBackend.clock += len(messages)
        return super().send_messages(messages)
