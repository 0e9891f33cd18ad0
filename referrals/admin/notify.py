"""Admin of notifications and the email outbox: delivery problems and re-sending."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.admin_base import (
    admin_actor,
    run_service_for_each,
)
from referrals.admin.common import ReadOnlyModelAdmin, _owed_handoff_link, _short
from referrals.notify import policies as notify_policies
from referrals.notify import services as notify_services
from referrals.notify.models import Notification, OutboxMessage


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin[Notification]):
    # A kind without a referral (none yet) is seen by superusers only.
    organization_scope = ("handoff__plan__patient__clinic",)
    list_display = ("title", "kind", "recipient", "urgent", "read_at", "created_at", "handoff_link")
    list_filter = ("kind", "urgent", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("title", "recipient__email", "recipient__full_name", "source_key")
    list_select_related = ("recipient", "handoff")
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "recipient",
        "kind",
        "source_key",
        "handoff",
        "event",
        "title",
        "urgent",
        "read_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="handoff")
    def handoff_link(self, obj: Notification) -> SafeString | str:
        return _owed_handoff_link(obj)


class DeliveryProblemFilter(admin.SimpleListFilter):
    """The rows someone should look at: failed for good, retrying after an error, or stuck in flight."""

    title = "delivery problems"
    parameter_name = "problem"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("failed", "Failed (out of attempts)"),
            ("retrying", "Retrying after an error"),
            ("stuck", "In flight past its lease"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        status = OutboxMessage.Status
        if self.value() == "failed":
            return queryset.filter(status=status.FAILED)
        if self.value() == "retrying":
            return queryset.filter(status=status.PENDING, attempts__gt=0)
        if self.value() == "stuck":
            return queryset.filter(Q(status=status.IN_FLIGHT) & Q(lease_until__lt=timezone.now()))
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin[OutboxMessage]):
    # A kind without a referral (none yet) is seen by superusers only.
    organization_scope = ("handoff__plan__patient__clinic",)
    list_display = (
        "id",
        "kind",
        "recipient",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "sent_at",
        "created_at",
        "handoff_link",
    )
    list_filter = ("status", "kind", "channel", DeliveryProblemFilter, "created_at")
    search_fields = (
        "recipient__email",
        "recipient__full_name",
        "last_error",
        "handoff__public_id",
        "source_key",
    )
    list_select_related = ("recipient", "handoff")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "source_key",
        "handoff",
        "event",
        "recipient",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "claim_token",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ("resend",)

    @admin.display(description="last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return _short(obj.last_error)

    @admin.display(description="handoff")
    def handoff_link(self, obj: OutboxMessage) -> SafeString | str:
        return _owed_handoff_link(obj)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return notify_policies.can_resend_notification(request.user) and self.has_view_permission(request)

    @admin.action(description="Re-send selected notifications", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda message: notify_services.outbox_resend(message=message, actor=actor),
            done="Re-queued {n} notification(s).",
            failed="Could not re-send {n} notification(s): ",
            label=lambda message: f"#{message.pk}",
        )
