"""The notifications page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.notify import selectors as notify_selectors
from referrals.notify import services as notify_services
from referrals.notify.models import Notification
from referrals.web.common import _get, _page

# --- notifications -------------------------------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, notify_selectors.notification_list_for_user(user=_user(request)))
    return render(request, "referrals/notifications.html", {"page": page, "notifications": page.object_list})


@login_required
@require_GET
def notification_open(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseRedirect:
    user = _user(request)
    notification = _get(
        notify_selectors.notification_get_for_user, Notification, user=user, public_id=public_id
    )
    notify_services.notification_mark_read(notification=notification, actor=user)
    return redirect(notify_selectors.notification_link(notification=notification))


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponseRedirect:
    count = notify_services.notification_mark_all_read(actor=_user(request))
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return HttpResponseRedirect(reverse("notification_list"))
