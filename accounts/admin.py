"""Admin for the people and organizations: users, clinics and gyms, memberships, partnerships, credentials.

Credentials are verified through `services.certification_verify`, never by ticking a box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import (
    ApiToken,
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from referrals import policies, services
from referrals.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin

# django_stubs_ext.monkeypatch() (config/settings/base.py) makes the admin classes subscriptable at run
# time, so `ModelAdmin[Model]` is both what mypy checks and what Django runs.
TabularInline = admin.TabularInline
_UserAdminBase = DjangoUserAdmin[User]  # type: ignore[type-var]  # stubs bind it to AbstractUser
_UserChangeFormBase = DjangoUserChangeForm[User]
_AM = TypeVar("_AM", bound=Model)


def scope_to_organizations(qs: QuerySet[_AM], user: Any, lookups: tuple[str, ...] | None) -> QuerySet[_AM]:
    """Org admin scoping (policies.admin_organization_ids): a superuser sees every row; a staff org admin
    the rows linked to their organizations through any of `lookups` (paths to an Organization); anyone
    else nothing. `None` marks shared reference data (the exercise library) that every staff user sees."""
    org_ids = policies.admin_organization_ids(user)
    if org_ids is None or lookups is None:
        return qs
    if not org_ids or not lookups:
        return qs.none()
    match = Q()
    for lookup in lookups:
        match |= Q(**{f"{lookup}__in": sorted(org_ids)})
    # A subquery rather than a join: a user with two memberships in scope is still one row.
    return qs.filter(pk__in=qs.model._default_manager.filter(match).values("pk"))


class ModelAdmin(admin.ModelAdmin[_AM]):
    """Every model admin of the project: its changelist, change, history and delete views, its actions and
    the autocompletes that point at it see only the rows of the user's organizations (superusers: all).
    Subclasses name the paths from their model to an Organization in `organization_scope`; the default,
    empty, shows nothing to a non-superuser (fail closed)."""

    organization_scope: tuple[str, ...] | None = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[_AM]:
        return scope_to_organizations(super().get_queryset(request), request.user, self.organization_scope)


def admin_actor(request: HttpRequest) -> User:
    """The logged-in admin, as the `actor` a service expects. The admin site only lets staff in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


_T = TypeVar("_T")


def run_service_for_each(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    objects: Iterable[_T],
    service: Callable[[_T], object],
    *,
    done: str,
    failed: str,
    label: Callable[[_T], str] = str,
) -> None:
    """An admin action's loop: call the service for each object, then report successes and refusals.

    `done` and `failed` are formatted with `n`; a refusal (a domain or validation error) is a warning
    naming the object, never a 500, and leaves that object as it was.
    """
    succeeded = 0
    problems: list[str] = []
    for obj in objects:
        try:
            service(obj)
        except DomainError as exc:
            problems.append(f"{label(obj)}: {exc.message}")
        except ValidationError as exc:
            problems.append(f"{label(obj)}: {' '.join(exc.messages)}")
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, done.format(n=succeeded), level=messages.SUCCESS)
    if problems:
        model_admin.message_user(
            request, failed.format(n=len(problems)) + "; ".join(problems), level=messages.WARNING
        )


def _as_admin_refusal(exc: DomainError | ValidationError) -> PermissionDenied:
    return PermissionDenied(exc.message if isinstance(exc, DomainError) else " ".join(exc.messages))


MEMBERSHIP_IDENTITY = frozenset({"user", "organization", "role"})


def end_membership(request: HttpRequest, membership: Membership) -> None:
    """A membership deleted in the admin ends through its service (referrals.services.membership_end):
    a trainer's open referrals at that gym are cancelled, a physiotherapist's are handed over."""
    try:
        services.membership_end(membership=membership, actor=admin_actor(request))
    except (DomainError, ValidationError) as exc:
        raise _as_admin_refusal(exc) from exc


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
    """Email, name and password (hashed by the standard form); the password may also be left unusable."""

    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        return _clean_new_email(self)


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
    """Shared by the user and the organization pages: each hides the column of its own side."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user", "organization")


class UserMembershipInline(MembershipInline):
    fields = ("organization", "role", "created_at")


class OrganizationMembershipInline(MembershipInline):
    fields = ("user", "role", "created_at")


@admin.register(User)
class UserAdmin(_UserAdminBase):
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
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
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

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if policies.is_superuser(request.user):
            return fields
        # An org admin manages the people of their organization, not who is staff or superuser.
        return (*fields, "is_staff", "is_superuser", "groups", "user_permissions")

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        # The add page is email and password only, like Django's own; memberships come after.
        return [] if obj is None else list(super().get_inlines(request, obj))

    actions = ("deactivate_users",)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Unticking "active" deactivates through the service: open referrals cancelled or handed over.
        if change and "is_active" in form.changed_data and not obj.is_active:
            try:
                services.user_deactivate(user=obj, actor=admin_actor(request))
            except DomainError as exc:
                raise _as_admin_refusal(exc) from exc
        super().save_model(request, obj, form, change)

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
            lambda user: services.user_deactivate(user=user, actor=actor),
            done="{n} user(s) deactivated.",
            failed="Not deactivated: ",
        )


# --- organizations -------------------------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(ModelAdmin[Organization]):
    organization_scope = ("pk",)
    list_display = ("name", "kind", "city", "email", "phone", "member_count", "created_at")
    list_filter = ("kind", "city")
    search_fields = ("name", "city", "email")
    ordering = ("name",)  # the member count's GROUP BY drops Meta.ordering
    readonly_fields = ("public_id", "created_at")
    fields = ("name", "kind", "city", "email", "phone", "public_id", "created_at")
    inlines = (OrganizationMembershipInline,)

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
            services.partnership_end(partnership=partnership, actor=admin_actor(request))
        except DomainError as exc:
            raise _as_admin_refusal(exc) from exc

    @admin.action(description="End selected partnerships (their open referrals are cancelled)")
    def end_partnerships(self, request: HttpRequest, queryset: QuerySet[Partnership]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda partnership: services.partnership_end(partnership=partnership, actor=actor),
            done="{n} partnership(s) ended.",
            failed="Not ended: ",
        )


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


@admin.register(TrainerSpecialization)
class TrainerSpecializationAdmin(ModelAdmin[TrainerSpecialization]):
    organization_scope = ("profile__user__memberships__organization",)
    list_display = ("profile", "specialization")
    list_filter = ("specialization",)
    search_fields = ("profile__user__email", "profile__user__full_name")
    list_select_related = ("profile__user",)
    autocomplete_fields = ("profile",)


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

    @admin.display(description="current", boolean=True)
    def current(self, obj: Certification) -> bool:
        return obj.is_current()

    def has_verify_permission(self, request: HttpRequest) -> bool:
        return policies.can_verify_certification(request.user) and self.has_view_permission(request)

    @admin.action(description="Mark selected certifications verified", permissions=["verify"])
    def verify_certifications(self, request: HttpRequest, queryset: QuerySet[Certification]) -> None:
        actor = admin_actor(request)
        run_service_for_each(
            self,
            request,
            queryset,
            lambda certification: services.certification_verify(certification=certification, actor=actor),
            done="{n} certification(s) verified.",
            failed="Not verified: ",
        )


# --- API tokens ----------------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin[ApiToken]):
    """Staff create a token for a user (the raw token is shown once, in the confirmation message) and
    revoke tokens. Only the hash is stored; a token is never edited or deleted, so its history stays."""

    organization_scope = ("user__memberships__organization",)
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
