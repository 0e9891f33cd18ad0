"""Recording reads of patient data (pages, API, admin), and trimming the record past its retention."""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from referrals.audit.models import AccessLog
from referrals.care.models import Patient, TreatmentPlan
from referrals.handoffs.models import TrainerHandoff

Channel = AccessLog.Channel


ObjectType = AccessLog.ObjectType

TRIM_BATCH_SIZE = 1000


def client_ip(request: Any) -> str | None:
    meta = request.META
    proxies = int(getattr(settings, "HANDOFF_TRUSTED_PROXY_COUNT", 0) or 0)
    candidate = str(meta.get("REMOTE_ADDR") or "")
    if proxies > 0:
        hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]  # the address the outermost trusted proxy saw
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def record_read(
    request: Any,
    obj: Patient | TreatmentPlan | TrainerHandoff,
    *,
    channel: str,
    object_type: str | None = None,
) -> AccessLog:
    """Append one access-log row: `request.user` read `obj` through `channel`.

    `object_type` defaults from the object (patient, plan, handoff); the handout and the timeline of a
    handoff pass their own."""
    handoff: TrainerHandoff | None = None
    if isinstance(obj, Patient):
        patient_id, default_type = obj.pk, ObjectType.PATIENT
    elif isinstance(obj, TreatmentPlan):
        patient_id, default_type = obj.patient_id, ObjectType.PLAN
    else:
        handoff = obj
        patient_id, default_type = obj.plan.patient_id, ObjectType.HANDOFF
    return AccessLog.objects.create(
        user=request.user,
        patient_id=patient_id,
        handoff=handoff,
        object_type=object_type or default_type,
        object_public_id=obj.public_id,
        channel=channel,
        path=str(request.path)[:500],  # the path only: the query string is not recorded
        ip_address=client_ip(request),
    )


def access_log_trim(*, now: datetime.datetime | None = None, batch_size: int = TRIM_BATCH_SIZE) -> int:
    """Delete the access-log entries older than HANDOFF_ACCESS_LOG_RETENTION_DAYS (2,192 days, six years,
    by default): the one path by which the append-only log loses a row. Oldest first, `batch_size` rows per
    transaction, so a run on a large backlog holds no long transaction and one stopped midway keeps what it
    did. Run daily by referrals.tasks.trim_records; idempotent. The rows deleted."""
    before = (now or timezone.now()) - datetime.timedelta(days=settings.HANDOFF_ACCESS_LOG_RETENTION_DAYS)
    total = 0
    while True:
        with transaction.atomic():
            deleted = AccessLog.objects.delete_expired_batch(before=before, limit=batch_size)
        if not deleted:
            return total
        total += deleted
