"""The schedule as settings.CELERY_BEAT_SCHEDULE states it (the one statement of it: beat, run_periodic and
the admin read it here), and where each entry stands: when it is next due and whether it is late. Pure
functions of the settings and a PeriodicRun row.

An entry is late when no run of it started within LATE_AFTER_INTERVALS of its interval: beat (or
run_periodic, without Redis) is down, or its worker is. One that never ran counts from the day its row was
made (the migrate that brought it), so a fresh deployment is not late at once."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from referrals.periodic.models import PeriodicRun

LATE_AFTER_INTERVALS = 2


@dataclass(frozen=True)
class ScheduleEntry:
    """One entry of beat's schedule. `seconds` is None for a schedule without a fixed interval (a
    crontab): it has no next due time or late flag here."""

    name: str
    task: str
    seconds: float | None
    every: str


def interval_seconds(every: Any) -> float | None:
    """The seconds between runs of a schedule value: a timedelta, a number of seconds or Celery's
    `schedule(run_every)`; None for anything else."""
    if isinstance(every, datetime.timedelta):
        return every.total_seconds()
    if isinstance(every, int | float) and not isinstance(every, bool):
        return float(every)
    run_every = getattr(every, "run_every", None)
    if isinstance(run_every, datetime.timedelta):
        return run_every.total_seconds()
    return None


def every_label(seconds: float | None, every: Any = None) -> str:
    """How an interval reads: "every 15 seconds", "every 5 minutes", "every day"."""
    if seconds is None:
        return str(every)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return "every second" if seconds == 1 else f"every {seconds:g} seconds"


def schedule_entries() -> list[ScheduleEntry]:
    """Every entry of beat's schedule, in the settings' order."""
    entries = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        every = entry["schedule"]
        seconds = interval_seconds(every)
        entries.append(ScheduleEntry(name, str(entry["task"]), seconds, every_label(seconds, every)))
    return entries


def entry_named(name: str) -> ScheduleEntry | None:
    return next((entry for entry in schedule_entries() if entry.name == name), None)


def entry_name_for_task(task: str) -> str | None:
    """The schedule entry that runs `task` (a task's dotted path), None when none does. Two entries of one
    task (with other arguments) would share the first one's row: none does today."""
    return next((entry.name for entry in schedule_entries() if entry.task == task), None)


@dataclass(frozen=True)
class RunStatus:
    """Where one row stands against its entry. `entry` is None for a row whose entry left the schedule."""

    entry: ScheduleEntry | None
    outcome: str
    next_due: datetime.datetime | None
    late: bool


def outcome_label(run: PeriodicRun) -> str:
    """ "never run", "started, not finished" (running, or its process died), or the last run's outcome."""
    if run.last_started_at is None:
        return "never run"
    if run.last_finished_at is None or run.last_finished_at < run.last_started_at or not run.last_outcome:
        return "started, not finished"
    return str(run.get_last_outcome_display())


def run_status(run: PeriodicRun, now: datetime.datetime) -> RunStatus:
    """The row's outcome, when its entry is next due (its last start plus its interval) and whether it is
    late (no start within LATE_AFTER_INTERVALS intervals of the last one, or of the row's making)."""
    entry = entry_named(run.name)
    seconds = entry.seconds if entry is not None else None
    if seconds is None:
        return RunStatus(entry, outcome_label(run), None, False)
    interval = datetime.timedelta(seconds=seconds)
    next_due = run.last_started_at + interval if run.last_started_at is not None else None
    since = run.last_started_at or run.created_at
    return RunStatus(entry, outcome_label(run), next_due, now - since > LATE_AFTER_INTERVALS * interval)
