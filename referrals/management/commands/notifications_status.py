"""How the notification outbox is doing: pending, in flight, failed and sent counts, the oldest pending age.

    python manage.py notifications_status          # one line per figure, for people and grep
    python manage.py notifications_status --json   # the same figures as one JSON object, for scripts

Failed rows need a person: the admin lists them (Outbox messages, status "Failed") and can re-send them.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from referrals.health import oldest_pending_seconds, outbox_counts


class Command(BaseCommand):
    help = "Print the outbox's pending, in-flight, failed and sent counts and the oldest pending age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = outbox_counts()
        oldest = oldest_pending_seconds()
        figures: dict[str, Any] = {
            "pending": counts["pending"],
            "in_flight": counts["in_flight"],
            "failed": counts["failed"],
            "sent": counts["sent"],
            "oldest_pending_seconds": oldest,
        }
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        limit: int = settings.HANDOFF_HEALTH_MAX_PENDING_AGE
        age = "none pending" if oldest is None else f"{oldest:.0f} s"
        if oldest is not None and oldest > limit:
            age += f" (older than {limit} s: is the worker running? is beat running?)"
        self.stdout.write(f"pending:     {figures['pending']}")
        self.stdout.write(f"in flight:   {figures['in_flight']}")
        self.stdout.write(f"failed:      {figures['failed']}")
        self.stdout.write(f"sent:        {figures['sent']}")
        self.stdout.write(f"oldest pending age: {age}")
