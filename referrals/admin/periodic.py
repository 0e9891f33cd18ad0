"""Admin of the periodic tasks (read-only): beat's schedule (settings.CELERY_BEAT_SCHEDULE) with each
entry's last run, its next due time and a late flag, for superusers. The schedule stays in the settings
(not django-celery-beat: docs/architecture.md, "Timers"); this shows it and whether it runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from referrals.admin.common import ReadOnlyModelAdmin
from referrals.periodic import policies as periodic_policies
from referrals.periodic import schedule as periodic_schedule
from referrals.periodic.models import PeriodicRun


def _status(run: PeriodicRun) -> periodic_schedule.RunStatus:
    return periodic_schedule.run_status(run, timezone.now())


class LateFilter(admin.SimpleListFilter):
    """The entries with no run started within twice their interval (a handful of rows: worked out here)."""

    title = "late"
    parameter_name = "late"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Late"), ("no", "On time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("yes", "no"):
            return queryset
        late = [run.pk for run in queryset if _status(run).late]
        return queryset.filter(pk__in=late) if self.value() == "yes" else queryset.exclude(pk__in=late)


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyModelAdmin[PeriodicRun]):
    """One row per schedule entry, made at migrate (referrals.apps), so an entry that never ran is listed
    too; the tasks write them (periodic.services.recorded), nobody here adds, changes or deletes one."""

    organization_scope = None  # the deployment's: only superusers reach it at all (the permissions below)
    list_display = (
        "name",
        "task",
        "every",
        "last_started_at",
        "last_finished_at",
        "outcome",
        "last_result",
        "next_due",
        "late",
        "runs",
        "failures",
    )
    list_filter = (LateFilter, "last_outcome")
    search_fields = ("name", "task")
    fields = (
        "name",
        "task",
        "every",
        "last_started_at",
        "last_finished_at",
        "outcome",
        "last_result",
        "last_error",
        "next_due",
        "late",
        "runs",
        "failures",
        "created_at",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return periodic_policies.can_view_periodic_runs(request.user)

    def has_view_permission(self, request: HttpRequest, obj: PeriodicRun | None = None) -> bool:
        return periodic_policies.can_view_periodic_runs(request.user)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list, with what it says above it: where the schedule comes from, what "late" means, and
        where a clinic's own timers are set (the clinics' admin pages)."""
        clinics = reverse("admin:accounts_organization_changelist")
        context = {
            **(extra_context or {}),
            "late_after_intervals": periodic_schedule.LATE_AFTER_INTERVALS,
            "clinics_url": f"{clinics}?kind__exact={Organization.Kind.CLINIC}",
        }
        return super().changelist_view(request, context)

    @admin.display(description="every")
    def every(self, obj: PeriodicRun) -> str:
        entry = _status(obj).entry
        return entry.every if entry is not None else "not in the schedule"

    @admin.display(description="outcome")
    def outcome(self, obj: PeriodicRun) -> str:
        return _status(obj).outcome

    @admin.display(description="next due")
    def next_due(self, obj: PeriodicRun) -> datetime.datetime | None:
        return _status(obj).next_due

    @admin.display(description="late", boolean=True)
    def late(self, obj: PeriodicRun) -> bool:
        return _status(obj).late
