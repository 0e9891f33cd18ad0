"""Admin for the people and organizations: users, clinics and gyms, memberships, partnerships, credentials.

Credentials are verified through `services.certification_verify`, never by ticking a box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, ForeignKey, ManyToManyField, Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

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
    UserOrAnonymous,
)
from referrals import policies, services
from referrals.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin

# django_stubs_ext.monkeypatch() (config/settings/base.py) makes the admin classes subscriptable at run
# time, so `ModelAdmin[Model]` is both what mypy checks and what Django runs.
_UserAdminBase = DjangoUserAdmin[User]  # type: ignore[type-var]  # stubs bind it to AbstractUser
_UserChangeFormBase = DjangoUserChangeForm[User]
_AM = TypeVar("_AM", bound=Model)
_PM = TypeVar("_PM", bound=Model)


# --- the org admin's scope: what they see, what they may choose, whom they may change ------------------
#
# One decision, policies.admin_organization_ids: None for a superuser (everything), otherwise the
# organizations where the user is an org admin. Every admin below reads it through these functions:
# `scope_to_organizations` for the rows an admin lists and opens, `ScopedRelations` for the rows a form
# offers and accepts in a foreign key or many-to-many (the related model's admin scope, so "what you may
# choose" is "what you may open"), `users_under_authority` for the people an org admin may change.


def scope_to_organizations(
    qs: QuerySet[_AM], user: UserOrAnonymous, lookups: tuple[str, ...] | None
) -> QuerySet[_AM]:
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


def organization_members(request: HttpRequest, qs: QuerySet[User]) -> QuerySet[User]:
    """The users with a membership in one of the admin's organizations (superuser: everyone)."""
    return scope_to_organizations(qs, request.user, ("memberships__organization",))


def users_under_authority(request: HttpRequest, qs: QuerySet[User]) -> QuerySet[User]:
    """The users an org admin may change: members of their organizations who are neither superusers nor
    staff and who belong to no organization the admin does not administer. A superuser: everyone."""
    org_ids = policies.admin_organization_ids(request.user)
    if org_ids is None:
        return qs
    elsewhere = Membership.objects.exclude(organization_id__in=sorted(org_ids)).values("user_id")
    return (
        organization_members(request, qs).filter(is_superuser=False, is_staff=False).exclude(pk__in=elsewhere)
    )


def is_under_authority(request: HttpRequest, user: User) -> bool:
    return users_under_authority(request, User.objects.filter(pk=user.pk)).exists()


RelationScope = Callable[[HttpRequest, QuerySet[Any]], QuerySet[Any]]

if TYPE_CHECKING:
    _ScopedRelationsBase = BaseModelAdmin[Any]
else:
    _ScopedRelationsBase = object


class ScopedRelations(_ScopedRelationsBase):
    """Every foreign key and many-to-many a form of this admin accepts offers, and on post accepts, only
    the rows the user may open in the related model's own admin (its `organization_scope`): the form
    field's queryset is both the choices and what a posted id is checked against, so a crafted id
    outside it is a form error ("Select a valid choice") and nothing is saved. A related model without a
    scoped admin offers nothing to an org admin (fail closed). `relation_scopes` names a field whose
    choices follow another rule (e.g. only the users under the admin's authority)."""

    relation_scopes: ClassVar[dict[str, RelationScope]] = {}

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        kwargs["queryset"] = self.relation_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        kwargs["queryset"] = self.relation_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def relation_choices(
        self, db_field: Any, request: HttpRequest, queryset: QuerySet[Any] | None
    ) -> QuerySet[Any]:
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.all()
        scope = self.relation_scopes.get(db_field.name)
        if scope is not None:
            return scope(request, queryset)
        related_admin = self.admin_site._registry.get(queryset.model)
        lookups = getattr(related_admin, "organization_scope", ())
        return scope_to_organizations(queryset, request.user, lookups)


def autocomplete_choices(
    site: admin.AdminSite, request: HttpRequest, queryset: QuerySet[Any]
) -> QuerySet[Any]:
    """On the admin's autocomplete view, the rows the asking field accepts: the related admin's scope
    (its queryset) and, when the field has its own rule (`relation_scopes`), that rule too, so the widget
    offers exactly what the form will accept."""
    match = request.resolver_match
    if match is None or match.url_name != "autocomplete":
        return queryset
    try:
        source_model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
    except (KeyError, LookupError, ValueError):
        return queryset
    source_admin = site._registry.get(source_model)
    scope = getattr(source_admin, "relation_scopes", {}).get(request.GET.get("field_name", ""))
    return queryset if scope is None else scope(request, queryset)


class ModelAdmin(ScopedRelations, admin.ModelAdmin[_AM]):
    """Every model admin of the project: its changelist, change, history and delete views, its actions and
    the autocompletes that point at it see only the rows of the user's organizations (superusers: all),
    and its forms accept only related rows in that scope (ScopedRelations).
    Subclasses name the paths from their model to an Organization in `organization_scope`; the default,
    empty, shows nothing to a non-superuser (fail closed)."""

    organization_scope: tuple[str, ...] | None = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[_AM]:
        return scope_to_organizations(super().get_queryset(request), request.user, self.organization_scope)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[_AM], search_term: str
    ) -> tuple[QuerySet[_AM], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return autocomplete_choices(self.admin_site, request, queryset), may_have_duplicates


class ScopedInlineFormSet(BaseInlineFormSet[Any, Any, Any]):
    """A posted row id names one of this parent's rows: another id (another organization's row) is a
    form error. Django's own formset checks it against the whole table and silently drops the row."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        pk_field = form.fields.get(self.model._meta.pk.name)
        if isinstance(pk_field, forms.ModelChoiceField):
            pk_field.queryset = self.get_queryset()


class TabularInline(ScopedRelations, admin.TabularInline[_AM, _PM]):
    """Every inline of the project: its rows' foreign keys are scoped like the model admins' forms, and
    its row ids are those of the parent's rows."""

    formset = ScopedInlineFormSet


class SuperuserOnly(_ScopedRelationsBase):
    """The machinery the project gets from its libraries (groups and permissions, second-factor devices,
    login lockouts) belongs to the superusers: an org admin, whatever permissions they were given, cannot
    see or change it, so they cannot grant themselves permissions or touch someone else's devices."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.is_superuser(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.is_superuser(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policies.is_superuser(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.is_superuser(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.is_superuser(request.user)


def _superusers_only(*models: type[Model]) -> None:
    """Re-register a library's admin (registered before this app's, INSTALLED_APPS order) as superuser
    only, keeping everything else of it."""
    for model in models:
        library_admin = type(admin.site._registry[model])
        admin.site.unregister(model)
        restricted = type(f"SuperuserOnly{library_admin.__name__}", (SuperuserOnly, library_admin), {})
        admin.site.register(model, restricted)


_superusers_only(Group, TOTPDevice, StaticDevice, AccessAttempt, AxesAccessLog, AccessFailureLog)


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
    offered is a member of the admin's organizations, the organization one of theirs (ScopedRelations)."""

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


@admin.register(User)
class UserAdmin(ScopedRelations, _UserAdminBase):
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
        if policies.is_superuser(request.user):
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
            "organization_required": not policies.is_superuser(request.user),
        }
        return type(form.__name__, (form,), scoped)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            # Unticking "active" deactivates through the service: open referrals cancelled or handed over.
            if "is_active" in form.changed_data and not obj.is_active:
                try:
                    services.user_deactivate(user=obj, actor=admin_actor(request))
                except DomainError as exc:
                    raise _as_admin_refusal(exc) from exc
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

    def get_readonly_fields(self, request: HttpRequest, obj: Partnership | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # A partnership is its pair: another pair is another partnership. Both ends are chosen (within the
        # admin's organizations) when it is added; afterwards the admin of either end may end it.
        return (*fields, "clinic", "gym") if obj is not None else fields


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
