"""Admin for the people and organizations whose changes reach the referrals: users (deactivation),
organizations and memberships (a membership that ends), partnerships (one that ends) and certifications
(verified through `handoffs.organizations.certification_verify`, never by ticking a box).

Their hooks and actions call the organization-change services of referrals.handoffs.organizations,
which say what happens to the open referrals concerned, so they live on this side: `accounts` imports
nothing of referrals. The admin machinery (scoping, ScopedRelations, the base classes) is
accounts.admin_base's; the user forms and the inlines these admins use, and the admins of what touches no
referral (profiles, specializations, API tokens), are accounts.admin's. referrals.admin imports this
module, so autodiscovery registers these on the same admin site."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import policies as accounts_policies
from accounts import services as account_services
from accounts.admin import (
    OrganizationMembershipInline,
    UserChangeForm,
    UserCreationForm,
    UserMembershipInline,
    certification_changes,
)
from accounts.admin_base import (
    ModelAdmin,
    NamedControls,
    ScopedRelations,
    admin_actor,
    as_admin_refusal,
    autocomplete_choices,
    is_under_authority,
    run_service_for_each,
    scope_to_organizations,
)
from accounts.models import Certification, Membership, Organization, Partnership, User
from referrals import access as referrals_access
from referrals.errors import DomainError
from referrals.handoffs import organizations as handoffs_organizations
from referrals.timers.models import ClinicTimers

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin


# django_stubs_ext.monkeypatch() (config/settings/base.py) makes the admin classes subscriptable at run
# time, so `ModelAdmin[Model]` is both what mypy checks and what Django runs.
_UserAdminBase = DjangoUserAdmin[User]  # type: ignore[type-var]  # stubs bind it to AbstractUser


# --- memberships: one that ends goes through its service -----------------------------------------------

MEMBERSHIP_IDENTITY = frozenset({"user", "organization", "role"})


def end_membership(request: HttpRequest, membership: Membership) -> None:
    """A membership deleted in the admin ends through its service (handoffs.organizations.membership_end):
    a trainer's open referrals at that gym are cancelled, a physiotherapist's are handed over."""
    try:
        handoffs_organizations.membership_end(membership=membership, actor=admin_actor(request))
    except (DomainError, ValidationError) as exc:
        raise as_admin_refusal(exc) from exc


def save_membership(request: HttpRequest, membership: Membership, changed: Iterable[str]) -> None:
    """Save a membership from a form. One moved to another user, organization or role ends the old one
    through its service first (as a delete would), and is then saved as a new membership."""
    if membership.pk is not None and MEMBERSHIP_IDENTITY & set(changed):
        end_membership(request, Membership.objects.get(pk=membership.pk))
        membership.pk = None
    membership.save()


def save_membership_formset(request: HttpRequest, formset: Any) -> bool:
    """The memberships inline of the user and organization pages, through the same hooks; False when the
    formset is not of memberships (the caller saves it as usual)."""
    if formset.model is not Membership:
        return False
    instances = formset.save(commit=False)
    for membership in formset.deleted_objects:
        end_membership(request, membership)
    changed = {obj.pk: names for obj, names in formset.changed_objects}
    for membership in instances:
        save_membership(request, membership, changed.get(membership.pk, ()))
    formset.save_m2m()
    return True


# --- users ---------------------------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(ScopedRelations, NamedControls, _UserAdminBase):
    """An org admin lists the members of their organizations and changes only those under their
    authority (users_under_authority): a superuser, a staff user or someone who also belongs to another
    organization is read-only to them: no save, no password change, no deletion."""

    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "organization",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("public_id", "last_login")
    list_display = (
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__role", "groups")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    inlines = (UserMembershipInline,)

    organization_scope = ("memberships__organization",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return scope_to_organizations(super().get_queryset(request), request.user, self.organization_scope)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return autocomplete_choices(self.admin_site, request, queryset), may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if accounts_policies.is_superuser(request.user):
            return fields
        # An org admin manages the people of their organization, not who is staff or superuser.
        return (*fields, "is_staff", "is_superuser", "groups", "user_permissions")

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        # The add page asks for the first membership itself (organization and role); more come after.
        return [] if obj is None else list(super().get_inlines(request, obj))

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form
        # The organizations offered, and accepted on post, are those the admin may open (ScopedRelations,
        # through Membership.organization); an org admin must choose one, a superuser may leave it empty.
        organizations = self.relation_choices(
            Membership._meta.get_field("organization"), request, Organization.objects.all()
        )
        scoped = {
            "organizations": organizations,
            "organization_required": not accounts_policies.is_superuser(request.user),
        }
        return type(form.__name__, (form,), scoped)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            # Unticking "active" deactivates through the service: open referrals cancelled or handed over.
            if "is_active" in form.changed_data and not obj.is_active:
                try:
                    handoffs_organizations.user_deactivate(user=obj, actor=admin_actor(request))
                except DomainError as exc:
                    raise as_admin_refusal(exc) from exc
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        try:
            user = account_services.user_create_with_membership(
                actor=admin_actor(request),
                email=obj.email,
                full_name=obj.full_name,
                password=data["password1"] if data.get("set_usable_password") else None,
                organization=data.get("organization"),
                role=data.get("role") or "",
            )
        except DomainError as exc:  # the authority was lost between the form and the save
            raise PermissionDenied(exc.message) from exc
        # The admin goes on with this object (history entry, redirect to its change page).
        for model_field in User._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(user, model_field.attname))
        obj._state.adding = False

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Django's password change view asks this too: refused (403) for a user outside the authority.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or is_under_authority(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or is_under_authority(request, obj))

    actions = ("deactivate_users",)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not save_membership_formset(request, formset):
            super().save_formset(request, form, formset, change)

    @admin.action(description="Deactivate selected users (their open referrals are cancelled or handed over)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda user: handoffs_organizations.user_deactivate(user=user, actor=actor),
            done="{n} user(s) deactivated.",
            failed="Not deactivated: ",
        )


# --- organizations -------------------------------------------------------------------------------------


class ClinicTimersInline(admin.StackedInline[ClinicTimers, Organization]):
    """The clinic's timers: how long its requested referrals wait for the trainer (timers.services), its
    care goes without a session (timers.idle), a hold lasts before its review (timers.hold); each empty
    field is the deployment's default (settings.HANDOFF_TIMER_DEFAULTS)."""

    model = ClinicTimers
    extra = 0
    max_num = 1
    can_delete = True
    fields = (
        "remind_after_hours",
        "escalate_after_days",
        "expire_after_days",
        "accept_idle_days",
        "session_idle_days",
        "hold_review_days",
    )


@admin.register(Organization)
class OrganizationAdmin(ModelAdmin[Organization]):
    organization_scope = ("pk",)
    list_display = ("name", "kind", "city", "email", "phone", "member_count", "created_at")
    list_filter = ("kind", "city")
    search_fields = ("name", "city", "email")
    ordering = ("name",)  # the member count's GROUP BY drops Meta.ordering
    readonly_fields = ("public_id", "created_at")
    fields = ("name", "kind", "city", "email", "phone", "time_zone", "public_id", "created_at")
    inlines = (OrganizationMembershipInline, ClinicTimersInline)

    def get_inline_instances(self, request: HttpRequest, obj: Organization | None = None) -> list[Any]:
        """A clinic's timers only on a clinic's page."""
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if not isinstance(inline, ClinicTimersInline)
            or (obj is not None and obj.kind == Organization.Kind.CLINIC)
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(_member_count=Count("memberships", distinct=True))

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: Organization) -> int:
        return int(getattr(obj, "_member_count", 0))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not save_membership_formset(request, formset):
            super().save_formset(request, form, formset, change)


@admin.register(Membership)
class MembershipAdmin(ModelAdmin[Membership]):
    organization_scope = ("organization",)
    list_display = ("user", "organization", "role", "organization_kind", "created_at")
    list_filter = ("role", "organization__kind", "organization")
    search_fields = ("user__email", "user__full_name", "organization__name")
    list_select_related = ("user", "organization")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    @admin.display(description="kind", ordering="organization__kind")
    def organization_kind(self, obj: Membership) -> str:
        return obj.organization.get_kind_display()

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        save_membership(request, obj, form.changed_data if change else ())

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        end_membership(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.order_by("pk"):
            end_membership(request, membership)


@admin.register(Partnership)
class PartnershipAdmin(ModelAdmin[Partnership]):
    organization_scope = ("clinic", "gym")
    list_display = ("clinic", "gym", "active", "started_on")
    list_filter = ("active", "started_on")
    search_fields = ("clinic__name", "gym__name", "notes")
    list_select_related = ("clinic", "gym")
    autocomplete_fields = ("clinic", "gym")
    date_hierarchy = "started_on"
    actions = ("end_partnerships",)

    def save_model(self, request: HttpRequest, obj: Partnership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "active" in form.changed_data and not obj.active:
            self._end(request, obj)  # its open referrals are cancelled, the people concerned told

    def delete_model(self, request: HttpRequest, obj: Partnership) -> None:
        self._end(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Partnership]) -> None:
        for partnership in queryset.order_by("pk"):
            self._end(request, partnership)
        super().delete_queryset(request, queryset)

    def _end(self, request: HttpRequest, partnership: Partnership) -> None:
        try:
            handoffs_organizations.partnership_end(partnership=partnership, actor=admin_actor(request))
        except DomainError as exc:
            raise as_admin_refusal(exc) from exc

    @admin.action(description="End selected partnerships (their open referrals are cancelled)")
    def end_partnerships(self, request: HttpRequest, queryset: QuerySet[Partnership]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda partnership: handoffs_organizations.partnership_end(partnership=partnership, actor=actor),
            done="{n} partnership(s) ended.",
            failed="Not ended: ",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Partnership | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # A partnership is its pair: another pair is another partnership. Both ends are chosen (within the
        # admin's organizations) when it is added; afterwards the admin of either end may end it.
        return (*fields, "clinic", "gym") if obj is not None else fields


# --- credentials ---------------------------------------------------------------------------------------


class CertificationValidityFilter(admin.SimpleListFilter):
    title = "validity"
    parameter_name = "validity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("current", "Current"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "current":
            return queryset.filter(expiry__gte=timezone.localdate())
        if self.value() == "expired":
            return queryset.filter(expiry__lt=timezone.localdate())
        return queryset


@admin.register(Certification)
class CertificationAdmin(ModelAdmin[Certification]):
    organization_scope = ("profile__user__memberships__organization",)
    list_display = (
        "__str__",
        "trainer",
        "issuing_body",
        "number",
        "expiry",
        "current",
        "verified",
        "verified_by",
        "verified_at",
    )
    list_filter = ("verified", CertificationValidityFilter, "issuing_body", "expiry")
    search_fields = ("number", "other_body", "profile__user__email", "profile__user__full_name")
    list_select_related = ("profile__user", "verified_by")
    autocomplete_fields = ("profile",)
    fields = (
        "profile",
        "issuing_body",
        "other_body",
        "number",
        "expiry",
        "verified",
        "verified_by",
        "verified_at",
    )
    readonly_fields = ("verified", "verified_by", "verified_at")
    date_hierarchy = "expiry"
    actions = ("verify_certifications",)

    @admin.display(description="trainer", ordering="profile__user__full_name")
    def trainer(self, obj: Certification) -> User:
        return obj.profile.user

    def save_model(self, request: HttpRequest, obj: Certification, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)  # a new certification starts unverified
            return
        updated = account_services.certification_update(
            certification=obj, actor=admin_actor(request), **certification_changes(form)
        )
        obj.verified, obj.verified_by = updated.verified, updated.verified_by
        obj.verified_at = updated.verified_at

    @admin.display(description="current", boolean=True)
    def current(self, obj: Certification) -> bool:
        return obj.is_current()

    def has_verify_permission(self, request: HttpRequest) -> bool:
        return referrals_access.can_verify_certification(request.user) and self.has_view_permission(request)

    @admin.action(description="Mark selected certifications verified", permissions=["verify"])
    def verify_certifications(self, request: HttpRequest, queryset: QuerySet[Certification]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda certification: handoffs_organizations.certification_verify(
                certification=certification, actor=actor
            ),
            done="{n} certification(s) verified.",
            failed="Not verified: ",
        )
