"""Pages of what comes back from the gym: the trainer logs a session (a phone on the gym floor: open, tick
or untick, submit), a session's page with what the guidelines say to do when the safety fast lane fired,
and the sessions section of the referral page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.audit import services as audit_services
from referrals.errors import NoLongerEligible, NotPermitted
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import TrainerHandoff
from referrals.handoffs.snapshot import guidelines_read
from referrals.library import selectors as library_selectors
from referrals.progress import policies as progress_policies
from referrals.progress import safety as progress_safety
from referrals.progress import selectors as progress_selectors
from referrals.progress import services as progress_services
from referrals.progress.models import SESSION_MAX_EXERCISES, SessionLog
from referrals.web import forms as web_forms
from referrals.web import progress_forms
from referrals.web.common import _deny_unless, _get, _page


def _handoff(request: HttpRequest, public_id: uuid.UUID) -> TrainerHandoff:
    user = _user(request)
    handoff = _get(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user=user, public_id=public_id)
    if not handoffs_policies.can_view_handoff(user, handoff):
        raise Http404("No such referral.")
    return handoff


SECTION_SESSIONS = 10  # the latest sessions on the referral page; the rest on the sessions page


def sessions_section(request: HttpRequest, handoff: TrainerHandoff) -> dict[str, Any] | None:
    """The referral page's latest sessions (`templates/progress/_sessions_section.html`), or None when the
    user may not read the referral's progress. One query whatever the number of sessions."""
    user = _user(request)
    try:
        sessions = progress_selectors.session_summary_list_for_handoff(user=user, handoff=handoff)
    except TrainerHandoff.DoesNotExist:
        return None
    rows = list(sessions[: SECTION_SESSIONS + 1])
    return {
        "rows": rows[:SECTION_SESSIONS],
        "more": len(rows) > SECTION_SESSIONS,
        "can_log": progress_policies.can_log_session(user, handoff),
    }


@login_required
@require_GET
def session_list(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Every session of a referral, a page at a time, the latest first."""
    user = _user(request)
    handoff = _handoff(request, public_id)
    try:
        sessions = progress_selectors.session_summary_list_for_handoff(user=user, handoff=handoff)
    except TrainerHandoff.DoesNotExist as exc:
        raise Http404("No such referral.") from exc
    audit_services.record_read(request, handoff, channel=audit_services.Channel.PAGE)
    page = _page(request, sessions)
    context = {
        "handoff": handoff,
        "page": page,
        "progress": {
            "rows": list(page),
            "more": False,
            "can_log": progress_policies.can_log_session(user, handoff),
        },
    }
    return render(request, "progress/session_list.html", context)


def _library() -> list[tuple[str, str]]:
    return list(library_selectors.exercise_list().values_list("slug", "name"))


def _rows(formset: Any, guidelines: dict[str, Any]) -> list[tuple[Any, dict[str, Any] | None]]:
    """Each exercise form with its prescribed exercise of the guidelines (None for an added row)."""
    prescribed = {str(item["id"]): item for item in guidelines.get("exercises") or []}
    return [(form, prescribed.get(str(form["prescribed_id"].value() or ""))) for form in formset.forms]


def _render_log(
    request: HttpRequest,
    handoff: TrainerHandoff,
    guidelines: dict[str, Any],
    form: progress_forms.SessionForm,
    formset: Any,
    status: int = 200,
) -> HttpResponse:
    rows = _rows(formset, guidelines)
    prescribed_count = sum(1 for _, item in rows if item)
    context = {
        "handoff": handoff,
        "form": form,
        "formset": formset,
        "rows": rows,
        "prescribed_count": prescribed_count,
        # the added rows stay open once one was filled in or has an error
        "added_open": any(
            form_.is_bound and (form_.errors or form_["exercise"].value())
            for form_, _ in rows[prescribed_count:]
        ),
        "precautions": guidelines.get("precautions") or [],
    }
    return render(request, "progress/session_form.html", context, status=status)


def _service_rows(form: progress_forms.SessionForm, formset: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """The exercises the service is sent (none unless the client attended: the section is for an attended
    session) and, for each, its form's index (to put the service's errors back on it)."""
    if form.cleaned_data["attendance"] != SessionLog.Attendance.ATTENDED:
        return [], []
    rows, index_map = [], []
    for i, row_form in enumerate(formset.forms):
        row = row_form.as_service_row()
        if row is not None:
            rows.append(row)
            index_map.append(i)
    return rows, index_map


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    _deny_unless(progress_policies.can_log_session(user, handoff))
    guidelines = guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id) or {}
    flags = guidelines.get("red_flags") or []
    library = _library()
    prefix = progress_forms.EXERCISES_PREFIX
    initial = progress_forms.prescribed_initial(guidelines)
    if request.method != "POST":
        form = progress_forms.SessionForm(red_flags=flags)
        formset = progress_forms.SessionExerciseFormSet(
            initial=initial, prefix=prefix, form_kwargs={"library": library}
        )
        return _render_log(request, handoff, guidelines, form, formset)
    form = progress_forms.SessionForm(request.POST, red_flags=flags)
    problem = web_forms.management_problem(request.POST, prefix, SESSION_MAX_EXERCISES)
    if problem:
        formset = progress_forms.SessionExerciseFormSet(
            initial=initial, prefix=prefix, form_kwargs={"library": library}
        )
        form.is_valid()
        form.add_error(None, problem)
        return _render_log(request, handoff, guidelines, form, formset, status=400)
    formset = progress_forms.SessionExerciseFormSet(
        request.POST, initial=initial, prefix=prefix, form_kwargs={"library": library}
    )
    if not (form.is_valid() & formset.is_valid()):
        return _render_log(request, handoff, guidelines, form, formset, status=400)
    rows, index_map = _service_rows(form, formset)
    data = form.cleaned_data
    try:
        session = progress_services.session_log(
            handoff=handoff,
            actor=user,
            session_date=data["session_date"],
            attendance=data["attendance"],
            exercises=rows,
            rpe=data["rpe"],
            pain_before=data["pain_before"],
            pain_after=data["pain_after"],
            peak_heart_rate=data["peak_heart_rate"],
            mvpa_minutes=data["mvpa_minutes"],
            red_flags=data["red_flags"],
            note=data["note"],
        )
    except ValidationError as exc:
        web_forms.apply_service_errors(exc, form, {"exercises": (formset, index_map)})
        return _render_log(request, handoff, guidelines, form, formset, status=400)
    except NoLongerEligible as exc:
        for blocker in exc.blockers:
            messages.error(request, f"Not stored: {blocker.message} The physiotherapist has been told.")
        return _render_log(request, handoff, guidelines, form, formset, status=409)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    if session.concern_id is not None:
        messages.error(request, "Stop: the physiotherapist was told at once (urgent). See what to do below.")
    else:
        messages.success(request, "The session is logged.")
    return redirect("session_detail", public_id=session.public_id)


@login_required
@require_GET
def session_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user: User = _user(request)
    session = _get(progress_selectors.session_get_for_user, SessionLog, user=user, public_id=public_id)
    audit_services.record_read(request, session.handoff, channel=audit_services.Channel.PAGE)
    context = {
        "session": session,
        "handoff": session.handoff,
        "exercises": list(session.exercises.all()),
        "alerts": progress_safety.session_alerts(session),
    }
    return render(request, "progress/session_detail.html", context)
