"""Admin for the referral domain.

The admin reads everything and edits reference data, but it never moves a handoff, a plan or a message
from one status to another on its own: its actions call the services, and the status fields are read-only.
Handoffs, their events, notifications and outbox rows are the audit trail: nobody adds, edits or deletes
them here.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

import referrals.admin_accounts  # noqa: F401 - registers the admins whose hooks change referrals
from accounts.admin_base import (
    ModelAdmin,
    ScopedInlineFormSet,
    TabularInline,
    admin_actor,
    run_service_for_each,
)
from referrals import audit, policies, services
from referrals.models import (
    AccessLog,
    Concern,
    Consent,
    Exercise,
    HandoffEvent,
    Notification,
    OutboxMessage,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TrainerHandoff,
    TreatmentPlan,
)

_M = TypeVar("_M", bound=Model)
_P = TypeVar("_P", bound=Model)


class ReadOnlyModelAdmin(ModelAdmin[_M]):
    """A view-only admin: no add, no change, no delete. Actions that call services stay available."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


class AuditReadsMixin:
    """Every patient, plan or handoff the admin opens (change, history and delete pages) is recorded in the
    access log with channel=admin, once the scoped queryset and the permissions let the user see it."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is not None and self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            audit.record_read(request, obj, channel=audit.Channel.ADMIN)
        return obj


def _handoff_link(handoff_id: int, public_id: object) -> SafeString:
    url = reverse("admin:referrals_trainerhandoff_change", args=[handoff_id])
    return format_html('<a href="{}">{}</a>', url, str(public_id)[:8])


def _owed_handoff_link(obj: Notification | OutboxMessage) -> SafeString | str:
    """The referral a notification or outbox row is about; "-" for a kind without one."""
    if obj.handoff_id is None or obj.handoff is None:
        return "-"
    return _handoff_link(obj.handoff_id, obj.handoff.public_id)


def _actor_name(event: HandoffEvent) -> str:
    return event.actor_display


def _short(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)


# --- patients, plans, exercises ------------------------------------------------------------------------


class PatientAdminForm(forms.ModelForm[Patient]):
    """The clinic is one of the admin's (ScopedRelations); a patient with plans stays where they are."""

    confirm_distinct = forms.BooleanField(
        required=False,
        label="This is a different person",
        help_text="Tick only when the clinic already has a patient with this name and date of birth.",
    )

    class Meta:
        model = Patient
        fields = ("full_name", "clinic", "date_of_birth", "email", "phone")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        clinic, name, born = data.get("clinic"), data.get("full_name"), data.get("date_of_birth")
        if clinic is None or not name or born is None or data.get("confirm_distinct"):
            return data
        existing = services.patient_namesake(
            clinic_id=clinic.pk, full_name=name, date_of_birth=born, exclude_pk=self.instance.pk
        )
        if existing is not None:
            raise forms.ValidationError(
                f"{existing.full_name}, born {existing.date_of_birth:%Y-%m-%d}, is already a patient of "
                f"{clinic.name} (id {existing.public_id}). Open that record, or tick 'This is a different "
                "person'.",
                code="duplicate_patient",
            )
        return data

    def clean_clinic(self) -> Any:
        clinic = self.cleaned_data["clinic"]
        moving = self.instance.pk is not None and clinic.pk != self.instance.clinic_id
        if moving and not policies.can_change_patient_clinic(self.instance):
            raise forms.ValidationError(
                "This patient has treatment plans at their clinic, so they cannot move to another one: "
                "add them at the new clinic as a new patient.",
                code="patient_has_plans",
            )
        return clinic


@admin.register(Patient)
class PatientAdmin(AuditReadsMixin, ModelAdmin[Patient]):
    form = PatientAdminForm
    organization_scope = ("clinic",)
    list_display = ("full_name", "clinic", "date_of_birth", "email", "phone", "created_at")
    list_filter = ("clinic",)
    search_fields = ("full_name", "email", "phone", "public_id")
    list_select_related = ("clinic",)
    autocomplete_fields = ("clinic",)
    readonly_fields = ("public_id", "created_by", "created_at", "updated_at")
    fields = (
        "full_name",
        "clinic",
        "date_of_birth",
        "email",
        "phone",
        "confirm_distinct",
        "public_id",
        "created_by",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "created_at"

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = admin_actor(request)
        super().save_model(request, obj, form, change)


class ReadOnlyTabularInline(TabularInline[_M, _P]):
    """Rows shown beside their parent that only the workflow writes: no add, change or delete here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedRowsFormSet(ScopedInlineFormSet):
    """A plan's rows in the admin: no more than the service allows (PLAN_MAX_*), with its message."""

    cap_key = ""

    def clean(self) -> None:
        super().clean()
        cap, _ = services.ROW_CAPS[self.cap_key]
        kept = [form for form in self.forms if form.has_changed() or form.instance.pk]
        kept = [form for form in kept if not getattr(form, "cleaned_data", {}).get("DELETE")]
        if len(kept) > cap:
            raise forms.ValidationError(services.row_cap_message(self.cap_key))


def _capped(key: str) -> type[CappedRowsFormSet]:
    return type(f"Capped{key.title()}FormSet", (CappedRowsFormSet,), {"cap_key": key})


class PlanExerciseInline(TabularInline[PlanExercise, TreatmentPlan]):
    model = PlanExercise
    formset = _capped("exercises")
    extra = 0
    autocomplete_fields = ("exercise",)
    fields = ("position", *services.EXERCISE_FIELDS)  # the same dose fields the service accepts

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanExercise]:
        return super().get_queryset(request).select_related("exercise")


class PrecautionInline(TabularInline[Precaution, TreatmentPlan]):
    model = Precaution
    formset = _capped("precautions")
    extra = 0


class RedFlagInline(TabularInline[RedFlag, TreatmentPlan]):
    model = RedFlag
    formset = _capped("red_flags")
    extra = 0


class PlanHandoffInline(ReadOnlyTabularInline[TrainerHandoff, TreatmentPlan]):
    """The plan's handoffs, for reference: they change only through the workflow."""

    model = TrainerHandoff
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("status", "trainer", "gym", "status_reason", "sent_at", "updated_at")
    readonly_fields = fields
    verbose_name_plural = "handoffs (read-only: they change through the workflow)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainerHandoff]:
        return super().get_queryset(request).select_related("trainer", "gym")


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AuditReadsMixin, ModelAdmin[TreatmentPlan]):
    organization_scope = ("patient__clinic",)
    list_display = (
        "__str__",
        "clinic",
        "physiotherapist",
        "icd10_code",
        "status",
        "start_date",
        "discharged_at",
    )
    list_filter = ("status", "patient__clinic", "start_date")
    search_fields = ("patient__full_name", "diagnosis", "icd10_code", "public_id", "physiotherapist__email")
    list_select_related = ("patient__clinic", "physiotherapist")
    autocomplete_fields = ("patient", "physiotherapist")
    readonly_fields = ("public_id", "status", "discharged_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("patient", "physiotherapist", "start_date", "public_id")}),
        ("Clinical", {"fields": ("diagnosis", "icd10_code", "goals")}),
        ("Status (changes through the workflow)", {"fields": ("status", "discharged_at")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    date_hierarchy = "start_date"
    inlines = (PlanExerciseInline, PrecautionInline, RedFlagInline, PlanHandoffInline)

    def get_readonly_fields(self, request: HttpRequest, obj: TreatmentPlan | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # A plan stays with its patient: its handoffs and consent belong to that patient.
        return (*fields, "patient") if obj is not None else fields

    @admin.display(description="clinic", ordering="patient__clinic__name")
    def clinic(self, obj: TreatmentPlan) -> str:
        return obj.patient.clinic.name


@admin.register(Exercise)
class ExerciseAdmin(ModelAdmin[Exercise]):
    organization_scope = None  # the shared exercise library: every staff user sees it
    list_display = ("name", "slug", "category", "body_region", "equipment", "library_version", "retired_at")
    list_filter = ("category", "body_region", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "slug", "equipment", "instructions")
    # Written by `manage.py library_load` (or, for an entry added here, from its name): never by hand.
    readonly_fields = ("slug", "library_version", "retired_at")


@admin.register(PlanExercise)
class PlanExerciseAdmin(ModelAdmin[PlanExercise]):
    organization_scope = ("plan__patient__clinic",)
    list_display = ("exercise", "plan", "position", "dose")
    list_filter = ("exercise__category", "exercise__body_region", "load_unit")
    search_fields = ("exercise__name", "plan__patient__full_name", "notes")
    list_select_related = ("exercise", "plan__patient")
    autocomplete_fields = ("plan", "exercise")

    @admin.display(description="dose")
    def dose(self, obj: PlanExercise) -> str:
        return obj.dose_text


@admin.register(Precaution)
class PrecautionAdmin(ModelAdmin[Precaution]):
    organization_scope = ("plan__patient__clinic",)
    list_display = ("summary", "plan", "kind", "body_region", "valid_until")
    list_filter = ("kind", "body_region", "valid_until")
    search_fields = ("detail", "plan__patient__full_name")
    list_select_related = ("plan__patient",)
    autocomplete_fields = ("plan",)


@admin.register(RedFlag)
class RedFlagAdmin(ModelAdmin[RedFlag]):
    organization_scope = ("plan__patient__clinic",)
    list_display = ("description", "plan")
    search_fields = ("description", "plan__patient__full_name")
    list_select_related = ("plan__patient",)
    autocomplete_fields = ("plan",)


class ConsentActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("withdrawn", "Withdrawn")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "active":
            return queryset.filter(withdrawn_at__isnull=True)
        if self.value() == "withdrawn":
            return queryset.filter(withdrawn_at__isnull=False)
        return queryset


@admin.register(Consent)
class ConsentAdmin(ReadOnlyModelAdmin[Consent]):
    """The patient's consent is recorded and withdrawn by their physiotherapist (consent_record,
    consent_withdraw): withdrawing also cancels the open handoffs to that gym, which a form here could not."""

    organization_scope = ("patient__clinic",)
    list_display = ("patient", "gym", "scope", "recorded_by", "recorded_at", "is_active", "withdrawn_at")
    list_filter = (ConsentActiveFilter, "scope", "gym")
    search_fields = ("patient__full_name", "gym__name", "recorded_by__email")
    list_select_related = ("patient", "gym", "recorded_by")
    date_hierarchy = "recorded_at"

    @admin.display(description="active", boolean=True)
    def is_active(self, obj: Consent) -> bool:
        return obj.is_active


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
        max_length=services.REASON_MAX_LENGTH,
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
        (None, {"fields": ("public_id", "status", "status_reason")}),
        ("Referral", {"fields": ("plan", "clinic", "trainer", "gym", "created_by", "consent")}),
        ("Dates", {"fields": ("sent_at", "created_at", "updated_at")}),
        ("What the trainer was sent", {"fields": ("snapshot_pretty",)}),
    )
    readonly_fields = (
        "public_id",
        "status",
        "status_reason",
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
            lambda handoff: services.handoff_cancel(handoff=handoff, actor=actor, reason=reason),
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


@admin.register(Concern)
class ConcernAdmin(ReadOnlyModelAdmin[Concern]):
    """Where each concern stands. Read-only: physiotherapists acknowledge and resolve them on the handoff
    page or through the API (referrals.services.concern_acknowledge / concern_resolve)."""

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
        return policies.can_resend_notification(request.user) and self.has_view_permission(request)

    @admin.action(description="Re-send selected notifications", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda message: services.outbox_resend(message=message, actor=actor),
            done="Re-queued {n} notification(s).",
            failed="Could not re-send {n} notification(s): ",
            label=lambda message: f"#{message.pk}",
        )


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
        return policies.can_view_access_log(request.user)

    def has_view_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return policies.can_view_access_log(request.user)
