"""Recording the runs of the periodic tasks: `recorded` wraps each task of beat's schedule (referrals.tasks),
so a run is counted however it was started (beat and a worker, manage.py run_periodic, a command or a shell
calling the task). Each write is one UPDATE of the entry's row, in its own savepoint; a write that fails is
logged and the task goes on: the bookkeeping never makes a sweep fail or spoils its transaction."""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F
from django.utils import timezone

from referrals.periodic import schedule as periodic_schedule
from referrals.periodic.models import ERROR_MAX_LENGTH, PeriodicRun

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def periodic_run_start(*, name: str, task: str, now: datetime.datetime | None = None) -> None:
    """A run of the entry `name` started: its start time, one more run. The row is made on the entry's
    first run when the migrate did not make it (periodic_runs_ensure)."""
    values: dict[str, Any] = {"task": task, "last_started_at": now or timezone.now(), "runs": F("runs") + 1}
    with transaction.atomic():
        if PeriodicRun.objects.filter(name=name).update(**values):
            return
        # Another process may make it at the same moment: neither fails, and both runs count.
        PeriodicRun.objects.bulk_create([PeriodicRun(name=name, task=task)], ignore_conflicts=True)
        PeriodicRun.objects.filter(name=name).update(**values)


def periodic_run_finish(*, name: str, result: object, now: datetime.datetime | None = None) -> None:
    """The run ended well: its finish time, "ok", and its result when that is a count."""
    count = result if isinstance(result, int) and not isinstance(result, bool) else None
    with transaction.atomic():
        PeriodicRun.objects.filter(name=name).update(
            last_finished_at=now or timezone.now(),
            last_outcome=PeriodicRun.Outcome.OK,
            last_result=count,
            last_error="",
        )


def error_label(error: BaseException) -> str:
    """What the row keeps of an error: the exception's class, never its message (a database error quotes
    the values of the row it refused)."""
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"[:ERROR_MAX_LENGTH]


def periodic_run_fail(*, name: str, error: BaseException, now: datetime.datetime | None = None) -> None:
    """The run ended in `error`: its finish time, "failed", the error's class, one more failure."""
    with transaction.atomic():
        PeriodicRun.objects.filter(name=name).update(
            last_finished_at=now or timezone.now(),
            last_outcome=PeriodicRun.Outcome.FAILED,
            last_result=None,
            last_error=error_label(error),
            failures=F("failures") + 1,
        )


def periodic_runs_ensure(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """A row for every entry of the schedule, so the admin lists the whole schedule, entries that never
    ran included (after every migrate: referrals.apps). One statement; a row that exists keeps its runs
    and takes the entry's current task."""
    rows = [PeriodicRun(name=entry.name, task=entry.task) for entry in periodic_schedule.schedule_entries()]
    if rows:
        PeriodicRun.objects.using(using).bulk_create(
            rows, update_conflicts=True, unique_fields=["name"], update_fields=["task"]
        )


def _record(write: Callable[..., None], **values: Any) -> None:
    try:
        write(**values)
    except Exception:  # the bookkeeping must not fail the task (its own savepoint is rolled back)
        logger.exception("periodic run of %s not recorded (%s)", values["name"], write.__name__)


def recorded(task: Callable[P, R]) -> Callable[P, R]:
    """Record each run of a periodic task under its schedule entry, found by the task's path (its module
    and name: the name Celery gives a task it is not told one). A task no entry runs is not recorded. The
    task's own error is recorded and raised again."""
    path = f"{task.__module__}.{task.__name__}"

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        name = periodic_schedule.entry_name_for_task(path)
        if name is None:
            return task(*args, **kwargs)
        _record(periodic_run_start, name=name, task=path)
        try:
            result = task(*args, **kwargs)
        except Exception as exc:
            _record(periodic_run_fail, name=name, error=exc)
            raise
        _record(periodic_run_finish, name=name, result=result)
        return result

    return run
