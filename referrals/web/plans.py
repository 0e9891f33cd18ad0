"""Pages of the care area: the treatment plan and its editor."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.audit import services as audit_services
from referrals.care import policies as care_policies
from referrals.care import selectors as care_selectors
from referrals.care import services as care_services
from referrals.care.models import Patient, TreatmentPlan
from referrals.errors import (
    NotPermitted,
)
from referrals.handoffs import selectors as handoffs_selectors
from referrals.library import selectors as library_selectors
from referrals.web import forms as web_forms
from referrals.web.common import _deny_unless, _get

# --- plans ---------------------------------------------------------------------------------------------

ROW_SETS: dict[str, Any] = {
    "exercises": web_forms.PlanExerciseFormSet,
    "precautions": web_forms.PrecautionFormSet,
    "red_flags": web_forms.RedFlagFormSet,
}


_EXERCISE_KEY = re.compile(r"exercises-[0-9]{1,4}-exercise")


_EXERCISE_ID = re.compile(r"[0-9]{1,9}")  # an Exercise's id: a huge or odd number is no choice at all


_REMOVE = re.compile(r"(exercises|precautions|red_flags)-([0-9]{1,4})")


def _exercise_choices(
    filter_form: web_forms.ExerciseFilterForm, selected: list[int]
) -> list[tuple[int, str]]:
    """The library filtered by the search, plus the exercises already chosen in the rows."""
    data = filter_form.cleaned_data if filter_form.is_valid() else {}
    found = list(
        library_selectors.exercise_list(
            search=data.get("q", ""),
            category=data.get("category", ""),
            body_region=data.get("body_region", ""),
        )
    )
    shown = {e.pk for e in found}
    missing = [pk for pk in selected if pk not in shown]
    if missing:
        found += list(library_selectors.exercise_list_by_ids(ids=missing))
    found.sort(key=lambda e: e.name)
    return [(e.pk, f"{e.name} · {e.get_category_display()} · {e.get_body_region_display()}") for e in found]


def _plan_initial(plan: TreatmentPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"plan": {}, "exercises": [], "precautions": [], "red_flags": []}
    return {
        "plan": {name: getattr(plan, name) for name in care_services.PLAN_FIELDS},
        "exercises": [
            {name: getattr(x, name) for name in web_forms.PlanExerciseForm.base_fields if name != "exercise"}
            | {"exercise": x.exercise_id}
            for x in plan.exercises.all()
        ],
        "precautions": [
            {name: getattr(p, name) for name in web_forms.PrecautionForm.base_fields}
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
        if (problem := web_forms.management_problem(data, prefix, rowset.max_num))
    ]
    if problems:
        # Rows that cannot be read are not guessed at: the editor starts again from what is stored.
        return _EditorPost(
            refused=f"Nothing was saved: {problems[0]} Your changes were not kept; please make them again."
        )
    if str(data.get("add", "")) in ROW_SETS:
        prefix = str(data["add"])
        if web_forms.row_count(data, prefix) >= ROW_SETS[prefix].max_num:
            messages.error(request, care_services.row_cap_message(prefix))
            return _EditorPost(data)
        return _EditorPost(web_forms.formset_data_with_row_added(data, prefix, ROW_SETS[prefix].form))
    if data.get("remove"):
        remove = _REMOVE.fullmatch(str(data["remove"]))
        if remove is not None:
            data = web_forms.formset_data_with_row_removed(data, remove[1], int(remove[2]))
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
    form: web_forms.PlanForm,
    rowsets: dict[str, Any],
) -> TreatmentPlan | None:
    """Create or update the plan from valid forms; None (the errors put on the forms) when the forms or
    the service refuse."""
    valid = form.is_valid() & all([rs.is_valid() for rs in rowsets.values()])
    if not valid:
        return None
    rows = {prefix: web_forms.filled_rows(rs) for prefix, rs in rowsets.items()}
    fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
    fields |= {
        "exercises": [r for _, r in rows["exercises"]],
        "precautions": [r for _, r in rows["precautions"]],
        "red_flags": [r["description"] for _, r in rows["red_flags"]],
    }
    user = _user(request)
    try:
        if plan is None:
            saved = care_services.plan_create(patient=patient, actor=user, **fields)
            messages.success(request, "The treatment plan was created.")
        else:
            saved = care_services.plan_update(plan=plan, actor=user, **fields)
            messages.success(request, "The treatment plan was saved.")
    except ValidationError as exc:
        index_maps = {p: (rowsets[p], [i for i, _ in rows[p]]) for p in ROW_SETS}
        web_forms.apply_service_errors(exc, form, index_maps)
        return None
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    return saved


def _plan_editor(request: HttpRequest, patient: Patient, plan: TreatmentPlan | None) -> HttpResponse:
    """Create or edit a plan. "Add" and "remove" buttons re-render the posted rows with one more or one
    fewer, so nothing typed is lost; "filter" narrows the exercise lists; anything else saves."""
    initial = _plan_initial(plan)
    post = _editor_post(request)
    filter_form = web_forms.ExerciseFilterForm(post.data if post.data is not None else request.GET)
    choices = _exercise_choices(filter_form, _selected_exercises(post.data, initial))
    form = web_forms.PlanForm(post.data, initial=initial["plan"])
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
    patient = _get(care_selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(care_policies.can_edit_patient(user, patient))
    return _plan_editor(request, patient, None)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    plan = _get(care_selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(care_policies.can_edit_plan(user, plan))
    audit_services.record_read(request, plan, channel=audit_services.Channel.PAGE)
    return _plan_editor(request, plan.patient, plan)


@login_required
@require_GET
def plan_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    plan = _get(care_selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(care_policies.can_view_plan(user, plan))
    audit_services.record_read(request, plan, channel=audit_services.Channel.PAGE)
    handoffs = handoffs_selectors.handoff_list_for_user(user=user).filter(plan=plan).order_by("-created_at")
    return render(
        request,
        "referrals/plan_detail.html",
        {
            "plan": plan,
            "handoffs": handoffs,
            "open_handoff": handoffs_selectors.handoff_get_open_for_plan(plan=plan),
        },
    )
