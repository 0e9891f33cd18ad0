"""The admin's forms accept only what the admin may choose, generated from the admin registry.

For every registered ModelAdmin, the add form and the change form are opened by an organization admin who
holds every permission of every app (so what limits them is the scoping alone), posted once as they are
(a valid, in-scope post: it must succeed, inside a savepoint that is rolled back) and then once per
relation field the form or one of its inlines accepts, with that field set to a row of another
organization. Each of those posts must be refused with "Select a valid choice" on that very field (or a
403/404) and leave every row of the database as it was.

`CASES` says, per model, how to build a valid post and which row of the other side to try in each
relation field. A newly registered model without a case, or a relation field a case does not name, fails
by name. Admins that an org admin may not add or change through are listed as read-only and asserted so.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    ApiToken,
    Certification,
    Membership,
    Organization,
    Partnership,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from referrals.audit.models import AccessLog
from referrals.care.models import Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan
from referrals.library.models import Exercise
from tests import factories as f
from tests.conftest import World, login_with_second_factor, make_physio, make_trainer
from tests.security.test_admin_scoping import Side, build_side

Role = Membership.Role
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


# --- the world: my clinic and gyms, their clinic and gym ---------------------------------------------


@dataclass
class Scene:
    mine: Side
    theirs: Side
    my_second_gym: Organization
    lone_patient: Patient  # of my clinic, without plans: it may move
    org_admin: User

    @property
    def my_plan(self) -> TreatmentPlan:
        return self.mine.handoff.plan

    @property
    def their_plan(self) -> TreatmentPlan:
        return self.theirs.handoff.plan

    def profile(self, side: Side) -> TrainerProfile:
        return side.trainer.trainer_profile


def with_all_permissions(user: User) -> User:
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def scene(world: World, other_clinic: Organization, django_capture_on_commit_callbacks: Any) -> Scene:
    other_gym = f.GymFactory(name="Harbour Strength")
    f.PartnershipFactory(clinic=other_clinic, gym=other_gym)
    with django_capture_on_commit_callbacks(execute=True):
        mine = build_side(world.plan.patient.clinic, world.gym, world.physio, world.trainer)
        their_physio = make_physio(other_clinic, full_name="Theo Their")
        theirs = build_side(other_clinic, other_gym, their_physio, make_trainer(other_gym))
    org_admin = with_all_permissions(f.UserFactory(is_staff=True, full_name="Ada Admin"))
    second_gym = f.GymFactory(name="Second Wind Gym")
    for organization in (mine.clinic, mine.gym, second_gym):
        f.MembershipFactory(user=org_admin, organization=organization, role=Role.ORG_ADMIN)
    lone = f.PatientFactory(clinic=mine.clinic, full_name="Lou Lone")
    return Scene(mine, theirs, second_gym, lone, org_admin)


# --- the cases -----------------------------------------------------------------------------------------

Values = Callable[[Scene], dict[str, Any]]
Outside = Callable[[Scene], Model] | None  # None: shared on purpose, every row is offered to everyone


def their_clinic(s: Scene) -> Model:
    return s.theirs.clinic


def their_gym(s: Scene) -> Model:
    return s.theirs.gym


def their_physio(s: Scene) -> Model:
    return s.theirs.physio


def their_trainer(s: Scene) -> Model:
    return s.theirs.trainer


def their_profile(s: Scene) -> Model:
    return s.profile(s.theirs)


def their_patient(s: Scene) -> Model:
    return s.their_plan.patient


def their_plan(s: Scene) -> Model:
    return s.their_plan


def their_membership(s: Scene) -> Model:
    return Membership.objects.get(user=s.theirs.physio, organization=s.theirs.clinic)


def their_gym_membership(s: Scene) -> Model:
    return Membership.objects.get(user=s.theirs.trainer, organization=s.theirs.gym)


def their_row(model: type[Model], **path: Callable[[Scene], Model]) -> Callable[[Scene], Model]:
    """The first row of `model` on their side, e.g. their_row(RedFlag, plan=their_plan)."""

    def find(s: Scene) -> Model:
        return model._default_manager.filter(**{k: v(s) for k, v in path.items()}).order_by("pk")[0]

    return find


@dataclass(frozen=True)
class Case:
    """How an org admin posts one model's admin forms.

    `add`: the values of a valid add post (on top of the form's initial values); None: no add form.
    `change`: the in-scope row whose change form is posted; None: no change form.
    `relations`: every relation field the forms accept -> the row of the other side to try in it. Inline
    fields are named `<formset prefix>.<field>` (its rows' `id` too: another parent's row).
    `new_rows`: for an inline whose new rows have a relation field, the values of a valid new row.
    `read_only`: the org admin may view but neither add nor change (asserted); `superusers_only`: they
    may not even view (the libraries' machinery: groups, second-factor devices, login lockouts).
    """

    add: Values | None = None
    change: Callable[[Scene], Model] | None = None
    relations: dict[str, Outside] = field(default_factory=dict)
    new_rows: dict[str, Values] = field(default_factory=dict)
    read_only: bool = False
    superusers_only: bool = False


TODAY = timezone.localdate()
LATER = TODAY + datetime.timedelta(days=300)
NEW_PASSWORD = "a-long-enough-passphrase"

CASES: dict[str, Case] = {
    "accounts.User": Case(
        add=lambda s: {
            "email": "newcomer@example.test",
            "full_name": "New Comer",
            "organization": s.mine.gym,
            "role": Role.TRAINER,
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        change=lambda s: s.mine.physio,  # a member of my clinic only: under my authority
        relations={
            "organization": their_clinic,  # the add form's first membership
            "memberships.organization": their_clinic,
            "memberships.id": their_membership,
        },
        new_rows={"memberships": lambda s: {"organization": s.mine.gym, "role": Role.TRAINER}},
    ),
    "accounts.Organization": Case(
        add=lambda s: {"name": "Brand New Clinic", "kind": Organization.Kind.CLINIC},
        change=lambda s: s.mine.clinic,
        relations={"memberships.user": their_physio, "memberships.id": their_membership},
        new_rows={"memberships": lambda s: {"user": s.mine.trainer, "role": Role.ORG_ADMIN}},
    ),
    "accounts.Membership": Case(
        add=lambda s: {"user": s.mine.trainer, "organization": s.mine.clinic, "role": Role.ORG_ADMIN},
        change=lambda s: Membership.objects.get(user=s.mine.physio, organization=s.mine.clinic),
        relations={"user": their_physio, "organization": their_clinic},
    ),
    "accounts.Partnership": Case(
        add=lambda s: {"clinic": s.mine.clinic, "gym": s.my_second_gym, "started_on": TODAY},
        change=lambda s: Partnership.objects.get(clinic=s.mine.clinic, gym=s.mine.gym),
        relations={"clinic": their_clinic, "gym": their_gym},  # the pair is read-only once added
    ),
    "accounts.PhysiotherapistProfile": Case(
        add=lambda s: {
            "user": s.mine.trainer,
            "licence_number": "PT-77777",
            "jurisdiction": "Wisconsin",
            "licence_expiry": LATER,
        },
        change=lambda s: s.mine.physio.physio_profile,
        relations={"user": their_trainer},  # a user of theirs without a physio profile
    ),
    "accounts.TrainerProfile": Case(
        add=lambda s: {"user": s.mine.physio, "max_active_clients": 10, "cpr_aed_expiry": LATER},
        change=lambda s: s.profile(s.mine),
        relations={
            "user": their_physio,  # a user of theirs without a trainer profile
            "specializations.id": their_row(TrainerSpecialization, profile=their_profile),
            "certifications.id": their_row(Certification, profile=their_profile),
        },
    ),
    "accounts.TrainerSpecialization": Case(
        add=lambda s: {"profile": s.profile(s.mine), "specialization": "senior_fitness"},
        change=lambda s: s.profile(s.mine).specializations.get(),
        relations={"profile": their_profile},
    ),
    "accounts.Certification": Case(
        add=lambda s: {
            "profile": s.profile(s.mine),
            "issuing_body": Certification.IssuingBody.ACE,
            "number": "ACE-424242",
            "expiry": LATER,
        },
        change=lambda s: s.profile(s.mine).certifications.get(),
        relations={"profile": their_profile},
    ),
    "accounts.ApiToken": Case(
        add=lambda s: {"user": s.mine.physio, "name": "Clinic EHR sync"},
        change=lambda s: ApiToken.objects.get(user=s.mine.physio),  # nothing of it is editable
        relations={"user": their_physio},
    ),
    "referrals.Patient": Case(
        add=lambda s: {"full_name": "Nova Patient", "clinic": s.mine.clinic, "date_of_birth": "1980-02-03"},
        change=lambda s: s.lone_patient,
        relations={"clinic": their_clinic},
    ),
    "referrals.TreatmentPlan": Case(
        add=lambda s: {
            "patient": s.lone_patient,
            "physiotherapist": s.mine.physio,
            "start_date": TODAY,
            "diagnosis": "Patellofemoral pain",
            "icd10_code": "M22.2",
            "goals": "Climb stairs without pain.",
        },
        change=lambda s: s.my_plan,  # the patient is read-only once the plan exists
        relations={
            "patient": their_patient,
            "physiotherapist": their_physio,
            "exercises.exercise": None,  # the shared exercise library
            "exercises.id": their_row(PlanExercise, plan=their_plan),
            "precautions.id": their_row(Precaution, plan=their_plan),
            "red_flags.id": their_row(RedFlag, plan=their_plan),
        },
    ),
    "referrals.Exercise": Case(
        add=lambda s: {
            "name": "Wall slide",
            "category": Exercise.Category.MOBILITY,
            "body_region": "shoulder",
            "instructions": "Slide the forearms up the wall.",
        },
        change=lambda s: Exercise.objects.order_by("name")[0],
    ),
    "referrals.PlanExercise": Case(
        add=lambda s: {
            "plan": s.my_plan,
            "exercise": Exercise.objects.order_by("name")[0],
            "position": 7,
            "reps": 10,
        },
        change=lambda s: s.my_plan.exercises.order_by("pk")[0],
        relations={"plan": their_plan, "exercise": None},
    ),
    "referrals.Precaution": Case(
        add=lambda s: {
            "plan": s.my_plan,
            "kind": Precaution.Kind.LOAD_LIMIT,
            "body_region": "shoulder",
            "limit_value": "5",
            "limit_unit": Precaution.Unit.KG,
            "detail": "No overhead load above 5 kg.",
        },
        change=lambda s: s.my_plan.precautions.order_by("pk")[0],
        relations={"plan": their_plan},
    ),
    "referrals.RedFlag": Case(
        add=lambda s: {"plan": s.my_plan, "description": "Pain at night"},
        change=lambda s: s.my_plan.red_flags.order_by("pk")[0],
        relations={"plan": their_plan},
    ),
    # The workflow's rows: they change through services (admin actions), never through a form.
    "referrals.Consent": Case(read_only=True),
    "referrals.TrainerHandoff": Case(read_only=True),
    "referrals.HandoffEvent": Case(read_only=True),
    "referrals.Concern": Case(read_only=True),
    "referrals.SessionLog": Case(read_only=True),
    "referrals.ProgressReport": Case(read_only=True),
    "referrals.Notification": Case(read_only=True),
    "referrals.OutboxMessage": Case(read_only=True),
    "referrals.AccessLog": Case(read_only=True, superusers_only=True),
    "referrals.PeriodicRun": Case(read_only=True, superusers_only=True),  # the deployment's schedule
    # The libraries' machinery.
    "auth.Group": Case(read_only=True, superusers_only=True),
    "accounts.EncryptedTOTPDevice": Case(read_only=True, superusers_only=True),
    "otp_static.StaticDevice": Case(read_only=True, superusers_only=True),
    "axes.AccessAttempt": Case(read_only=True, superusers_only=True),
    "axes.AccessLog": Case(read_only=True, superusers_only=True),
    "axes.AccessFailureLog": Case(read_only=True, superusers_only=True),
}


# --- posting a form as it is, or with one value changed ----------------------------------------------


def as_post_value(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [as_post_value(v) for v in value]
    return "" if value is None else str(value)


def form_data(form: forms.BaseForm, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a browser would post for `form` as rendered (its initial values), with `overrides` by field."""
    overrides = overrides or {}
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = overrides[bound.name] if bound.name in overrides else bound.value()
        widget = bound.field.widget
        while isinstance(widget, RelatedFieldWidgetWrapper):
            widget = widget.widget
        if isinstance(widget, forms.MultiWidget) and bound.name not in overrides:
            parts = widget.decompress(value)
            assert parts is not None, bound.name
            for i, part in enumerate(parts):
                data[f"{bound.html_name}_{i}"] = as_post_value(part)
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(bound.field, forms.ModelMultipleChoiceField):
            data[bound.html_name] = [as_post_value(v) for v in (value or [])]
        else:
            data[bound.html_name] = as_post_value(value)
    return data


@dataclass
class Inline:
    formset: Any
    can_add: bool
    can_change: bool


@dataclass
class Page:
    """An add or change page as opened: its URL, main form, inline formsets and the values the case
    posts in the main form (an add form's valid values)."""

    url: str
    form: forms.ModelForm[Any]
    inlines: list[Inline]
    values: dict[str, Any]

    def relation_fields(self) -> Iterator[tuple[str, forms.ModelChoiceField[Any], int | None]]:
        """(name, form field, row) of every relation this page accepts: the main form's (row None), each
        changeable inline's existing rows (row index) and new rows (row -1, when the inline may add)."""
        for name, formfield in self.form.fields.items():
            if isinstance(formfield, forms.ModelChoiceField):
                yield name, formfield, None
        for inline in self.inlines:
            prefix = inline.formset.prefix
            if inline.can_change:
                for i, row in enumerate(inline.formset.initial_forms):
                    for name, formfield in row.fields.items():
                        if isinstance(formfield, forms.ModelChoiceField):
                            yield f"{prefix}.{name}", formfield, i
            if inline.can_add:
                for name, formfield in inline.formset.empty_form.fields.items():
                    if isinstance(formfield, forms.ModelChoiceField) and name != "id":
                        yield f"{prefix}.{name}", formfield, -1

    def data(
        self, case: Case, scene: Scene, overrides: dict[str, Any], *, new_row: str | None = None
    ) -> dict[str, Any]:
        """The page posted as it is, with `overrides` (`field`, or `prefix.field@row`, row -1 being the new
        row) and, when `new_row` names an inline, one new row in it (the case's valid values)."""

        def for_row(prefix: str, row: int) -> dict[str, Any]:
            start, end = f"{prefix}.", f"@{row}"
            return {
                key[len(start) : -len(end)]: value
                for key, value in overrides.items()
                if key.startswith(start) and key.endswith(end)
            }

        data = form_data(self.form, {**self.values, **{k: v for k, v in overrides.items() if "." not in k}})
        for inline in self.inlines:
            formset = inline.formset
            management = form_data(formset.management_form)
            for i, row in enumerate(formset.forms):
                data.update(form_data(row, for_row(formset.prefix, i)))
            if new_row == formset.prefix:
                index = formset.total_form_count()
                values = {**case.new_rows[formset.prefix](scene), **for_row(formset.prefix, -1)}
                empty = form_data(formset.empty_form, values)
                data.update({k.replace("__prefix__", str(index)): v for k, v in empty.items()})
                management[f"{formset.prefix}-TOTAL_FORMS"] = str(index + 1)
            data.update(management)
        return data


def open_page(client: Client, url: str, values: dict[str, Any] | None = None) -> Page:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    inlines = [
        Inline(inline.formset, bool(inline.has_add_permission), bool(inline.has_change_permission))
        for inline in response.context["inline_admin_formsets"]
    ]
    return Page(url, response.context["adminform"].form, inlines, values or {})


def database_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row the admin could write (the access log is left out: opening a patient records a read)."""
    labels = {"accounts", "referrals", "auth", "admin", "otp_totp", "otp_static"}
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels and model is not AccessLog
    }


def field_errors(response: Any, key: str) -> list[str]:
    """The error codes of `key` (`field`, or `prefix.field@row`) in the re-rendered page."""
    if "." not in key:
        errors = response.context["adminform"].form.errors.as_data()
        return [e.code or "" for e in errors.get(key, [])]
    prefix, rest = key.split(".", 1)
    name, row = rest.rsplit("@", 1)
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            form = inline.formset.forms[int(row) if int(row) >= 0 else -1]
            return [e.code or "" for e in form.errors.as_data().get(name, [])]
    return []


def assert_valid_post_succeeds(client: Client, page: Page, data: dict[str, Any], what: str) -> None:
    """The case's post is valid: the admin saves it (rolled back, so the world stays the same)."""
    with transaction.atomic():
        response = client.post(page.url, data)
        transaction.set_rollback(True)
    if response.status_code != 302:
        context = response.context
        errors: Any = response.status_code
        if context is not None and "adminform" in context:
            errors = (
                context["adminform"].form.errors,
                [inline.formset.errors for inline in context["inline_admin_formsets"]],
                [inline.formset.non_form_errors() for inline in context["inline_admin_formsets"]],
            )
        pytest.fail(f"{what}: the case's valid post was not saved: {errors}")


def check_page(client: Client, case: Case, scene: Scene, label: str, page: Page) -> set[str]:
    """Post the page as it is (must succeed), then once per relation with an out-of-scope value (must be
    refused on that field, nothing stored). Returns the relation names it found."""
    assert_valid_post_succeeds(client, page, page.data(case, scene, {}), f"{label} {page.url}")
    found: set[str] = set()
    checked_new_rows: set[str] = set()
    for name, formfield, row in list(page.relation_fields()):
        found.add(name)
        assert name in case.relations, f"{label}: no admin scope case for field {name}"
        outside = case.relations[name]
        if outside is None:  # shared on purpose: every row is offered
            queryset = formfield.queryset
            assert queryset is not None, f"{label}.{name}"
            assert set(queryset) == set(queryset.model._default_manager.all()), f"{label}.{name}"
            continue
        new_row = name.split(".", 1)[0] if row == -1 else None
        if new_row is not None and new_row not in checked_new_rows:
            assert new_row in case.new_rows, f"{label}: no admin scope case for a new row of {new_row}"
            valid = page.data(case, scene, {}, new_row=new_row)
            assert_valid_post_succeeds(client, page, valid, f"{label}: a new {new_row} row")
            checked_new_rows.add(new_row)
        key = name if row is None else f"{name}@{row}"
        other = outside(scene)
        value: Any = [other] if isinstance(formfield, forms.ModelMultipleChoiceField) else other
        before = database_rows()
        response = client.post(page.url, page.data(case, scene, {key: value}, new_row=new_row))
        assert response.status_code in (200, 403, 404), f"{label}.{key}: accepted ({response.status_code})"
        if response.status_code == 200:
            assert "invalid_choice" in field_errors(response, key), f"{label}.{key}: no refusal on the field"
        assert database_rows() == before, f"{label}.{key}: something was stored"
    return found


def admin_request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# --- the tests -----------------------------------------------------------------------------------------


def test_every_registered_admin_has_a_scope_case() -> None:
    missing = [model._meta.label for model in REGISTERED if model._meta.label not in CASES]
    assert not missing, "; ".join(f"no admin scope case for {label}" for label in missing)
    stale = sorted(set(CASES) - {model._meta.label for model in REGISTERED})
    assert not stale, f"cases for models that are no longer registered: {stale}"


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_an_org_admin_cannot_post_another_organizations_rows_into_an_admin_form(
    client: Client, scene: Scene, model: type[Model]
) -> None:
    label = model._meta.label
    case = CASES.get(label)
    assert case is not None, f"no admin scope case for {label}"
    model_admin = admin.site._registry[model]
    request = admin_request(scene.org_admin)
    login_with_second_factor(client, scene.org_admin)
    opts = model._meta
    add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    if case.read_only:
        assert not model_admin.has_add_permission(request), f"{label}: an org admin may add"
        assert not model_admin.has_change_permission(request), f"{label}: an org admin may change"
        assert not model_admin.has_delete_permission(request), f"{label}: an org admin may delete"
        before = database_rows()
        assert client.get(add_url).status_code == 403, label
        assert client.post(add_url, {}).status_code == 403, label
        assert database_rows() == before, label
        if case.superusers_only:
            assert not model_admin.has_view_permission(request), f"{label}: an org admin may view"
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            assert client.get(changelist).status_code == 403, label
        return
    assert case.add is not None and case.change is not None, label
    found: set[str] = set()
    found |= check_page(client, case, scene, label, open_page(client, add_url, case.add(scene)))
    obj = case.change(scene)
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    found |= check_page(client, case, scene, label, open_page(client, change_url))
    stale = sorted(set(case.relations) - found)
    assert not stale, f"{label}: the case names relations its forms do not accept: {stale}"


def test_a_superuser_is_offered_every_organization(db: Any) -> None:
    """The scoping leaves superusers alone: the choices are the whole table."""
    from referrals.admin.accounts import MembershipAdmin

    root = User.objects.create_superuser("root2@handoff.test", f.TEST_PASSWORD, full_name="Root")
    f.ClinicFactory(name="Anywhere Clinic")
    form = MembershipAdmin(Membership, admin.site).get_form(admin_request(root))()
    field = form.fields["organization"]
    assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
    assert set(field.queryset) == set(Organization.objects.all())
