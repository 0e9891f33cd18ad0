"""The baseline: the trainer inbox's page of rows from one `.values()` query, as JSON, nothing on top.

No authentication, no permission check, no serializer, no pagination object: what is left when the
framework is taken away. The API's p50 is reported as a ratio to this view's p50.
"""

from __future__ import annotations

from django.db.models.fields.json import KT
from django.http import HttpRequest, JsonResponse

from referrals.handoffs.models import HandoffStatus, TrainerHandoff

PAGE_SIZE = 25
# The columns GET /api/v1/handoffs/ reads for a trainer's rows (selectors.HANDOFF_SUMMARY_FIELDS and the
# three names of the snapshot), so the two views fetch the same data and differ only in the framework.
# (The trainer's own name and id the API takes from the authenticated user, as every row is theirs.)
FIELDS = (
    "id",
    "public_id",
    "status",
    "status_reason",
    "clinic_id",
    "trainer_id",
    "gym_id",
    "consent_id",
    "consent__withdrawn_at",
    "gym__public_id",
    "gym__name",
    "sent_at",
    "created_at",
    "updated_at",
)


def inbox_baseline(request: HttpRequest) -> JsonResponse:
    """The same rows as GET /api/v1/handoffs/ for trainer `?trainer=<id>`: not drafts, newest first."""
    rows = list(
        TrainerHandoff.objects.filter(trainer_id=int(request.GET["trainer"]))
        .exclude(status=HandoffStatus.DRAFT)
        .order_by("-updated_at", "-id")
        .values(
            *FIELDS,
            snapshot_clinic=KT("snapshot__clinic"),
            snapshot_physiotherapist=KT("snapshot__physiotherapist"),
            snapshot_patient=KT("snapshot__patient__name"),
        )[:PAGE_SIZE]
    )
    return JsonResponse({"results": rows})
