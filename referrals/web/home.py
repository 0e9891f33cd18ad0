"""The home page: the PT's worklist or the trainer's inbox."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals import access as referrals_access
from referrals.care import selectors as care_selectors
from referrals.concerns import selectors as concerns_selectors
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import TrainerHandoff
from referrals.handoffs.policies import Surface
from referrals.notify import selectors as notify_selectors
from referrals.timers import schedule as timers_schedule
from referrals.web.common import S, _page

# --- home ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    is_physio = referrals_access.is_physiotherapist(user)
    is_trainer = referrals_access.is_trainer(user)
    context: dict[str, Any] = {"is_physio": is_physio, "is_trainer": is_trainer}
    now = timezone.now()
    if is_physio:
        open_page = _page(
            request, handoffs_selectors.handoff_list_open_for_clinic_user(user=user), "open_page"
        )
        context |= {
            "patients": care_selectors.patient_list_for_user(user=user).order_by("full_name")[:10],
            "open_page": open_page,
            "open_by_status": [
                (S(status).label, [(h, _hold_clock(h, "clinic", now)) for h in rows])
                for status, rows in groupby(open_page.object_list, key=lambda h: h.status)
            ],
            "attention": handoffs_selectors.handoff_attention_list_for_user(user=user)[:20],
            "waiting": [
                (h, _clock(h, h.clinic.zone, now))
                for h in handoffs_selectors.handoff_list_waiting_for_clinic_user(user=user)[:20]
            ],
            "hold_due": _hold_due(user, now, 20),
            "concerns": concerns_selectors.concern_list_for_clinic_user(user=user)[:20],
        }
    if is_trainer:
        inbox_page = _page(request, handoffs_selectors.inbox_list_for_user(user=user), "inbox_page")
        rows = [
            (h, handoffs_snapshot.handoff_view_for_user(user=user, handoff=h, surface=Surface.INBOX))
            for h in inbox_page.object_list
        ]
        context |= {
            "inbox_page": inbox_page,
            "new_referrals": [(h, v, _clock(h, h.gym.zone, now)) for h, v in rows if h.status == S.REQUESTED],
            "active_clients": [
                (h, v, _hold_clock(h, "trainer", now)) for h, v in rows if h.status != S.REQUESTED
            ],
        }
    context["notifications"] = notify_selectors.notification_list_for_user(user=user)[:5]
    return render(request, "referrals/home.html", context)


@dataclass(frozen=True)
class Clock:
    """A referral's timers as a row shows them, in the viewer's organization's time zone: a requested one's
    cancellation (`expires`), or a hold's review date (`review`, `expires` empty); `overdue` when the
    clinic was told (no answer) or the review date has passed."""

    expires: str
    overdue: bool
    review: str = ""


def _clock(handoff: TrainerHandoff, zone: zoneinfo.ZoneInfo, now: datetime.datetime) -> Clock | None:
    clock = timers_schedule.requested_clock(handoff, now)
    if clock is None:
        return None
    return Clock(expires=timers_schedule.local_label(clock.expires_at, zone), overdue=clock.overdue)


def _hold_clock(handoff: TrainerHandoff, side: str, now: datetime.datetime) -> Clock | None:
    """An on-hold row's review date; the trainer's row is flagged on the day itself, the clinic's from the
    day after (timers.schedule.hold_review_flags: the clinic's calendar)."""
    day = handoff.hold_review_on
    if handoff.status != S.ON_HOLD or day is None:
        return None
    due, overdue = timers_schedule.hold_review_flags(handoff, now)
    return Clock(
        expires="", overdue=due if side == "trainer" else overdue, review=timers_schedule.day_label(day)
    )


def _hold_due(user: User, now: datetime.datetime, limit: int) -> list[tuple[TrainerHandoff, Clock | None]]:
    """The first `limit` referrals of the user's clinics past their review date, each by its clinic's
    calendar: one query, read until `limit` are found (only the last day or two can be not yet overdue in
    a clinic's zone, and they come last)."""
    rows = handoffs_selectors.handoff_list_hold_due_for_clinic_user(
        user=user, before=timers_schedule.latest_today(now)
    )
    found: list[tuple[TrainerHandoff, Clock | None]] = []
    for handoff in rows.iterator(chunk_size=limit + 20):
        if timers_schedule.hold_review_flags(handoff, now)[1]:
            found.append((handoff, _hold_clock(handoff, "clinic", now)))
            if len(found) == limit:
                break
    return found
