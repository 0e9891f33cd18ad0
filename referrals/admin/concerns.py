"""Admin of concerns (read-only: answered on the referral page or through the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.safestring import SafeString

from referrals.admin.common import ReadOnlyModelAdmin, _actor_name, _handoff_link
from referrals.concerns.models import Concern


@admin.register(Concern)
class ConcernAdmin(ReadOnlyModelAdmin[Concern]):
    """Where each concern stands. Read-only: physiotherapists acknowledge and resolve them on the handoff
    page or through the API (referrals.concerns.services.concern_acknowledge / concern_resolve)."""

    organization_scope = ("handoff__plan__patient__clinic",)
    list_display = ("raised_at", "handoff_link", "raised_by", "state", "acknowledged_at", "resolved_at")
    list_filter = (
        ("resolved_at", admin.EmptyFieldListFilter),
        ("acknowledged_at", admin.EmptyFieldListFilter),
    )
    search_fields = (
        "handoff__public_id",
        "event__actor__email",
        "event__actor__full_name",
        "resolution_note",
    )
    list_select_related = ("handoff", "event__actor")
    fields = (
        "public_id",
        "handoff",
        "event",
        "put_on_hold",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    )
    readonly_fields = fields

    @admin.display(description="raised", ordering="event__created_at")
    def raised_at(self, obj: Concern) -> Any:
        return obj.event.created_at

    @admin.display(description="raised by")
    def raised_by(self, obj: Concern) -> str:
        return _actor_name(obj.event)

    @admin.display(description="handoff", ordering="handoff__public_id")
    def handoff_link(self, obj: Concern) -> SafeString:
        return _handoff_link(obj.handoff_id, obj.handoff.public_id)
