"""The baseline: the trainer inbox's page of rows from one `.values()` query, as JSON, nothing on top.

No authentication, no permission check, no serializer, no pagination object: what is left when the
framework is taken away. The API's p50 is reported as a ratio to this view's p50.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from referrals.models import HandoffStatus, TrainerHandoff

PAGE_SIZE = 25
FIELDS = (
    "public_id",
    "status",
    "status_reason",
    "trainer__public_id",
    "trainer__full_name",
    "gym__public_id",
    "gym__name",
    "sent_at",
    "created_at",
    "updated_at",
    "snapshot",
)


def inbox_baseline(request: HttpRequest) -> JsonResponse:
    """The same rows as GET /api/v1/handoffs/ for trainer `?trainer=<id>`: not drafts, newest first."""
    rows = list(
        TrainerHandoff.objects.filter(trainer_id=int(request.GET["trainer"]))
        .exclude(status=HandoffStatus.DRAFT)
        .order_by("-updated_at", "-id")
        .values(*FIELDS)[:PAGE_SIZE]
    )
    return JsonResponse({"results": rows})
