"""Admin for what of the people and organizations touches no referral: professional profiles and their
specializations and credentials (edited here; verified from the certifications' admin), API tokens; the
user forms and the membership inlines of the user and organization pages; the libraries' admins made
superuser only.

The admins whose hooks and actions change the referrals (users, organizations, memberships,
partnerships, certifications) are in referrals.admin.accounts: `accounts` imports nothing of referrals.
The machinery (scoping, base classes) is accounts.admin_base.
"""

from __future__ import annotations

from typing import Any, ClassVar

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from accounts import services as account_services
from accounts.admin_base import (
    ModelAdmin,
    RelationScope,
    SuperuserOnly,
    TabularInline,
    admin_actor,
    is_under_authority,
    run_service_for_each,
    users_under_authority,
)
from accounts.models import (
    ApiToken,
    Certification,
    EncryptedTOTPDevice,
    Membership,
    Organization,
    PhysiotherapistProfile,
    TrainerProfile,
    TrainerSpecialization,
    User,
)

_UserChangeFormBase = DjangoUserChangeForm[User]


def _superusers_only(*models: type[Model]) -> None:
    """Re-register a library's admin (registered before this app's, INSTALLED_APPS order) as superuser
    only, keeping everything else of it."""
    for model in models:
        library_admin = type(admin.site._registry[model])
        admin.site.unregister(model)
        restricted = type(f"SuperuserOnly{library_admin.__name__}", (SuperuserOnly, library_admin), {})
        admin.site.register(model, restricted)


_superusers_only(Group, StaticDevice, AccessAttempt, AxesAccessLog, AccessFailureLog)
# django-otp's own TOTP devices hold their secret in plain text, and its admin shows it: the devices are
# EncryptedTOTPDevice rows (migration 0005 moved them), whose admin is below.
admin.site.unregister(PlainTOTPDevice)


@admin.register(EncryptedTOTPDevice)
class EncryptedTOTPDeviceAdmin(SuperuserOnly, ModelAdmin[EncryptedTOTPDevice]):
    """Superusers see the authenticator apps and delete one (a lost phone and no backup codes: README
    "Security"). The secret is never shown, and nobody adds or edits a device here: its user sets it up."""

    organization_scope = None  # not scoped: only superusers reach it at all (SuperuserOnly)

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    fields = readonly_fields = (
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- users ---------------------------------------------------------------------------------------------


def _clean_new_email(form: forms.ModelForm[User]) -> str:
    """Emails are stored lower-case (UserManager.create_user) and unique regardless of case."""
    email = str(form.cleaned_data.get("email") or "").strip().lower()
    clash = User.objects.filter(email__iexact=email)
    if form.instance.pk is not None:
        clash = clash.exclude(pk=form.instance.pk)
    if email and clash.exists():
        raise forms.ValidationError("A user with this email address already exists.", code="unique")
    return email


class UserCreationForm(AdminUserCreationForm):
    """Email, name and password (the password may also be left unusable), and the organization and role
    the new user starts with: one of the admin's organizations (UserAdmin.get_form scopes the choices, and
    requires one of an org admin) and a role that fits its kind. UserAdmin.save_model creates both with
    `user_create_with_membership`."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="The organization the new user joins: one of yours.",
    )
    role = forms.ChoiceField(choices=[("", "---------"), *Membership.Role.choices], required=False)

    # Set per request by UserAdmin.get_form on a subclass (never on the shared field objects).
    organizations: ClassVar[QuerySet[Organization] | None] = None
    organization_required: ClassVar[bool] = True

    class Meta:
        model = User
        fields = ("email", "full_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization = self.fields["organization"]
        assert isinstance(organization, forms.ModelChoiceField)  # noqa: S101 - declared above
        organization.queryset = (
            self.organizations if self.organizations is not None else Organization.objects.none()
        )
        organization.required = self.organization_required

    def clean_email(self) -> str:
        return _clean_new_email(self)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        organization, role = cleaned.get("organization"), cleaned.get("role")
        if organization is None:
            if role and "organization" not in self.errors:
                self.add_error("organization", "Choose the organization the role is at.")
            return cleaned
        if not role:
            self.add_error("role", forms.ValidationError("Choose a role.", code="required"))
            return cleaned
        try:
            account_services.membership_role_check(organization=organization, role=role)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class UserChangeForm(_UserChangeFormBase):
    class Meta:
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        )

    def clean_email(self) -> str:
        return _clean_new_email(self)


class MembershipInline(TabularInline[Membership, Any]):
    """Shared by the user and the organization pages: each hides the column of its own side. The user
    offered is a member of the admin's organizations, the organization one of theirs (ScopedRelations).
    Those pages (referrals.admin.accounts) save it through `save_membership_formset`: a membership
    deleted or moved ends through its service, which settles its open referrals."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user", "organization")


class UserMembershipInline(MembershipInline):
    """A user's memberships, changed only while the user is under the admin's authority (UserAdmin)."""

    fields = ("organization", "role", "created_at")

    def _may_change_user(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or is_under_authority(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and self._may_change_user(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_change_user(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_change_user(request, obj)


class OrganizationMembershipInline(MembershipInline):
    fields = ("user", "role", "created_at")


# --- professional profiles and credentials -------------------------------------------------------------


@admin.register(PhysiotherapistProfile)
class PhysiotherapistProfileAdmin(ModelAdmin[PhysiotherapistProfile]):
    organization_scope = ("user__memberships__organization",)
    list_display = ("user", "licence_number", "jurisdiction", "licence_expiry", "licence_current")
    list_filter = ("jurisdiction", "licence_expiry")
    search_fields = ("user__email", "user__full_name", "licence_number", "jurisdiction")
    ordering = ("user__full_name", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    date_hierarchy = "licence_expiry"

    @admin.display(description="licence current", boolean=True)
    def licence_current(self, obj: PhysiotherapistProfile) -> bool:
        return obj.licence_current


def certification_changes(form: forms.ModelForm[Certification]) -> dict[str, Any]:
    """What a certification form changed, for `certification_update` (which unverifies on a change)."""
    fields = account_services.CERTIFICATION_IDENTITY_FIELDS
    return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}


class CertificationInline(TabularInline[Certification, TrainerProfile]):
    model = Certification
    extra = 0
    fields = ("issuing_body", "other_body", "number", "expiry", "verified", "verified_by", "verified_at")
    readonly_fields = ("verified", "verified_by", "verified_at")
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Certification]:
        return super().get_queryset(request).select_related("verified_by")


class TrainerSpecializationInline(TabularInline[TrainerSpecialization, TrainerProfile]):
    model = TrainerSpecialization
    extra = 0


@admin.register(TrainerProfile)
class TrainerProfileAdmin(ModelAdmin[TrainerProfile]):
    organization_scope = ("user__memberships__organization",)
    ordering = ("user__full_name", "user__email")
    list_display = (
        "user",
        "accepting_new_clients",
        "max_active_clients",
        "cpr_aed_expiry",
        "cpr_aed_current",
    )
    list_filter = ("accepting_new_clients", "specializations__specialization", "cpr_aed_expiry")
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    inlines = (TrainerSpecializationInline, CertificationInline)

    @admin.display(description="CPR/AED current", boolean=True)
    def cpr_aed_current(self, obj: TrainerProfile) -> bool:
        return obj.cpr_aed_current()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Certification:
            super().save_formset(request, form, formset, change)
            return
        # New rows start unverified and deleted rows go as usual; an edited row goes through the service,
        # which unverifies it when what was verified changed.
        actor = admin_actor(request)
        formset.save(commit=False)
        for certification in formset.deleted_objects:
            certification.delete()
        for row in formset.initial_forms:
            if row.instance in formset.deleted_objects or not row.has_changed():
                continue
            account_services.certification_update(
                certification=row.instance, actor=actor, **certification_changes(row)
            )
        for certification in formset.new_objects:
            certification.save()


@admin.register(TrainerSpecialization)
class TrainerSpecializationAdmin(ModelAdmin[TrainerSpecialization]):
    organization_scope = ("profile__user__memberships__organization",)
    list_display = ("profile", "specialization")
    list_filter = ("specialization",)
    search_fields = ("profile__user__email", "profile__user__full_name")
    list_select_related = ("profile__user",)
    autocomplete_fields = ("profile",)


# --- API tokens ----------------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin[ApiToken]):
    """Staff create a token for a user (the raw token is shown once, in the confirmation message) and
    revoke tokens. Only the hash is stored; a token is never edited or deleted, so its history stays."""

    organization_scope = ("user__memberships__organization",)
    # A token acts as its user: only for someone the admin may change, never a superuser or staff.
    relation_scopes: ClassVar[dict[str, RelationScope]] = {"user": users_under_authority}
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__email", "user__full_name")
    autocomplete_fields = ("user",)
    actions = ("revoke_tokens",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["user", "name"]
        return ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # nothing of a token is editable
        token, raw = account_services.api_token_create(user=obj.user, name=obj.name)
        obj.pk, obj.public_id, obj.prefix, obj.key_hash = (
            token.pk,
            token.public_id,
            token.prefix,
            token.key_hash,
        )
        obj.created_at = token.created_at
        self.message_user(
            request,
            f"The token for {token.user} is {raw} - copy it now: it will not be shown again.",
            level=messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset.filter(revoked_at__isnull=True).select_related("user"),
            lambda token: account_services.api_token_revoke(token=token, actor=actor),
            done="Revoked {n} token(s).",
            failed="Could not revoke {n} token(s): ",
        )
