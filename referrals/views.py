"""The HTML adapter: parse input, fetch through a selector, call a service, render."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import User
from referrals import policies, selectors, services
from referrals.models import CASELOAD_STATUSES, HandoffEvent, HandoffStatus, Notification, TrainerHandoff


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required guarantees it
    return user


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    handoffs = list(selectors.handoff_list_for_user(user=user).order_by("-updated_at")[:200])
    as_clinic = [h for h in handoffs if policies.is_clinic_physio(user, h.plan.patient.clinic_id)]
    clinic_ids = {h.pk for h in as_clinic}
    as_trainer = [h for h in handoffs if h.trainer_id == user.pk and h.pk not in clinic_ids]
    by_status: dict[str, list[TrainerHandoff]] = defaultdict(list)
    for handoff in as_clinic:
        if handoff.is_open:
            by_status[handoff.get_status_display()].append(handoff)
    concerns = (
        HandoffEvent.objects.filter(handoff_id__in=clinic_ids, kind=HandoffEvent.Kind.CONCERN)
        .select_related("handoff__plan__patient", "actor")
        .order_by("-created_at")[:20]
    )
    context = {
        "is_physio": policies.is_physiotherapist(user),
        "is_trainer": policies.is_trainer(user),
        "patients": selectors.patient_list_for_user(user=user).order_by("full_name")[:100],
        "open_by_status": sorted(by_status.items()),
        "attention": selectors.handoff_attention_list_for_user(user=user)[:20],
        "waiting": [h for h in as_clinic if h.status == HandoffStatus.REQUESTED][:20],
        "concerns": concerns,
        "new_referrals": [h for h in as_trainer if h.status == HandoffStatus.REQUESTED],
        "active_clients": [
            h for h in as_trainer if h.status in CASELOAD_STATUSES and h.status != HandoffStatus.REQUESTED
        ],
        "notifications": selectors.notification_list_for_user(user=user)[:10],
    }
    return render(request, "referrals/home.html", context)


@login_required
@require_GET
def handoff_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    try:
        handoff = selectors.handoff_get_for_user(user=user, public_id=public_id)
    except TrainerHandoff.DoesNotExist as exc:
        raise Http404("No such referral.") from exc
    if not policies.can_view_handoff(user, handoff):
        raise Http404("No such referral.")
    context = {
        "handoff": handoff,
        "show_guidelines": policies.can_view_guidelines(user, handoff),
        "guidelines": handoff.snapshot or {},
        "events": selectors.handoff_events(handoff=handoff),
        "is_clinic_side": policies.can_act_for_clinic(user, handoff),
    }
    return render(request, "referrals/handoff_detail.html", context)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors.notification_list_for_user(user=_user(request))[:100]
    return render(request, "referrals/notifications.html", {"notifications": notifications})


@login_required
@require_GET
def notification_open(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseRedirect:
    user = _user(request)
    try:
        notification = selectors.notification_get_for_user(user=user, public_id=public_id)
    except Notification.DoesNotExist as exc:
        raise Http404("No such notification.") from exc
    services.notification_mark_read(notification=notification, actor=user)
    return redirect("handoff_detail", public_id=notification.event.handoff.public_id)
