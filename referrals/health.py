"""What the notification pipeline depends on, for a load balancer or a monitor: `/healthz`.

No login and no patient data: the answer is three states and one number. 200 when all is well, 503 when
the database or Redis is down, or when the oldest undelivered outbox row is older than
HANDOFF_HEALTH_MAX_PENDING_AGE (a stuck or absent worker or sweeper). In the embedded default (no
REDIS_URL, tasks in-process) Redis is "not_configured" and does not fail the check.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from referrals.notify.models import OutboxMessage

logger = logging.getLogger(__name__)
Status = OutboxMessage.Status
UNDELIVERED = (Status.PENDING, Status.IN_FLIGHT)


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("health: database down: %s", exc)
        return "down"
    return "ok"


def redis_state() -> str:
    url: str = settings.REDIS_URL
    if not url:
        return "not_configured"
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        logger.warning("health: redis down: %s", exc)
        return "down"
    finally:
        client.close()
    return "ok"


def outbox_counts() -> dict[str, int]:
    """Outbox rows by status, every status present (zero when none)."""
    rows = OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status.value: 0 for status in Status}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def oldest_pending_seconds() -> float | None:
    """Age of the oldest row still owed (pending, retrying or in flight); None when nothing is owed."""
    rows = OutboxMessage.objects.filter(status__in=UNDELIVERED)
    oldest: datetime.datetime | None = rows.aggregate(oldest=Min("created_at"))["oldest"]
    if oldest is None:
        return None
    return round(max(0.0, (timezone.now() - oldest).total_seconds()), 1)


def health() -> tuple[dict[str, Any], bool]:
    database = database_state()
    oldest = oldest_pending_seconds() if database == "ok" else None
    broker = redis_state()
    limit: int = settings.HANDOFF_HEALTH_MAX_PENDING_AGE
    backlog_ok = oldest is None or oldest <= limit
    healthy = database == "ok" and broker in ("ok", "not_configured") and backlog_ok
    report = {
        "status": "ok" if healthy else "fail",
        "database": database,
        "redis": broker,
        "oldest_pending_seconds": oldest,
        "max_pending_seconds": limit,
    }
    return report, healthy


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report, healthy = health()
    return JsonResponse(report, status=200 if healthy else 503)
