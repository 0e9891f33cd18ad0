"""Retention: the access log (six years) and django-axes' login records (90 days) past their period are
deleted by the daily beat task trim_records, in batches; younger rows stay; the trim is the one path by
which the append-only access log loses a row."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import checks as account_checks
from accounts import services as account_services
from accounts.models import User
from referrals import checks as referral_checks
from referrals import tasks
from referrals.audit import services as audit_services
from referrals.audit.models import AccessLog, AppendOnlyError
from referrals.periodic import schedule as periodic_schedule
from referrals.periodic.models import PeriodicRun

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def read_at(user: User, at: datetime.datetime) -> AccessLog:
    return AccessLog.objects.create(
        user=user,
        object_type=AccessLog.ObjectType.PATIENT,
        object_public_id=uuid.uuid4(),
        channel=AccessLog.Channel.PAGE,
        path="/patients/",
        at=at,
    )


def login_record(model: Any, at: datetime.datetime, **values: Any) -> Any:
    """A django-axes row whose attempt_time (auto_now_add) is `at`."""
    row = model.objects.create(user_agent="test", ip_address="192.0.2.7", http_accept="*/*", **values)
    model.objects.filter(pk=row.pk).update(attempt_time=at)
    return row


def attempt(at: datetime.datetime, username: str) -> AccessAttempt:
    return login_record(
        AccessAttempt, at, username=username, get_data="", post_data="", failures_since_start=3
    )


# --- the access log --------------------------------------------------------------------------------------


def test_the_default_retention_is_six_years_of_the_longest_kind_and_90_days(settings: Any) -> None:
    from config.settings import base

    assert base.HANDOFF_ACCESS_LOG_RETENTION_DAYS == 2192 == 6 * 365 + 2  # never before the 6th anniversary
    assert base.HANDOFF_LOCKOUT_RETENTION_DAYS == 90


def test_access_log_entries_older_than_the_period_are_deleted_younger_ones_kept(
    physio: User, settings: Any
) -> None:
    settings.HANDOFF_ACCESS_LOG_RETENTION_DAYS = 2192
    old = read_at(physio, NOW - 2192 * DAY - SECOND)
    older = read_at(physio, NOW - 3000 * DAY)
    young = read_at(physio, NOW - 2192 * DAY + SECOND)
    today = read_at(physio, NOW)
    assert audit_services.access_log_trim(now=NOW) == 2
    kept = set(AccessLog.objects.values_list("pk", flat=True))
    assert kept == {young.pk, today.pk} and not {old.pk, older.pk} & kept
    assert audit_services.access_log_trim(now=NOW) == 0  # idempotent


def test_the_access_log_retention_comes_from_the_setting(physio: User, settings: Any) -> None:
    read_at(physio, NOW - 40 * DAY)
    assert audit_services.access_log_trim(now=NOW) == 0
    settings.HANDOFF_ACCESS_LOG_RETENTION_DAYS = 30
    assert audit_services.access_log_trim(now=NOW) == 1


def test_the_access_log_is_trimmed_in_batches_each_in_its_own_transaction(physio: User) -> None:
    for days in range(5):
        read_at(physio, NOW - (2200 + days) * DAY)
    read_at(physio, NOW)
    with CaptureQueriesContext(connection) as queries:
        assert audit_services.access_log_trim(now=NOW, batch_size=2) == 5
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert AccessLog.objects.count() == 1


def test_outside_the_trim_the_access_log_still_refuses_every_delete(physio: User) -> None:
    entry = read_at(physio, NOW - 3000 * DAY)
    with pytest.raises(AppendOnlyError, match="retention trim"):
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()


# --- django-axes' login records -----------------------------------------------------------------------


def test_login_records_older_than_90_days_are_deleted_younger_ones_kept(settings: Any) -> None:
    settings.HANDOFF_LOCKOUT_RETENTION_DAYS = 90
    old_attempt = attempt(NOW - 91 * DAY, "old@example.org")
    AccessAttemptExpiration.objects.create(access_attempt=old_attempt, expires_at=NOW - 91 * DAY)
    young_attempt = attempt(NOW - 89 * DAY, "young@example.org")
    login_record(AxesAccessLog, NOW - 90 * DAY - SECOND, username="a@example.org")
    young_log = login_record(AxesAccessLog, NOW - 90 * DAY + SECOND, username="a@example.org")
    login_record(AccessFailureLog, NOW - 200 * DAY, username="b@example.org")
    young_failure = login_record(AccessFailureLog, NOW, username="b@example.org")
    assert account_services.lockout_records_trim(now=NOW) == 3
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [young_attempt.pk]
    assert not AccessAttemptExpiration.objects.exists()  # went with its attempt
    assert list(AxesAccessLog.objects.values_list("pk", flat=True)) == [young_log.pk]
    assert list(AccessFailureLog.objects.values_list("pk", flat=True)) == [young_failure.pk]
    assert account_services.lockout_records_trim(now=NOW) == 0


def test_login_records_are_trimmed_in_batches(settings: Any) -> None:
    settings.HANDOFF_LOCKOUT_RETENTION_DAYS = 10
    for i in range(5):
        login_record(AxesAccessLog, NOW - (11 + i) * DAY, username=f"u{i}@example.org")
    with CaptureQueriesContext(connection) as queries:
        assert account_services.lockout_records_trim(now=NOW, batch_size=2) == 5
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3
    assert not AxesAccessLog.objects.exists()


def test_the_login_records_have_an_index_on_attempt_time() -> None:
    """The batches find their rows through it (migration accounts 0006), on either database."""
    with connection.cursor() as cursor:
        for table in ("axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"):
            constraints = connection.introspection.get_constraints(cursor, table)
            assert any(c["index"] and c["columns"] == ["attempt_time"] for c in constraints.values()), table


@pytest.mark.parametrize("days", [0, -5, "90"])
def test_a_retention_below_one_day_is_refused_at_start_up(days: Any, settings: Any) -> None:
    settings.HANDOFF_ACCESS_LOG_RETENTION_DAYS = days
    settings.HANDOFF_LOCKOUT_RETENTION_DAYS = days
    assert [e.id for e in referral_checks.access_log_retention_check()] == ["referrals.E001"]
    assert [e.id for e in account_checks.lockout_retention_check()] == ["accounts.E002"]
    settings.HANDOFF_ACCESS_LOG_RETENTION_DAYS = settings.HANDOFF_LOCKOUT_RETENTION_DAYS = 1
    assert referral_checks.access_log_retention_check() == account_checks.lockout_retention_check() == []


# --- the beat task ------------------------------------------------------------------------------------


def test_trim_records_runs_daily_in_beats_schedule(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["trim-records"]
    assert entry == {"task": "referrals.tasks.trim_records", "schedule": datetime.timedelta(hours=24)}
    assert periodic_schedule.entry_name_for_task("referrals.tasks.trim_records") == "trim-records"


def test_the_task_trims_both_and_its_run_is_recorded(physio: User, settings: Any) -> None:
    read_at(physio, timezone.now() - 2193 * DAY)
    read_at(physio, timezone.now())
    login_record(AxesAccessLog, timezone.now() - 91 * DAY, username="a@example.org")
    assert tasks.trim_records() == 2
    run = PeriodicRun.objects.get(name="trim-records")
    assert (run.runs, run.last_outcome, run.last_result) == (1, PeriodicRun.Outcome.OK, 2)
    assert AccessLog.objects.count() == 1 and not AxesAccessLog.objects.exists()
