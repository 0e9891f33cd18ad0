"""Admin of referrals and their events: read-only statuses, actions through the services."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.admin_base import (
    admin_actor,
    run_service_for_each,
)
from referrals.admin.common import (
    AuditReadsMixin,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
    _actor_name,
    _handoff_link,
    _short,
)
from referrals.handoffs import models as handoffs_models
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, TrainerHandoff

# --- handoffs and their audit trail --------------------------------------------------------------------


class HandoffEventInline(ReadOnlyTabularInline[HandoffEvent, TrainerHandoff]):
    model = HandoffEvent
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "kind",
        "from_status",
        "to_status",
        "actor_name",
        "text",
        "urgent",
        "delivered_at",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description="actor")
    def actor_name(self, obj: HandoffEvent) -> str:
        return _actor_name(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[HandoffEvent]:
        return super().get_queryset(request).select_related("actor")


class CancelHandoffsForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=handoffs_models.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Kept in each handoff's history; the trainer sees it.",
    )


@admin.register(TrainerHandoff)
class TrainerHandoffAdmin(AuditReadsMixin, ReadOnlyModelAdmin[TrainerHandoff]):
    """View-only: handoffs are created and moved by the workflow; the admin may cancel them (a service)."""

    organization_scope = ("plan__patient__clinic",)
    list_display = ("short_id", "status", "clinic", "trainer", "gym", "sent_at", "updated_at")
    list_filter = ("status", "gym", "plan__patient__clinic", "sent_at")
    search_fields = (
        "public_id",
        "trainer__email",
        "trainer__full_name",
        "gym__name",
        "plan__patient__full_name",
        "plan__patient__clinic__name",
    )
    list_select_related = ("clinic", "trainer", "gym")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("public_id", "status", "status_reason", "business_status")}),
        ("Referral", {"fields": ("plan", "clinic", "trainer", "gym", "created_by", "consent")}),
        ("Dates", {"fields": ("sent_at", "created_at", "updated_at")}),
        ("What the trainer was sent", {"fields": ("snapshot_pretty",)}),
    )
    readonly_fields = (
        "public_id",
        "status",
        "status_reason",
        "business_status",
        "plan",
        "clinic",
        "trainer",
        "gym",
        "created_by",
        "consent",
        "sent_at",
        "created_at",
        "updated_at",
        "snapshot_pretty",
    )
    inlines = (HandoffEventInline,)
    actions = ("cancel_handoffs",)

    @admin.display(description="handoff", ordering="public_id")
    def short_id(self, obj: TrainerHandoff) -> str:
        return str(obj.public_id)[:8]

    @admin.display(description="snapshot")
    def snapshot_pretty(self, obj: TrainerHandoff) -> str:
        if obj.snapshot is None:
            return "-"
        text = json.dumps(obj.snapshot, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """Who may try: staff with the change permission on handoffs. The service decides per handoff
        (the clinic's org admins and superusers may cancel)."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description="Cancel selected handoffs (with a reason)", permissions=["cancel"])
    def cancel_handoffs(
        self, request: HttpRequest, queryset: QuerySet[TrainerHandoff]
    ) -> HttpResponse | None:
        handoffs = list(queryset.select_related("plan__patient__clinic", "trainer", "gym"))
        if "apply" in request.POST:
            form = CancelHandoffsForm(request.POST)
            if form.is_valid():
                self._cancel(request, handoffs, reason=form.cleaned_data["reason"])
                return None  # back to the changelist, with the messages
        else:
            form = CancelHandoffsForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel handoffs",
            "opts": self.opts,
            "form": form,
            "handoffs": handoffs,
            "action_name": "cancel_handoffs",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/referrals/trainerhandoff/cancel_handoffs.html", context)

    def _cancel(self, request: HttpRequest, handoffs: list[TrainerHandoff], *, reason: str) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            handoffs,
            lambda handoff: handoffs_services.handoff_cancel(handoff=handoff, actor=actor, reason=reason),
            done="Cancelled {n} handoff(s).",
            failed="Could not cancel {n} handoff(s): ",
        )


@admin.register(HandoffEvent)
class HandoffEventAdmin(ReadOnlyModelAdmin[HandoffEvent]):
    """The audit trail: read-only."""

    organization_scope = ("handoff__plan__patient__clinic",)
    list_display = (
        "created_at",
        "handoff_link",
        "kind",
        "from_status",
        "to_status",
        "actor_name",
        "urgent",
        "short_text",
        "delivered_at",
    )
    list_filter = ("kind", "to_status", "urgent", ("delivered_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("text", "actor__email", "actor__full_name", "handoff__public_id")
    list_select_related = ("handoff", "actor")
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "handoff",
        "kind",
        "from_status",
        "to_status",
        "actor_name",
        "text",
        "urgent",
        "created_at",
        "delivered_at",
    )
    readonly_fields = fields

    @admin.display(description="handoff", ordering="handoff__public_id")
    def handoff_link(self, obj: HandoffEvent) -> SafeString:
        return _handoff_link(obj.handoff_id, obj.handoff.public_id)

    @admin.display(description="actor", ordering="actor__full_name")
    def actor_name(self, obj: HandoffEvent) -> str:
        return _actor_name(obj)

    @admin.display(description="text")
    def short_text(self, obj: HandoffEvent) -> str:
        return _short(obj.text)
