"""Deliver what is owed and overdue, once: the periodic sweeper, by hand.

With Redis, `make beat` runs this every 15 seconds; in the embedded default (no Redis, no beat) `make run`
runs it beside the server (`manage.py run_periodic`), and so may this command, by hand or from cron.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from referrals import tasks
from referrals.notify.models import OutboxMessage


class Command(BaseCommand):
    help = "Re-enqueue outbox rows pending past the grace period or in flight past their lease."

    def handle(self, *args: Any, **options: Any) -> None:
        count = tasks.sweep_outbox()
        Status = OutboxMessage.Status
        counts = {s: OutboxMessage.objects.filter(status=s).count() for s in (Status.PENDING, Status.FAILED)}
        pending, failed = counts[Status.PENDING], counts[Status.FAILED]
        self.stdout.write(f"Re-enqueued {count} message(s); now {pending} pending, {failed} failed.")
