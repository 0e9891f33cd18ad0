"""The trainer's new review date for a referral on hold, from the referral page
(handoffs.services.handoff_hold_review_set)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.selectors import request_user as _user
from referrals.errors import InvalidTransition, NotPermitted
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import services as handoffs_services
from referrals.timers import schedule as timers_schedule
from referrals.web import forms as web_forms
from referrals.web import handoffs as web_handoffs
from referrals.web.common import _deny_unless


@login_required
@require_POST
def handoff_hold_review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The trainer sets a new review date for a referral on hold."""
    user = _user(request)
    handoff = web_handoffs._handoff(request, public_id)
    _deny_unless(handoffs_policies.can_act(user, handoff, "trainer"))
    form = web_forms.HoldReviewForm(request.POST)
    if not form.is_valid():
        return web_handoffs._render_handoff(request, handoff, hold_review_form=form, status=400)
    try:
        held = handoffs_services.handoff_hold_review_set(
            handoff=handoff, actor=user, review_on=form.cleaned_data["review_on"]
        )
    except ValidationError as exc:
        web_forms.apply_service_errors(exc, form)
        return web_handoffs._render_handoff(request, handoff, hold_review_form=form, status=400)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        assert held.hold_review_on is not None  # noqa: S101 - the service set it
        messages.success(
            request,
            f"The hold is to be reviewed on {timers_schedule.day_label(held.hold_review_on)}; "
            "the physiotherapist was told.",
        )
    return redirect("handoff_detail", public_id=handoff.public_id)
