"""The periodic tasks record their runs (issue 16: the schedule visible in the admin): one row per entry of
beat's schedule, written around each run however it was started, and never at the cost of the task."""

from __future__ import annotations

import datetime
import logging
from io import StringIO
from typing import Any

import pytest
import time_machine
from celery import current_app
from celery.schedules import crontab, schedule
from django.core.management import call_command
from django.db import connection

from referrals import tasks
from referrals.notify import outbox as notify_outbox
from referrals.notify.models import OutboxMessage
from referrals.periodic import schedule as periodic_schedule
from referrals.periodic import services as periodic_services
from referrals.periodic.models import PeriodicRun

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


def run_of(name: str) -> PeriodicRun:
    return PeriodicRun.objects.get(name=name)


def last_run(name: str) -> tuple[Any, ...]:
    run = run_of(name)
    return (run.runs, run.failures, run.last_outcome, run.last_result, run.last_error)


def broken() -> list[int]:
    raise RuntimeError("Jamie Patient <jamie@example.test> refused")


# --- recording ----------------------------------------------------------------------------------------


def test_every_schedule_entry_has_a_row_after_migrate(settings: Any) -> None:
    rows = set(PeriodicRun.objects.values_list("name", "task", "runs"))
    assert rows == {(name, entry["task"], 0) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


@pytest.mark.django_db(transaction=True)
def test_a_flush_makes_the_rows_again(settings: Any) -> None:
    """flush sends post_migrate too (between the tests that use real transactions), without `apps`."""
    call_command("flush", interactive=False, verbosity=0)
    assert set(PeriodicRun.objects.values_list("name", flat=True)) == set(settings.CELERY_BEAT_SCHEDULE)


def test_a_run_is_recorded_on_its_entrys_row_with_its_outcome_and_result() -> None:
    with time_machine.travel(AT, tick=False):
        assert tasks.sweep_outbox() == 0
        assert tasks.sweep_outbox() == 0
    run = run_of("sweep-outbox")
    assert run.task == "referrals.tasks.sweep_outbox"
    assert last_run("sweep-outbox") == (2, 0, PeriodicRun.Outcome.OK, 0, "")
    assert run.last_started_at == run.last_finished_at == AT
    assert run_of("sweep-timers").runs == 0  # the others did not run


def test_a_failing_run_is_recorded_by_its_errors_class_and_the_task_still_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tasks.sweep_outbox()
    monkeypatch.setattr(notify_outbox, "due_message_ids", broken)
    with pytest.raises(RuntimeError, match="refused"):
        tasks.sweep_outbox()
    assert last_run("sweep-outbox") == (2, 1, PeriodicRun.Outcome.FAILED, None, "builtins.RuntimeError")
    monkeypatch.undo()
    assert tasks.sweep_outbox() == 0  # the next run clears the last error, the failure stays counted
    assert last_run("sweep-outbox") == (3, 1, PeriodicRun.Outcome.OK, 0, "")


def test_the_error_kept_is_the_exceptions_class_never_its_message() -> None:
    error = ValueError("Key (email)=(jamie@example.test) already exists.")
    assert periodic_services.error_label(error) == "builtins.ValueError"


@pytest.fixture
def no_runs_table() -> None:
    """The table gone (code deployed before its migrate): every write of a run fails in the database.
    Renamed inside the test's transaction, so it comes back when the test ends."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE referrals_periodicrun RENAME TO referrals_periodicrun_away")


def test_a_failure_to_record_does_not_fail_the_task_nor_spoil_its_transaction(
    no_runs_table: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="referrals.periodic.services"):
        assert tasks.sweep_outbox() == 0  # its own queries ran after the failed write (PostgreSQL too)
    assert "periodic run of sweep-outbox not recorded (periodic_run_start)" in caplog.text
    assert "periodic run of sweep-outbox not recorded (periodic_run_finish)" in caplog.text
    assert OutboxMessage.objects.count() == 0  # the outer transaction still answers


def test_a_failure_to_record_a_failed_run_raises_the_tasks_own_error(
    no_runs_table: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(notify_outbox, "due_message_ids", broken)
    with caplog.at_level(logging.ERROR, logger="referrals.periodic.services"), pytest.raises(RuntimeError):
        tasks.sweep_outbox()
    assert "not recorded (periodic_run_fail)" in caplog.text


def test_an_entry_without_a_row_gets_one_on_its_first_run() -> None:
    PeriodicRun.objects.all().delete()
    tasks.sweep_timers()
    assert list(PeriodicRun.objects.values_list("name", "task", "runs")) == [
        ("sweep-timers", "referrals.tasks.sweep_timers", 1)
    ]


def test_a_task_no_schedule_entry_runs_is_not_recorded(settings: Any) -> None:
    settings.CELERY_BEAT_SCHEDULE = {
        name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if name != "sweep-outbox"
    }
    assert tasks.sweep_outbox() == 0
    assert run_of("sweep-outbox").runs == 0


def test_run_periodic_records_every_entry_of_the_schedule(settings: Any) -> None:
    call_command("run_periodic", "--once", stdout=StringIO())
    recorded = {run.name: (run.runs, run.last_outcome) for run in PeriodicRun.objects.all()}
    assert recorded == {name: (1, PeriodicRun.Outcome.OK) for name in settings.CELERY_BEAT_SCHEDULE}


def test_a_run_through_celery_counts_as_one_run_by_beat_does(settings: Any) -> None:
    """What a worker runs when beat sends the task: the registered task, by its name."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        current_app.tasks[entry["task"]].apply().get(propagate=True)
        current_app.tasks[entry["task"]].delay()  # eager in the tests: the same run
    assert set(PeriodicRun.objects.values_list("runs", flat=True)) == {2}


def test_ensure_makes_the_missing_rows_and_keeps_the_runs_of_the_others() -> None:
    PeriodicRun.objects.filter(name="sweep-timers").delete()
    PeriodicRun.objects.filter(name="sweep-outbox").update(runs=5, failures=1, task="referrals.tasks.old")
    periodic_services.periodic_runs_ensure()
    periodic_services.periodic_runs_ensure()
    assert (run_of("sweep-timers").runs, run_of("sweep-timers").task) == (0, "referrals.tasks.sweep_timers")
    outbox = run_of("sweep-outbox")
    assert (outbox.runs, outbox.failures, outbox.task) == (5, 1, "referrals.tasks.sweep_outbox")
    assert PeriodicRun.objects.count() == 5


# --- the schedule as the admin reads it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (1, "every second"),
        (1.5, "every 1.5 seconds"),
        (15, "every 15 seconds"),
        (90, "every 90 seconds"),
        (60, "every minute"),
        (300, "every 5 minutes"),
        (3600, "every hour"),
        (86400, "every day"),
        (172800, "every 2 days"),
    ],
)
def test_an_interval_reads_in_its_largest_whole_unit(seconds: float, label: str) -> None:
    assert periodic_schedule.every_label(seconds) == label


def test_the_schedule_reads_timedeltas_numbers_and_celerys_schedules() -> None:
    assert periodic_schedule.interval_seconds(datetime.timedelta(minutes=5)) == 300
    assert periodic_schedule.interval_seconds(15) == 15
    assert periodic_schedule.interval_seconds(schedule(datetime.timedelta(seconds=30))) == 30
    assert periodic_schedule.interval_seconds(crontab(minute="0")) is None


def test_the_settings_schedule_as_the_admin_shows_it(settings: Any) -> None:
    settings.HANDOFF_OUTBOX_SWEEP_SECONDS = 15.0
    entries = {entry.name: entry.every for entry in periodic_schedule.schedule_entries()}
    assert entries == {
        "sweep-outbox": "every 15 seconds",
        "review-eligibility": "every day",
        "notify-reports-overdue": "every day",
        "sweep-timers": "every 5 minutes",
        "trim-records": "every day",
    }


def status_at(run: PeriodicRun, after: datetime.timedelta) -> periodic_schedule.RunStatus:
    return periodic_schedule.run_status(run, AT + after)


def test_an_entry_is_late_when_no_run_started_within_twice_its_interval() -> None:
    run = PeriodicRun(name="sweep-timers", task="referrals.tasks.sweep_timers", created_at=AT)
    run.last_started_at = run.last_finished_at = AT
    run.last_outcome = PeriodicRun.Outcome.OK
    on_time = status_at(run, datetime.timedelta(minutes=10))
    assert (on_time.outcome, on_time.next_due, on_time.late) == (
        "ok",
        AT + datetime.timedelta(minutes=5),
        False,
    )
    assert status_at(run, datetime.timedelta(minutes=10, seconds=1)).late


def test_an_entry_never_run_is_late_twice_its_interval_after_its_row_was_made() -> None:
    run = PeriodicRun(name="review-eligibility", task="referrals.tasks.review_eligibility", created_at=AT)
    fresh = status_at(run, datetime.timedelta(hours=47))
    assert (fresh.outcome, fresh.next_due, fresh.late) == ("never run", None, False)
    assert status_at(run, datetime.timedelta(hours=49)).late


def test_a_run_started_and_not_finished_says_so() -> None:
    run = PeriodicRun(name="sweep-timers", created_at=AT, last_outcome=PeriodicRun.Outcome.OK)
    run.last_finished_at, run.last_started_at = AT, AT + datetime.timedelta(minutes=5)
    assert status_at(run, datetime.timedelta(minutes=6)).outcome == "started, not finished"


def test_a_row_whose_entry_left_the_schedule_or_has_no_interval_is_never_late(settings: Any) -> None:
    retired = PeriodicRun(name="retired", created_at=AT - datetime.timedelta(days=30))
    assert (
        status_at(retired, datetime.timedelta()).entry,
        status_at(retired, datetime.timedelta()).late,
    ) == (
        None,
        False,
    )
    settings.CELERY_BEAT_SCHEDULE = {
        "nightly": {"task": "referrals.tasks.sweep_timers", "schedule": crontab()}
    }
    nightly = status_at(PeriodicRun(name="nightly", created_at=AT), datetime.timedelta(days=30))
    assert nightly.entry is not None and nightly.entry.seconds is None
    assert (nightly.next_due, nightly.late) == (None, False)
