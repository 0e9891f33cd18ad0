"""Admin of what comes back from the gym: session logs and progress reports, read-only for everyone.

They are clinical records the trainer writes through progress.services (and the physiotherapist answers on
the referral's pages): the admin shows them, scoped to the admin's organizations like the other referral
admins (the referral's clinic, as the handoff admin), and adds, changes and deletes nothing."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from referrals.admin.common import AuditReadsMixin, ReadOnlyModelAdmin, ReadOnlyTabularInline, _handoff_link
from referrals.handoffs.models import TrainerHandoff
from referrals.progress.models import ProgressReport, ReportReply, SessionExercise, SessionLog


class SessionExerciseInline(ReadOnlyTabularInline[SessionExercise, SessionLog]):
    model = SessionExercise
    extra = 0
    can_delete = False
    fields = (
        "position",
        "name",
        "prescribed_id",
        "done",
        "sets",
        "reps",
        "hold_seconds",
        "duration_minutes",
        "load_unit",
        "load_value",
    )
    readonly_fields = fields
    ordering = ("position", "id")


@admin.register(SessionLog)
class SessionLogAdmin(AuditReadsMixin, ReadOnlyModelAdmin[SessionLog]):
    """Read-only: the trainer logs a session on the referral's page or through the API. Opening one is in
    the access log, as the referral's read (as on the session's page)."""

    def audited(self, obj: SessionLog) -> TrainerHandoff:
        return obj.handoff

    organization_scope = ("handoff__clinic",)
    list_display = (
        "session_date",
        "handoff_link",
        "attendance",
        "rpe",
        "pain_before",
        "pain_after",
        "logged_by",
    )
    list_filter = ("attendance", "session_date")
    search_fields = ("handoff__public_id", "public_id", "logged_by__email")
    list_select_related = ("handoff", "logged_by")
    date_hierarchy = "session_date"
    fields = (
        "public_id",
        "handoff",
        "session_date",
        "attendance",
        "rpe",
        "pain_before",
        "pain_after",
        "peak_heart_rate",
        "mvpa_minutes",
        "red_flags_seen",
        "note",
        "concern",
        "logged_by",
        "created_at",
    )
    readonly_fields = fields
    inlines = (SessionExerciseInline,)

    @admin.display(description="handoff", ordering="handoff__public_id")
    def handoff_link(self, obj: SessionLog) -> SafeString:
        return _handoff_link(obj.handoff_id, obj.handoff.public_id)


class ReportReplyInline(ReadOnlyTabularInline[ReportReply, ProgressReport]):
    model = ReportReply
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "text")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportReply]:
        return super().get_queryset(request).select_related("author")


@admin.register(ProgressReport)
class ProgressReportAdmin(AuditReadsMixin, ReadOnlyModelAdmin[ProgressReport]):
    """Read-only: the trainer submits a report, a physiotherapist acknowledges and replies on the pages.
    Opening one is in the access log, as the referral's read (as on the report's page)."""

    def audited(self, obj: ProgressReport) -> TrainerHandoff:
        return obj.handoff

    organization_scope = ("handoff__clinic",)
    list_display = (
        "submitted_at",
        "handoff_link",
        "period_start",
        "period_end",
        "final",
        "submitted_by",
        "acknowledged_at",
    )
    list_filter = ("final", ("acknowledged_at", admin.EmptyFieldListFilter), "submitted_at")
    search_fields = ("handoff__public_id", "public_id", "submitted_by__email")
    list_select_related = ("handoff", "submitted_by")
    date_hierarchy = "submitted_at"
    fields = (
        "public_id",
        "handoff",
        "period_start",
        "period_end",
        "final",
        "figures",
        "impressions",
        "obstacles",
        "adherence",
        "recommendations",
        "goals",
        "submitted_by",
        "submitted_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    readonly_fields = fields
    inlines = (ReportReplyInline,)

    @admin.display(description="handoff", ordering="handoff__public_id")
    def handoff_link(self, obj: ProgressReport) -> SafeString:
        return _handoff_link(obj.handoff_id, obj.handoff.public_id)
