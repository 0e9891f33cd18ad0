"""The admin machinery every admin of the project builds on (accounts.admin, referrals.admin,
referrals.admin.accounts): the org admin's scope, the base ModelAdmin and TabularInline that apply it to
lists, forms and inlines, the superuser-only mixin, and the loop of an admin action that calls a service.
It registers nothing and imports nothing of referrals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ForeignKey, ManyToManyField, Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.text import capfirst

from accounts import policies
from accounts.errors import DomainError
from accounts.models import Membership, User, UserOrAnonymous

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


def _named(widget: forms.Widget, name: str) -> None:
    """An aria-label on the control itself (inside the admin's related-object wrapper, if any)."""
    while isinstance(getattr(widget, "widget", None), forms.Widget):
        widget = widget.widget  # type: ignore[attr-defined]
    widget.attrs.setdefault("aria-label", name)


class NamedControls(_ScopedRelationsBase):
    """Every control of this admin's forms has a name a screen reader can say (axe-core's label rule,
    tests/browser/test_accessibility.py). Django's split date and time widget puts bare text ("Date:",
    "Time:") before its two inputs, with no label: each input is named after its field and its part."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, AdminSplitDateTime):
            for part, widget in zip(("date", "time"), field.widget.widgets, strict=True):
                _named(widget, f"{capfirst(str(field.label))}: {part}")
        return field


class ModelAdmin(ScopedRelations, NamedControls, admin.ModelAdmin[_AM]):
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
        # A tabular row's controls sit under the column headers, with no label of their own: each is
        # named after its column ("Role", "Delete"), as axe-core's label rule asks.
        for field in form.fields.values():
            if not field.widget.is_hidden:
                _named(field.widget, str(field.label))


class TabularInline(ScopedRelations, NamedControls, admin.TabularInline[_AM, _PM]):
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


def as_admin_refusal(exc: DomainError | ValidationError) -> PermissionDenied:
    return PermissionDenied(exc.message if isinstance(exc, DomainError) else " ".join(exc.messages))
