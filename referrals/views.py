"""The HTML adapter: parse input, fetch through a selector, check the policy, call a service, render.

Outside the user's scope is a 404 (the selector); in scope but not allowed is a 403 (the policy); a
domain error becomes a form error or a message, never a 500.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organization, User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals import audit, forms, policies, registry, selectors, services
from referrals.errors import (
    ConcernAlreadyResolved,
    DomainError,
    DuplicatePatient,
    InvalidTransition,
    NoLongerEligible,
    NotPermitted,
    SendBlocked,
)
from referrals.models import (
    OPEN_STATUSES,
    Concern,
    Consent,
    HandoffEvent,
    HandoffStatus,
    Notification,
    Patient,
    TrainerHandoff,
    TreatmentPlan,
)
from referrals.policies import Shown, Surface
from referrals.registry import HandoffAction

S = HandoffStatus
M = TypeVar("M", bound=Model)
PAGE_SIZE = 25


def _get(fetch: Callable[..., M], model: type[M], **kwargs: Any) -> M:
    """Fetch through a selector; outside the user's scope is a 404."""
    try:
        return fetch(**kwargs)
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise Http404(f"No such {model._meta.verbose_name}.") from exc


def _page(request: HttpRequest, items: QuerySet[Any], param: str = "page") -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _deny_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# --- home ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    is_physio = policies.is_physiotherapist(user)
    is_trainer = policies.is_trainer(user)
    context: dict[str, Any] = {"is_physio": is_physio, "is_trainer": is_trainer}
    if is_physio:
        open_page = _page(request, selectors.open_handoffs_for_clinic_user(user=user), "open_page")
        context |= {
            "patients": selectors.patient_list_for_user(user=user).order_by("full_name")[:10],
            "open_page": open_page,
            "open_by_status": [
                (S(status).label, list(rows))
                for status, rows in groupby(open_page.object_list, key=lambda h: h.status)
            ],
            "attention": selectors.handoff_attention_list_for_user(user=user)[:20],
            "waiting": selectors.waiting_handoffs_for_clinic_user(user=user)[:20],
            "concerns": selectors.concerns_for_clinic_user(user=user)[:20],
        }
    if is_trainer:
        inbox_page = _page(request, selectors.trainer_inbox_for_user(user=user), "inbox_page")
        rows = [
            (h, selectors.handoff_view_for_user(user=user, handoff=h, surface=Surface.INBOX))
            for h in inbox_page.object_list
        ]
        context |= {
            "inbox_page": inbox_page,
            "new_referrals": [(h, v) for h, v in rows if h.status == S.REQUESTED],
            "active_clients": [(h, v) for h, v in rows if h.status != S.REQUESTED],
        }
    context["notifications"] = selectors.notification_list_for_user(user=user)[:5]
    return render(request, "referrals/home.html", context)


# --- patients ------------------------------------------------------------------------------------------


PATIENT_SEARCH_KEY = "patient_search"


@login_required
@require_http_methods(["GET", "POST"])
def patient_list(request: HttpRequest) -> HttpResponse:
    """The search words are a patient's name: they are posted and kept in the session, never put in a
    URL, where web-server logs and the browser history would keep them."""
    user = _user(request)
    _deny_unless(policies.is_physiotherapist(user))
    if request.method == "POST":
        request.session[PATIENT_SEARCH_KEY] = str(request.POST.get("q", "")).strip()[:100]
        return redirect("patient_list")
    query = str(request.session.get(PATIENT_SEARCH_KEY, ""))
    patients = selectors.patient_list_for_user(user=user).order_by("full_name", "id")
    for word in query.split()[:5]:
        patients = patients.filter(full_name__icontains=word)
    return render(request, "referrals/patient_list.html", {"page": _page(request, patients), "q": query})


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    """A physiotherapist of several clinics chooses the clinic (as in the API); of one, it is theirs."""
    user = _user(request)
    clinics = {str(c.public_id): c for c in selectors.clinics_for_physio(user=user)}
    _deny_unless(bool(clinics))
    form = forms.PatientCreateForm(request.POST or None, clinics=[(k, c.name) for k, c in clinics.items()])
    duplicate: Patient | None = None
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        clinic = clinics[fields.pop("clinic")] if "clinic" in fields else next(iter(clinics.values()))
        try:
            patient = services.patient_create(clinic=clinic, actor=user, **fields)
        except DuplicatePatient as exc:
            # The clinic has them already: show who, and ask for the "different person" box to add anyway.
            duplicate = exc.existing
        except ValidationError as exc:
            forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, f"{patient.full_name} was added.")
            return redirect("patient_detail", public_id=patient.public_id)
    context = {"form": form, "patient": None, "duplicate": duplicate}
    return render(request, "referrals/patient_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(policies.can_edit_patient(user, patient))
    audit.record_read(request, patient, channel=audit.Channel.PAGE)
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    form = forms.PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=patient, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, "The patient's details were saved.")
            return redirect("patient_detail", public_id=patient.public_id)
    return render(request, "referrals/patient_form.html", {"form": form, "patient": patient})


def _render_patient(
    request: HttpRequest, patient: Patient, consent_form: forms.ConsentForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    context = {
        "patient": patient,
        "plans": selectors.plan_list_for_patient(user=user, patient=patient),
        "consents": selectors.consent_list_for_patient(user=user, patient=patient),
        "consent_form": consent_form or forms.ConsentForm(gyms=_gym_choices(patient)),
        "withdraw_form": forms.WithdrawConsentForm(),
    }
    return render(request, "referrals/patient_detail.html", context, status=status)


def _gym_choices(patient: Patient) -> list[tuple[str, str]]:
    gyms = selectors.partner_gyms_for_clinic(clinic=patient.clinic)
    return [(str(gym.public_id), gym.name) for gym in gyms]


@login_required
@require_GET
def patient_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(policies.can_view_patient(user, patient))
    audit.record_read(request, patient, channel=audit.Channel.PAGE)
    return _render_patient(request, patient)


# --- consent -------------------------------------------------------------------------------------------


@login_required
@require_POST
def consent_record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(policies.can_record_consent(user, patient))
    form = forms.ConsentForm(request.POST, gyms=_gym_choices(patient))
    if form.is_valid():
        gyms = selectors.partner_gyms_for_clinic(clinic=patient.clinic)
        gym = _get(gyms.get, Organization, public_id=form.cleaned_data["gym"])
        try:
            services.consent_record(patient=patient, gym=gym, scope=form.cleaned_data["scope"], actor=user)
        except ValidationError as exc:
            forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, f"Consent for {gym.name} was recorded.")
            return redirect("patient_detail", public_id=patient.public_id)
    return _render_patient(request, patient, consent_form=form, status=400)


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    consent = _get(selectors.consent_get_for_user, Consent, user=user, public_id=public_id)
    _deny_unless(policies.can_record_consent(user, consent.patient))
    form = forms.WithdrawConsentForm(request.POST)
    if not form.is_valid():  # a reason over the limit is refused, not dropped: nothing is withdrawn
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("patient_detail", public_id=consent.patient.public_id)
    reason = form.cleaned_data["reason"]
    try:
        services.consent_withdraw(consent=consent, actor=user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:  # already withdrawn
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Consent for {consent.gym.name} was withdrawn; open referrals there were cancelled."
        )
    return redirect("patient_detail", public_id=consent.patient.public_id)


# --- plans ---------------------------------------------------------------------------------------------

ROW_SETS: dict[str, Any] = {
    "exercises": forms.PlanExerciseFormSet,
    "precautions": forms.PrecautionFormSet,
    "red_flags": forms.RedFlagFormSet,
}
_EXERCISE_KEY = re.compile(r"exercises-[0-9]{1,4}-exercise")
_EXERCISE_ID = re.compile(r"[0-9]{1,9}")  # an Exercise's id: a huge or odd number is no choice at all
_REMOVE = re.compile(r"(exercises|precautions|red_flags)-([0-9]{1,4})")


def _exercise_choices(filter_form: forms.ExerciseFilterForm, selected: list[int]) -> list[tuple[int, str]]:
    """The library filtered by the search, plus the exercises already chosen in the rows."""
    data = filter_form.cleaned_data if filter_form.is_valid() else {}
    found = list(
        selectors.exercise_list(
            search=data.get("q", ""),
            category=data.get("category", ""),
            body_region=data.get("body_region", ""),
        )
    )
    shown = {e.pk for e in found}
    missing = [pk for pk in selected if pk not in shown]
    if missing:
        found += list(selectors.exercise_list_by_ids(ids=missing))
    found.sort(key=lambda e: e.name)
    return [(e.pk, f"{e.name} · {e.get_category_display()} · {e.get_body_region_display()}") for e in found]


def _plan_initial(plan: TreatmentPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"plan": {}, "exercises": [], "precautions": [], "red_flags": []}
    return {
        "plan": {name: getattr(plan, name) for name in services.PLAN_FIELDS},
        "exercises": [
            {name: getattr(x, name) for name in forms.PlanExerciseForm.base_fields if name != "exercise"}
            | {"exercise": x.exercise_id}
            for x in plan.exercises.all()
        ],
        "precautions": [
            {name: getattr(p, name) for name in forms.PrecautionForm.base_fields}
            for p in plan.precautions.all()
        ],
        "red_flags": [{"description": flag.description} for flag in plan.red_flags.all()],
    }


@dataclass(frozen=True)
class _EditorPost:
    """What a request to the plan editor asks for: the rows to show (None: the plan as stored), whether
    to save them, and why what was posted was refused (empty when it was not)."""

    data: QueryDict | None = None
    saving: bool = False
    refused: str = ""


def _editor_post(request: HttpRequest) -> _EditorPost:
    """Parse the editor's POST: "add" and "remove" change the posted rows, "filter" only narrows the
    exercise lists, anything else saves. Rows that cannot be read are refused before any form is built."""
    if request.method != "POST":
        return _EditorPost()
    data: QueryDict = request.POST
    problems = [
        problem
        for prefix, rowset in ROW_SETS.items()
        if (problem := forms.management_problem(data, prefix, rowset.max_num))
    ]
    if problems:
        # Rows that cannot be read are not guessed at: the editor starts again from what is stored.
        return _EditorPost(
            refused=f"Nothing was saved: {problems[0]} Your changes were not kept; please make them again."
        )
    if str(data.get("add", "")) in ROW_SETS:
        prefix = str(data["add"])
        if forms.row_count(data, prefix) >= ROW_SETS[prefix].max_num:
            messages.error(request, services.row_cap_message(prefix))
            return _EditorPost(data)
        return _EditorPost(forms.formset_data_with_row_added(data, prefix, ROW_SETS[prefix].form))
    if data.get("remove"):
        remove = _REMOVE.fullmatch(str(data["remove"]))
        if remove is not None:
            data = forms.formset_data_with_row_removed(data, remove[1], int(remove[2]))
        return _EditorPost(data)
    return _EditorPost(data, saving="filter" not in data)


def _selected_exercises(data: QueryDict | None, initial: dict[str, Any]) -> list[int]:
    """The exercises chosen in the rows shown: posted (a malformed id is no choice) or stored."""
    if data is None:
        return [row["exercise"] for row in initial["exercises"]]
    values = [str(data.get(k, "")) for k in data if _EXERCISE_KEY.fullmatch(k)]
    return [int(v) for v in values if _EXERCISE_ID.fullmatch(v)]


def _editor_rows(
    data: QueryDict | None, initial: dict[str, Any], choices: list[tuple[int, str]]
) -> dict[str, Any]:
    """The row formsets of the editor, by prefix."""
    return {
        prefix: cls(
            data,
            # Initial values only for a fresh page: once posted, the rows are what was posted (a removed
            # row shifts the ones after it, and a blank new row must compare with the fields' defaults).
            initial=(initial[prefix] or None) if data is None else None,
            prefix=prefix,
            form_kwargs={"exercise_choices": choices} if prefix == "exercises" else {},
        )
        for prefix, cls in ROW_SETS.items()
    }


def _plan_save(
    request: HttpRequest,
    patient: Patient,
    plan: TreatmentPlan | None,
    form: forms.PlanForm,
    rowsets: dict[str, Any],
) -> TreatmentPlan | None:
    """Create or update the plan from valid forms; None (the errors put on the forms) when the forms or
    the service refuse."""
    valid = form.is_valid() & all([rs.is_valid() for rs in rowsets.values()])
    if not valid:
        return None
    rows = {prefix: forms.filled_rows(rs) for prefix, rs in rowsets.items()}
    fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
    fields |= {
        "exercises": [r for _, r in rows["exercises"]],
        "precautions": [r for _, r in rows["precautions"]],
        "red_flags": [r["description"] for _, r in rows["red_flags"]],
    }
    user = _user(request)
    try:
        if plan is None:
            saved = services.plan_create(patient=patient, actor=user, **fields)
            messages.success(request, "The treatment plan was created.")
        else:
            saved = services.plan_update(plan=plan, actor=user, **fields)
            messages.success(request, "The treatment plan was saved.")
    except ValidationError as exc:
        index_maps = {p: (rowsets[p], [i for i, _ in rows[p]]) for p in ROW_SETS}
        forms.apply_service_errors(exc, form, index_maps)
        return None
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    return saved


def _plan_editor(request: HttpRequest, patient: Patient, plan: TreatmentPlan | None) -> HttpResponse:
    """Create or edit a plan. "Add" and "remove" buttons re-render the posted rows with one more or one
    fewer, so nothing typed is lost; "filter" narrows the exercise lists; anything else saves."""
    initial = _plan_initial(plan)
    post = _editor_post(request)
    filter_form = forms.ExerciseFilterForm(post.data if post.data is not None else request.GET)
    choices = _exercise_choices(filter_form, _selected_exercises(post.data, initial))
    form = forms.PlanForm(post.data, initial=initial["plan"])
    rowsets = _editor_rows(post.data, initial, choices)
    if post.saving and (saved := _plan_save(request, patient, plan, form, rowsets)) is not None:
        return redirect("plan_detail", public_id=saved.public_id)
    context = {
        "patient": patient,
        "plan": plan,
        "form": form,
        "filter_form": filter_form,
        "exercise_rows": rowsets["exercises"],
        "precaution_rows": rowsets["precautions"],
        "red_flag_rows": rowsets["red_flags"],
        "show_errors": post.saving,
        "refused": post.refused,
        "library_count": len(choices),
    }
    status = 400 if post.saving or post.refused else 200
    return render(request, "referrals/plan_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(policies.can_edit_patient(user, patient))
    return _plan_editor(request, patient, None)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    plan = _get(selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(policies.can_edit_plan(user, plan))
    audit.record_read(request, plan, channel=audit.Channel.PAGE)
    return _plan_editor(request, plan.patient, plan)


@login_required
@require_GET
def plan_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    plan = _get(selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(policies.can_view_plan(user, plan))
    audit.record_read(request, plan, channel=audit.Channel.PAGE)
    handoffs = selectors.handoff_list_for_user(user=user).filter(plan=plan).order_by("-created_at")
    return render(
        request,
        "referrals/plan_detail.html",
        {"plan": plan, "handoffs": handoffs, "open_handoff": selectors.open_handoff_for_plan(plan=plan)},
    )


# --- discharge -----------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_discharge(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Choose a trainer: every trainer of the partner gyms, the ones who cannot be chosen with why."""
    user = _user(request)
    plan = _get(selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(policies.can_discharge(user, plan))
    filter_form = forms.TrainerFilterForm(request.GET)
    data = filter_form.cleaned_data if filter_form.is_valid() else {}
    choices = selectors.trainer_choices_for_plan(
        user=user,
        plan=plan,
        specialization=data.get("specialization", ""),
        accepting=True if data.get("accepting") else None,
    )
    context = {
        "plan": plan,
        "filter_form": filter_form,
        "choices": choices,
        "open_handoff": selectors.open_handoff_for_plan(plan=plan),
    }
    return render(request, "referrals/plan_discharge.html", context)


def _chosen(request: HttpRequest, plan: TreatmentPlan, data: QueryDict) -> selectors.TrainerChoice:
    form = forms.DischargeForm(data)
    if not form.is_valid():
        raise Http404("Choose a trainer from the list.")
    choice = selectors.trainer_choice_for_plan(
        user=_user(request),
        plan=plan,
        trainer_public_id=form.cleaned_data["trainer"],
        gym_public_id=form.cleaned_data["gym"],
    )
    if choice is None:
        raise Http404("That trainer is not one of the partner gyms' trainers.")
    return choice


@login_required
@require_GET
def plan_discharge_review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The guidelines exactly as the trainer will see them, built by the same code as the snapshot."""
    user = _user(request)
    plan = _get(selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(policies.can_discharge(user, plan))
    choice = _chosen(request, plan, request.GET)
    consent = selectors.active_consent(patient=plan.patient, gym_id=choice.gym.pk)
    if choice.blockers or consent is None:
        for blocker in choice.blockers:
            messages.error(request, blocker.message)
        return redirect("plan_discharge", public_id=plan.public_id)
    audit.record_read(request, plan, channel=audit.Channel.PAGE)
    context = {
        "plan": plan,
        "choice": choice,
        "guidelines": selectors.guidelines_preview(plan=plan, consent=consent),
        "form": forms.DischargeForm(
            initial={"trainer": choice.trainer.public_id, "gym": choice.gym.public_id}
        ),
    }
    return render(request, "referrals/plan_discharge_review.html", context)


@login_required
@require_POST
def plan_discharge_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    # The plan's row and the chosen trainer only: the service reads the rest under its locks.
    plan = _get(selectors.plan_row_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(policies.can_discharge(user, plan))
    form = forms.DischargeForm(request.POST)
    if not form.is_valid():
        raise Http404("Choose a trainer from the list.")
    choice = selectors.trainer_membership_for_plan(
        user=user,
        plan=plan,
        trainer_public_id=form.cleaned_data["trainer"],
        gym_public_id=form.cleaned_data["gym"],
    )
    if choice is None:
        raise Http404("That trainer is not one of the partner gyms' trainers.")
    try:
        handoff = services.plan_discharge(plan=plan, trainer=choice.user, gym=choice.organization, actor=user)
    except SendBlocked as exc:
        for blocker in exc.blockers:
            messages.error(request, blocker.message)
    except (InvalidTransition, ValidationError) as exc:
        messages.error(request, exc.message if isinstance(exc, InvalidTransition) else " ".join(exc.messages))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        messages.success(
            request, f"The plan was sent to {choice.user.full_name} at {choice.organization.name}."
        )
        return redirect("handoff_detail", public_id=handoff.public_id)
    return redirect("plan_discharge", public_id=plan.public_id)


# --- handoffs ------------------------------------------------------------------------------------------


def page_actions(actions: Iterable[HandoffAction]) -> dict[str, HandoffAction]:
    """The handoff page's buttons: the registry's actions that have one (`on_page`), in its order. A
    button posts to `handoff_action` with the action's name and calls its service (services.HANDOFF_ACTIONS)
    with the text it asks for (`text_arg`, `text_label`, `reason_required`)."""
    return {a.name: a for a in actions if a.on_page}


ACTIONS: dict[str, HandoffAction] = page_actions(registry.ACTIONS.values())


def _available(user: User, handoff: TrainerHandoff, action: HandoffAction) -> bool:
    return policies.can_act(user, handoff, action.side) and action.starts_from(handoff.status)


def _can_raise_concern(user: User, handoff: TrainerHandoff) -> bool:
    return (
        policies.can_raise_concern(user, handoff)
        and handoff.status in OPEN_STATUSES
        and handoff.status != S.DRAFT
    )


def _action_form(name: str, action: HandoffAction, data: QueryDict | None = None) -> forms.ReasonForm:
    # every action's text is a reason or a summary: REASON_MAX_LENGTH, the service's and the API's limit
    return forms.ReasonForm(data, prefix=name, label=action.text_label, required=action.reason_required)


def _render_handoff(
    request: HttpRequest,
    handoff: TrainerHandoff,
    bound: dict[str, forms.ReasonForm] | None = None,
    status: int = 200,
    resolve_forms: dict[int, forms.ConcernResolveForm] | None = None,
) -> HttpResponse:
    user = _user(request)
    bound = bound or {}
    events = list(selectors.handoff_events(handoff=handoff))
    # The concerns come with the timeline (one query): the PT answers the unresolved ones here.
    can_answer = policies.can_answer_concern(user, handoff)
    concerns = [c for c in map(_concern_of, events) if c is not None and c.resolved_at is None]
    open_concerns = [
        (
            c,
            (resolve_forms or {}).get(c.pk)
            or forms.ConcernResolveForm(auto_id=f"id_concern_{c.event_id}_%s"),
        )
        for c in concerns
    ]
    actions = [
        (name, action, bound.get(name) or _action_form(name, action))
        for name, action in ACTIONS.items()
        if _available(user, handoff, action)
    ]
    is_clinic_side = policies.can_act(user, handoff, "clinic")
    can_reoffer = (
        is_clinic_side
        and handoff.status in (S.REJECTED, S.FAILED, S.CANCELLED)
        and selectors.open_handoff_for_plan(plan=handoff.plan) is None
    )
    view = selectors.handoff_view_for_user(user=user, handoff=handoff, surface=Surface.PAGE)
    context = {
        "handoff": handoff,
        "view": view,
        "show_guidelines": Shown.GUIDELINES in view.shown,
        "guidelines": view.guidelines or {},
        "events": [(e, view.actor_name(e)) for e in events],
        "can_answer_concerns": can_answer,
        "open_concerns": open_concerns if can_answer else [],
        "is_clinic_side": is_clinic_side,
        "actions": actions,
        "concern_form": bound.get("concern") or forms.concern_form(),
        "can_raise_concern": _can_raise_concern(user, handoff),
        "can_reoffer": can_reoffer,
    }
    return render(request, "referrals/handoff_detail.html", context, status=status)


def _handoff(request: HttpRequest, public_id: uuid.UUID) -> TrainerHandoff:
    user = _user(request)
    handoff = _get(selectors.handoff_get_for_user, TrainerHandoff, user=user, public_id=public_id)
    if not policies.can_view_handoff(user, handoff):
        raise Http404("No such referral.")
    return handoff


@login_required
@require_GET
def handoff_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    handoff = _handoff(request, public_id)
    audit.record_read(request, handoff, channel=audit.Channel.PAGE)
    return _render_handoff(request, handoff)


@login_required
@require_POST
def handoff_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise Http404("No such action.")
    _deny_unless(policies.can_act(user, handoff, chosen.side))
    form = _action_form(action, chosen, request.POST)
    if not form.is_valid():
        return _render_handoff(request, handoff, bound={action: form}, status=400)
    try:
        services.HANDOFF_ACTIONS[chosen.name](
            handoff=handoff, actor=user, **chosen.text_kwargs(form.cleaned_data["text"])
        )
    except ValidationError as exc:
        form.add_error("text", exc.messages)
        return _render_handoff(request, handoff, bound={action: form}, status=400)
    except NoLongerEligible as exc:
        for blocker in exc.blockers:
            messages.error(request, f"Not done: {blocker.message} The physiotherapist has been told.")
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        messages.success(request, f"Done: the referral is now {S(chosen.to).label.lower()}.")
    return redirect("handoff_detail", public_id=handoff.public_id)


@login_required
@require_POST
def handoff_concern(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    _deny_unless(policies.can_raise_concern(user, handoff))
    form = forms.concern_form(request.POST)
    if not form.is_valid():
        return _render_handoff(request, handoff, bound={"concern": form}, status=400)
    try:
        services.handoff_raise_concern(
            handoff=handoff, actor=user, text=form.cleaned_data["text"], hold=form.cleaned_data["hold"]
        )
    except ValidationError as exc:
        form.add_error("text", exc.messages)
        return _render_handoff(request, handoff, bound={"concern": form}, status=400)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        messages.success(request, "Your concern was sent to the physiotherapist as urgent.")
    return redirect("handoff_detail", public_id=handoff.public_id)


def _concern_of(event: HandoffEvent) -> Concern | None:
    return getattr(
        event, "concern", None
    )  # a concern event always has one (migration 0007 made the old ones)


def _concern(request: HttpRequest, public_id: uuid.UUID, concern_id: uuid.UUID) -> Concern:
    """A concern of a handoff the user sees; any other is a 404."""
    handoff = _handoff(request, public_id)
    return _get(
        selectors.concern_get_for_user, Concern, user=_user(request), handoff=handoff, public_id=concern_id
    )


@login_required
@require_POST
def concern_acknowledge(request: HttpRequest, public_id: uuid.UUID, concern_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    concern = _concern(request, public_id, concern_id)
    _deny_unless(policies.can_answer_concern(user, concern.handoff))
    try:
        services.concern_acknowledge(concern=concern, actor=user)
    except ConcernAlreadyResolved as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        messages.success(request, "The concern is acknowledged; the trainer was told.")
    return redirect("handoff_detail", public_id=public_id)


@login_required
@require_POST
def concern_resolve(request: HttpRequest, public_id: uuid.UUID, concern_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    concern = _concern(request, public_id, concern_id)
    handoff = concern.handoff
    _deny_unless(policies.can_answer_concern(user, handoff))
    form = forms.ConcernResolveForm(request.POST, auto_id=f"id_concern_{concern.event_id}_%s")
    if form.is_valid():
        try:
            services.concern_resolve(concern=concern, actor=user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            form.add_error("note", exc.messages)
        except ConcernAlreadyResolved as exc:
            messages.error(request, exc.message)
            return redirect("handoff_detail", public_id=public_id)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, "The concern is resolved; the trainer was told and can read your note.")
            return redirect("handoff_detail", public_id=public_id)
    return _render_handoff(request, handoff, status=400, resolve_forms={concern.pk: form})


@login_required
@require_GET
def handoff_handout(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The printable guidelines for the client: the snapshot only, no navigation."""
    user = _user(request)
    handoff = _handoff(request, public_id)
    view = selectors.handoff_view_for_user(user=user, handoff=handoff, surface=Surface.HANDOUT)
    if view.guidelines is None:
        raise Http404("No guidelines to print.")
    audit.record_read(request, handoff, channel=audit.Channel.PAGE, object_type=audit.ObjectType.HANDOUT)
    context = {"handoff": handoff, "view": view, "guidelines": view.guidelines}
    return render(request, "referrals/handout.html", context)


# --- notifications -------------------------------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.notification_list_for_user(user=_user(request)))
    return render(request, "referrals/notifications.html", {"page": page, "notifications": page.object_list})


@login_required
@require_GET
def notification_open(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseRedirect:
    user = _user(request)
    notification = _get(selectors.notification_get_for_user, Notification, user=user, public_id=public_id)
    services.notification_mark_read(notification=notification, actor=user)
    return redirect(selectors.notification_link(notification=notification))


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponseRedirect:
    count = services.notification_mark_all_read(actor=_user(request))
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return HttpResponseRedirect(reverse("notification_list"))
