"""Admin of the access log (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from referrals.admin.common import ReadOnlyModelAdmin
from referrals.audit import policies as audit_policies
from referrals.audit.models import AccessLog

# --- the access log ------------------------------------------------------------------------------------


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyModelAdmin[AccessLog]):
    """Who read which patient's data, when, from where and through which channel: superusers only, never
    added, changed or deleted here (the model refuses it too)."""

    organization_scope = None  # not scoped: only superusers reach it at all (the permissions below)
    list_display = (
        "at",
        "user",
        "channel",
        "object_type",
        "patient",
        "object_public_id",
        "ip_address",
        "path",
    )
    list_filter = (
        "channel",
        "object_type",
        ("patient", admin.RelatedOnlyFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
        "at",
    )
    search_fields = (
        "user__email",
        "user__full_name",
        "patient__full_name",
        "=object_public_id",
        "=ip_address",
        "path",
    )
    list_select_related = ("user", "patient")
    date_hierarchy = "at"
    fields = (
        "at",
        "user",
        "channel",
        "object_type",
        "object_public_id",
        "patient",
        "handoff",
        "path",
        "ip_address",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return audit_policies.can_view_access_log(request.user)

    def has_view_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return audit_policies.can_view_access_log(request.user)
