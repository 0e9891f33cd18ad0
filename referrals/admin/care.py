"""Admin of the care area. The admin never changes a status on its own: its actions call the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_base import (
    ModelAdmin,
    TabularInline,
    admin_actor,
)
from referrals.admin.common import AuditReadsMixin, ReadOnlyModelAdmin, ReadOnlyTabularInline, _capped
from referrals.care import policies as care_policies
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan
from referrals.handoffs.models import TrainerHandoff

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
        existing = care_services.patient_namesake(
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
        if moving and not care_policies.can_change_patient_clinic(self.instance):
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


class PlanExerciseInline(TabularInline[PlanExercise, TreatmentPlan]):
    model = PlanExercise
    formset = _capped("exercises")
    extra = 0
    autocomplete_fields = ("exercise",)
    fields = ("position", *care_services.EXERCISE_FIELDS)  # the same dose fields the service accepts

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
        ("Clinical", {"fields": ("diagnosis", "icd10_code", "goals", "report_interval_weeks")}),
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
