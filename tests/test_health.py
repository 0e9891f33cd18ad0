"""/healthz and `manage.py notifications_status`: what an operator or a load balancer sees."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.utils import timezone

from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.notify.models import OutboxMessage
from tests.conftest import World
from tests.integration.harness import RedisServer, ServiceUnavailable, free_port

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.fixture(scope="module")
def live_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    except ServiceUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"needs {exc} (CI=true: not skipping)")
        pytest.skip(f"needs {exc}")
    yield server.url
    server.stop()


@pytest.fixture
def owed(world: World, draft: TrainerHandoff) -> OutboxMessage:
    """One email owed to the trainer and not yet delivered (its publish after commit never ran)."""
    with mock.patch("referrals.tasks.publish_deliveries"):
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    return OutboxMessage.objects.get()


def healthz(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    never_cached = ("no-cache", "no-store", "max-age=0")  # a monitor must never see a cached answer
    assert any(word in response["Cache-Control"] for word in never_cached)
    return response.status_code, json.loads(response.content)


def age(row: OutboxMessage, seconds: int) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def test_healthy_with_database_and_redis_up_and_nothing_owed(client: Client, live_redis: str) -> None:
    with override_settings(REDIS_URL=live_redis):
        status, body = healthz(client)
    assert status == 200
    assert body == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "oldest_pending_seconds": None,
        "max_pending_seconds": 300,
    }


def test_the_embedded_default_without_redis_is_healthy(client: Client) -> None:
    with override_settings(REDIS_URL=""):
        status, body = healthz(client)
    assert status == 200 and body["redis"] == "not_configured" and body["status"] == "ok"


def test_redis_down_is_503(client: Client) -> None:
    with override_settings(REDIS_URL=DEAD_REDIS):
        status, body = healthz(client)
    assert status == 503 and body["redis"] == "down" and body["status"] == "fail"
    assert body["database"] == "ok"


def test_database_down_is_503(client: Client) -> None:
    with (
        override_settings(REDIS_URL=""),
        mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")),
    ):
        status, body = healthz(client)
    assert status == 503 and body["database"] == "down" and body["oldest_pending_seconds"] is None


def test_a_backlog_older_than_five_minutes_is_503_and_a_young_one_is_not(
    client: Client, owed: OutboxMessage
) -> None:
    with override_settings(REDIS_URL=""):
        age(owed, 60)
        status, body = healthz(client)
        assert status == 200 and 59 <= body["oldest_pending_seconds"] < 70
        age(owed, 301)
        status, body = healthz(client)
        assert status == 503 and body["status"] == "fail" and body["oldest_pending_seconds"] >= 301
        # an email in flight is still owed; a failed or sent one is not a backlog
        OutboxMessage.objects.filter(pk=owed.pk).update(status=Status.IN_FLIGHT)
        assert healthz(client)[0] == 503
        OutboxMessage.objects.filter(pk=owed.pk).update(status=Status.FAILED)
        assert healthz(client) == (
            200,
            {
                "status": "ok",
                "database": "ok",
                "redis": "not_configured",
                "oldest_pending_seconds": None,
                "max_pending_seconds": 300,
            },
        )
        with override_settings(HANDOFF_HEALTH_MAX_PENDING_AGE=30):
            OutboxMessage.objects.filter(pk=owed.pk).update(status=Status.PENDING)
            age(owed, 40)
            assert healthz(client)[0] == 503


def test_health_needs_no_login_discloses_nothing_and_only_answers_get(
    client: Client, owed: OutboxMessage, world: World
) -> None:
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
        assert response.status_code == 200  # no redirect to the login page
        text = response.content.decode()
        for secret in (
            world.plan.patient.full_name,
            world.trainer.email,
            str(owed.handoff.public_id if owed.handoff else ""),
        ):
            assert secret not in text
        assert client.post("/healthz").status_code == 405


def test_notifications_status_prints_the_counts_and_the_oldest_pending_age(
    owed: OutboxMessage, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    out = StringIO()
    call_command("notifications_status", stdout=out)
    assert "oldest pending age: none" not in out.getvalue()
    age(owed, 90)
    out = StringIO()
    call_command("notifications_status", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["pending"] == 1 and figures["in_flight"] == 0 and figures["failed"] == 0
    assert figures["sent"] == 0 and 90 <= figures["oldest_pending_seconds"] < 100

    # deliver it, and fail another: the counts follow, and nothing is pending any more
    with django_capture_on_commit_callbacks(execute=True):
        assert owed.handoff is not None
        handoffs_services.handoff_accept(handoff=owed.handoff, actor=world.trainer)  # eager: sent at once
    OutboxMessage.objects.filter(pk=owed.pk).update(status=Status.FAILED)
    out = StringIO()
    call_command("notifications_status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines == [
        "pending:     0",
        "in flight:   0",
        "failed:      1",
        "sent:        1",
        "oldest pending age: none pending",
    ]


def test_notifications_status_flags_a_backlog_older_than_the_health_limit(owed: OutboxMessage) -> None:
    age(owed, 400)
    out = StringIO()
    call_command("notifications_status", stdout=out)
    assert "pending:     1" in out.getvalue()
    assert "older than 300 s: is the worker running?" in out.getvalue()
