"""The mail server stand-in: each email handed to the backend is one JSON line (when, to whom, which
handoff), after being rendered to bytes as an SMTP backend would."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

HANDOFF_URL = re.compile(r"/handoffs/([0-9a-f-]{36})/")


def log_path() -> Path:
    """The JSON lines file (BENCH_MAIL_LOG; make bench gives each run its own)."""
    return Path(os.environ.get("BENCH_MAIL_LOG") or settings.BASE_DIR / "var" / "bench" / "mail.jsonl")


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        handed_at = time.time()
        lines = []
        for message in email_messages:
            raw = message.message().as_bytes()
            found = HANDOFF_URL.search(str(message.body))
            record = {
                "t": handed_at,
                "to": list(message.to),
                "subject": message.subject,
                "handoff": found.group(1) if found else None,
                "bytes": len(raw),
            }
            lines.append(json.dumps(record) + "\n")
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write("".join(lines))
        return len(email_messages)
