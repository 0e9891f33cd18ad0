"""The periodic tasks in this process: beat's schedule (settings.CELERY_BEAT_SCHEDULE) for the embedded
default, which has no Redis and so no beat. `make run` starts it beside the server when REDIS_URL is unset;
with Redis, `make beat` and `make worker` do this work instead.

Each task runs once at start and then every time its interval has passed, in the order they fall due; a
failing run is logged and tried again at its next time (each task is idempotent: the sweeps, the daily
reviews). Each run is recorded as under beat (periodic.services.recorded: the admin's periodic tasks).
`--once` runs each task once and exits (cron it, or use it in a test)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.periodic import schedule as periodic_schedule

log = logging.getLogger("referrals.periodic")


def schedule() -> list[tuple[str, str, float]]:
    """(name, task, seconds) of each entry of beat's schedule (periodic.schedule); only intervals."""
    entries = []
    for entry in periodic_schedule.schedule_entries():
        if entry.seconds is None:
            raise CommandError(f"{entry.name}: run_periodic runs fixed intervals only, not {entry.every}")
        entries.append((entry.name, entry.task, max(1.0, entry.seconds)))
    return entries


def run_task(task_name: str) -> Any:
    """One run of a task, here (not through a broker)."""
    import referrals.tasks  # noqa: F401 - registers the tasks with the app

    return current_app.tasks[task_name].apply().get(propagate=True)


class Command(BaseCommand):
    help = "Run beat's periodic tasks in this process (the embedded default has no beat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run each task once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        entries = schedule()
        due = {name: 0.0 for name, _, _ in entries}  # everything runs at start
        while True:
            now = time.monotonic()
            for name, task, seconds in sorted(entries, key=lambda e: due[e[0]]):
                if due[name] > now:
                    continue
                try:
                    result = run_task(task)
                except Exception:  # one failing run must not stop the others: logged, tried again
                    log.exception("periodic task %s failed; next run in %.0f s", name, seconds)
                else:
                    if options["once"]:
                        self.stdout.write(f"{name}: {result}")
                due[name] = time.monotonic() + seconds
            if options["once"]:
                return
            time.sleep(max(0.5, min(due.values()) - time.monotonic()))
