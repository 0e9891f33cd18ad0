"""Pages of a referral: discharge, the referral page and its actions, concerns, the handout."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership, User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.audit import services as audit_services
from referrals.care import policies as care_policies
from referrals.care import selectors as care_selectors
from referrals.care.models import TreatmentPlan
from referrals.concerns import policies as concerns_policies
from referrals.concerns import selectors as concerns_selectors
from referrals.concerns import services as concerns_services
from referrals.concerns.models import Concern
from referrals.errors import (
    ConcernAlreadyResolved,
    InvalidTransition,
    NoLongerEligible,
    NotPermitted,
    ReportRequired,
    SendBlocked,
)
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import refer_back as handoffs_refer_back
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs import reoffer as handoffs_reoffer
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import OPEN_STATUSES, HandoffEvent, TrainerHandoff
from referrals.handoffs.policies import Shown, Surface
from referrals.handoffs.registry import HandoffAction
from referrals.progress import charts as progress_charts
from referrals.progress import policies as progress_policies
from referrals.timers import schedule as timers_schedule
from referrals.timers import services as timers_services
from referrals.web import forms as web_forms
from referrals.web import progress as web_progress
from referrals.web import reports as web_reports
from referrals.web.common import S, _deny_unless, _get

# --- discharge -----------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_discharge(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Choose a trainer: every trainer of the partner gyms, the ones who cannot be chosen with why."""
    user = _user(request)
    plan = _get(care_selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(care_policies.can_discharge(user, plan))
    filter_form = web_forms.TrainerFilterForm(request.GET)
    data = filter_form.cleaned_data if filter_form.is_valid() else {}
    choices = handoffs_eligibility.trainer_choice_list_for_plan(
        user=user,
        plan=plan,
        specialization=data.get("specialization", ""),
        accepting=True if data.get("accepting") else None,
    )
    context = {
        "plan": plan,
        "filter_form": filter_form,
        "choices": choices,
        "open_handoff": handoffs_selectors.handoff_get_open_for_plan(plan=plan),
    }
    return render(request, "referrals/plan_discharge.html", context)


def _chosen(request: HttpRequest, plan: TreatmentPlan, data: QueryDict) -> handoffs_eligibility.TrainerChoice:
    form = web_forms.DischargeForm(data)
    if not form.is_valid():
        raise Http404("Choose a trainer from the list.")
    choice = handoffs_eligibility.trainer_choice_get_for_plan(
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
    plan = _get(care_selectors.plan_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(care_policies.can_discharge(user, plan))
    choice = _chosen(request, plan, request.GET)
    consent = care_selectors.consent_get_active(patient=plan.patient, gym_id=choice.gym.pk)
    if choice.blockers or consent is None:
        for blocker in choice.blockers:
            messages.error(request, blocker.message)
        return redirect("plan_discharge", public_id=plan.public_id)
    audit_services.record_read(request, plan, channel=audit_services.Channel.PAGE)
    context = {
        "plan": plan,
        "choice": choice,
        "guidelines": handoffs_snapshot.guidelines_preview(plan=plan, consent=consent),
        "form": web_forms.DischargeForm(
            initial={"trainer": choice.trainer.public_id, "gym": choice.gym.public_id}
        ),
    }
    return render(request, "referrals/plan_discharge_review.html", context)


def _chosen_trainer(request: HttpRequest, user: User, plan: TreatmentPlan) -> Membership:
    """The trainer and gym posted (a discharge, a re-offer), if the clinic could choose them for the plan
    on the discharge page; anything else is a 404."""
    form = web_forms.DischargeForm(request.POST)
    if not form.is_valid():
        raise Http404("Choose a trainer from the list.")
    choice = handoffs_eligibility.trainer_membership_get_for_plan(
        user=user,
        plan=plan,
        trainer_public_id=form.cleaned_data["trainer"],
        gym_public_id=form.cleaned_data["gym"],
    )
    if choice is None:
        raise Http404("That trainer is not one of the partner gyms' trainers.")
    return choice


def _sent_or_told_why(request: HttpRequest, send: Callable[[], TrainerHandoff]) -> TrainerHandoff | None:
    """A send (the discharge, the re-offer): the referral it made, or None with its refusal as messages
    (what blocked it, an illegal move, a field error); not permitted is a 403."""
    try:
        return send()
    except SendBlocked as exc:
        for blocker in exc.blockers:
            messages.error(request, blocker.message)
    except (InvalidTransition, ValidationError) as exc:
        messages.error(request, exc.message if isinstance(exc, InvalidTransition) else " ".join(exc.messages))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    return None


@login_required
@require_POST
def plan_discharge_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    # The plan's row and the chosen trainer only: the service reads the rest under its locks.
    plan = _get(care_selectors.plan_row_get_for_user, TreatmentPlan, user=user, public_id=public_id)
    _deny_unless(care_policies.can_discharge(user, plan))
    choice = _chosen_trainer(request, user, plan)
    handoff = _sent_or_told_why(
        request,
        lambda: handoffs_sending.plan_discharge(
            plan=plan, trainer=choice.user, gym=choice.organization, actor=user
        ),
    )
    if handoff is not None:
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


ACTIONS: dict[str, HandoffAction] = page_actions(handoffs_registry.ACTIONS.values())


def _available(user: User, handoff: TrainerHandoff, action: HandoffAction) -> bool:
    return handoffs_policies.can_act(user, handoff, action.side) and action.starts_from(handoff.status)


def _can_raise_concern(user: User, handoff: TrainerHandoff) -> bool:
    return (
        concerns_policies.can_raise_concern(user, handoff)
        and handoff.status in OPEN_STATUSES
        and handoff.status != S.DRAFT
    )


def _action_form(
    name: str, action: HandoffAction, data: QueryDict | None = None, handoff: TrainerHandoff | None = None
) -> web_forms.ReasonForm:
    # every action's text is a reason or a summary: REASON_MAX_LENGTH, the service's and the API's limit
    if action.asks_review_date and handoff is not None:
        row = timers_schedule.clinic_timers_row(handoff.plan.patient.clinic)
        return web_forms.HoldForm(
            data,
            prefix=name,
            label=action.text_label,
            required=action.reason_required,
            default_days=timers_schedule.hold_review_days(row),
        )
    return web_forms.ReasonForm(data, prefix=name, label=action.text_label, required=action.reason_required)


def _render_handoff(
    request: HttpRequest,
    handoff: TrainerHandoff,
    bound: dict[str, web_forms.ReasonForm] | None = None,
    status: int = 200,
    resolve_forms: dict[int, web_forms.ConcernResolveForm] | None = None,
    refer_back_form: web_forms.ReferBackForm | None = None,
    hold_review_form: web_forms.HoldReviewForm | None = None,
) -> HttpResponse:
    user = _user(request)
    bound = bound or {}
    events = list(handoffs_selectors.event_list_for_handoff(handoff=handoff))
    # The concerns come with the timeline (one query): the PT answers the unresolved ones here.
    can_answer = concerns_policies.can_answer_concern(user, handoff)
    concerns = [c for c in map(_concern_of, events) if c is not None and c.resolved_at is None]
    open_concerns = [
        (
            c,
            (resolve_forms or {}).get(c.pk)
            or web_forms.ConcernResolveForm(auto_id=f"id_concern_{c.event_id}_%s"),
        )
        for c in concerns
    ]
    actions = [
        (name, action, bound.get(name) or _action_form(name, action, handoff=handoff))
        for name, action in ACTIONS.items()
        if _available(user, handoff, action)
    ]
    is_clinic_side = handoffs_policies.can_act(user, handoff, "clinic")
    can_reoffer = (
        is_clinic_side
        and handoff.status in (S.REJECTED, S.FAILED, S.CANCELLED)
        and handoffs_selectors.handoff_get_open_for_plan(plan=handoff.plan) is None
    )
    view = handoffs_snapshot.handoff_view_for_user(user=user, handoff=handoff, surface=Surface.PAGE)
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
        "concern_form": bound.get("concern") or web_forms.concern_form(),
        "can_raise_concern": _can_raise_concern(user, handoff),
        "can_reoffer": can_reoffer,
        # still no answer once the clinic was told (the timers' escalation, on the timeline): other
        # trainers, each a one-click re-offer (handoffs.reoffer)
        "reoffer_to": (
            timers_services.suggested_trainers(handoff, user=user)
            if handoffs_reoffer.suggests_reoffer(user, handoff, events)
            else []
        ),
        "progress": web_progress.sessions_section(request, handoff),
        **web_reports.reports_section_context(user, handoff),
        # one query: the sessions with their loads (progress.series)
        "progress_charts": progress_charts.progress_charts(handoff=handoff)
        if progress_policies.can_view_progress(user, handoff)
        else [],
        "can_refer_back": progress_policies.can_refer_back_now(user, handoff),
        "refer_back_form": refer_back_form or web_forms.ReferBackForm(),
        # a referral in progress goes on hold unless ended: the page offers the choice only then
        "refer_back_can_hold": handoff.status == S.IN_PROGRESS,
        # on hold: its review date, past or to come; the trainer may set a new one
        "hold_review": timers_schedule.hold_review_shown(handoff),
        "can_set_hold_review": handoff.hold_review_on is not None
        and handoffs_policies.can_act(user, handoff, "trainer"),
        "hold_review_form": hold_review_form or web_forms.HoldReviewForm(),
    }
    return render(request, "referrals/handoff_detail.html", context, status=status)


def _handoff(request: HttpRequest, public_id: uuid.UUID) -> TrainerHandoff:
    user = _user(request)
    handoff = _get(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user=user, public_id=public_id)
    if not handoffs_policies.can_view_handoff(user, handoff):
        raise Http404("No such referral.")
    return handoff


@login_required
@require_GET
def handoff_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    handoff = _handoff(request, public_id)
    audit_services.record_read(request, handoff, channel=audit_services.Channel.PAGE)
    return _render_handoff(request, handoff)


@login_required
@require_POST
def handoff_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise Http404("No such action.")
    _deny_unless(handoffs_policies.can_act(user, handoff, chosen.side))
    form = _action_form(action, chosen, request.POST, handoff=handoff)
    if not form.is_valid():
        return _render_handoff(request, handoff, bound={action: form}, status=400)
    try:
        handoffs_services.HANDOFF_ACTIONS[chosen.name](
            handoff=handoff,
            actor=user,
            **chosen.service_kwargs(form.cleaned_data["text"], form.cleaned_data.get("review_on")),
        )
    except ValidationError as exc:
        errors = getattr(exc, "error_dict", {})
        if "review_on" in errors and "review_on" in form.fields:
            form.add_error("review_on", errors["review_on"])
        else:
            form.add_error("text", exc.messages)
        return _render_handoff(request, handoff, bound={action: form}, status=400)
    except NoLongerEligible as exc:
        for blocker in exc.blockers:
            messages.error(request, f"Not done: {blocker.message} The physiotherapist has been told.")
    except (InvalidTransition, ReportRequired) as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        messages.success(request, f"Done: the referral is now {S(chosen.to).label.lower()}.")
    return redirect("handoff_detail", public_id=handoff.public_id)


@login_required
@require_POST
def handoff_refer_back(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The trainer or a physiotherapist sends the client back to the physiotherapist."""
    user = _user(request)
    handoff = _handoff(request, public_id)
    _deny_unless(progress_policies.can_refer_back(user, handoff))
    form = web_forms.ReferBackForm(request.POST)
    if not form.is_valid():
        return _render_handoff(request, handoff, refer_back_form=form, status=400)
    try:
        referred = handoffs_refer_back.handoff_refer_back(
            handoff=handoff, actor=user, note=form.cleaned_data["note"], end=form.cleaned_data["end"]
        )
    except ValidationError as exc:
        web_forms.apply_service_errors(exc, form)
        return _render_handoff(request, handoff, refer_back_form=form, status=400)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        told = (
            "the trainer was told"
            if handoffs_policies.can_act(user, referred, "clinic")
            else ("the physiotherapist was told as urgent")
        )
        messages.success(
            request,
            f"Referred back to the physiotherapist: the referral is {S(referred.status).label.lower()};"
            f" {told}.",
        )
    return redirect("handoff_detail", public_id=handoff.public_id)


@login_required
@require_POST
def handoff_concern(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    _deny_unless(concerns_policies.can_raise_concern(user, handoff))
    form = web_forms.concern_form(request.POST)
    if not form.is_valid():
        return _render_handoff(request, handoff, bound={"concern": form}, status=400)
    try:
        concerns_services.handoff_raise_concern(
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
        concerns_selectors.concern_get_for_user,
        Concern,
        user=_user(request),
        handoff=handoff,
        public_id=concern_id,
    )


@login_required
@require_POST
def concern_acknowledge(request: HttpRequest, public_id: uuid.UUID, concern_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    concern = _concern(request, public_id, concern_id)
    _deny_unless(concerns_policies.can_answer_concern(user, concern.handoff))
    try:
        concerns_services.concern_acknowledge(concern=concern, actor=user)
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
    _deny_unless(concerns_policies.can_answer_concern(user, handoff))
    form = web_forms.ConcernResolveForm(request.POST, auto_id=f"id_concern_{concern.event_id}_%s")
    if form.is_valid():
        try:
            concerns_services.concern_resolve(concern=concern, actor=user, note=form.cleaned_data["note"])
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
    view = handoffs_snapshot.handoff_view_for_user(user=user, handoff=handoff, surface=Surface.HANDOUT)
    if view.guidelines is None:
        raise Http404("No guidelines to print.")
    audit_services.record_read(
        request, handoff, channel=audit_services.Channel.PAGE, object_type=audit_services.ObjectType.HANDOUT
    )
    context = {"handoff": handoff, "view": view, "guidelines": view.guidelines}
    return render(request, "referrals/handout.html", context)


@login_required
@require_POST
def handoff_reoffer(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The one-click re-offer of a referral still waiting for its trainer: to one of the trainers the
    clinic could choose on the discharge page (anyone else: 404), through handoffs.reoffer."""
    user = _user(request)
    handoff = _get(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user=user, public_id=public_id)
    _deny_unless(handoffs_policies.can_act(user, handoff, "clinic"))
    choice = _chosen_trainer(request, user, handoff.plan)
    new = _sent_or_told_why(
        request,
        lambda: handoffs_reoffer.handoff_reoffer(
            handoff=handoff, trainer=choice.user, gym=choice.organization, actor=user
        ),
    )
    if new is not None:
        messages.success(
            request, f"Offered to {choice.user.full_name} at {choice.organization.name} instead."
        )
        return redirect("handoff_detail", public_id=new.public_id)
    return redirect("handoff_detail", public_id=handoff.public_id)
