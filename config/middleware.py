"""Request hardening that applies to every page and every API call (issue 6).

- NoStoreMiddleware: nothing a logged-in person sees is kept by a browser or a proxy cache.
- SessionTimeoutMiddleware: a session ends after 15 idle minutes and, whatever happens, after 12 hours.
- OTPMiddleware: django-otp's, without a query per request to load the device that verified the session.
- TwoFactorMiddleware: a user with an authenticator app verifies a code before any page; staff in the admin,
  and physiotherapists where HANDOFF_REQUIRE_2FA_FOR_PHYSIOS is on, are sent to set one up first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device

from accounts import selectors as account_selectors
from accounts import two_factor

Handler = Callable[[HttpRequest], HttpResponseBase]

SESSION_STARTED_KEY = "_handoff_session_started_at"
SESSION_SEEN_KEY = "_handoff_session_seen_at"
# The last-seen time is rewritten at most once a minute: a page then costs no session write (three
# statements) at all, and the idle limit holds to within a minute (15 to 16 minutes).
SEEN_RESOLUTION_SECONDS = 60.0


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that reaches Django's views.

    It sits below WhiteNoise, which answers static files itself with their own long-lived caching, so
    only pages, API responses, redirects and errors pass through here: all of them may carry patient data
    or a token, none of them may be stored."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        if "Expires" in response:
            del response["Expires"]
        return response


def now() -> float:
    """The clock the session limits read (a function, so tests can move it)."""
    return time.time()


class SessionTimeoutMiddleware:
    """Logs a session out after HANDOFF_SESSION_IDLE_TIMEOUT without a request, or
    HANDOFF_SESSION_ABSOLUTE_TIMEOUT after it began, whichever comes first.

    The two timestamps live in the session itself (server-side), so a client cannot extend them. A
    request that arrives too late continues as anonymous: pages send it to the login page with a message,
    the API answers 401 like any unauthenticated call."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session = request.session
        current = now()
        started = session.get(SESSION_STARTED_KEY)
        seen = session.get(SESSION_SEEN_KEY)
        if started is None or seen is None:
            # the first request of a new login
            session[SESSION_STARTED_KEY] = current
            session[SESSION_SEEN_KEY] = current
            return
        idle_limit = settings.HANDOFF_SESSION_IDLE_TIMEOUT.total_seconds()
        absolute_limit = settings.HANDOFF_SESSION_ABSOLUTE_TIMEOUT.total_seconds()
        if current - float(started) > absolute_limit:
            reason = "Your session reached its 12-hour limit. Please log in again."
        elif current - float(seen) > idle_limit:
            reason = "You were logged out after 15 minutes without activity. Please log in again."
        else:
            if current - float(seen) >= SEEN_RESOLUTION_SECONDS:
                session[SESSION_SEEN_KEY] = current
            return
        logout(request)  # flushes the session and makes request.user anonymous
        messages.info(request, reason)


class OTPMiddleware(DjangoOTPMiddleware):  # type: ignore[misc]  # django-otp has no type hints
    """django-otp's middleware (`request.user.otp_device`, `request.user.is_verified()`), answering from the
    confirmed devices read with the user (accounts.selectors) instead of loading the device on every
    request.

    The session names the device that verified it. It still counts only while that device is one of the
    user's confirmed devices in the same read as the user row: a device deleted or reset a moment ago
    un-verifies the session on its next request, as with django-otp's own check. The device object itself
    is loaded only if something reads it (if the device was deleted between the two reads, that read
    finds None: the request had already been let through, as it would have been a moment earlier)."""

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        self._init_user_fields(user)
        if not user.is_authenticated:
            return user
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id:
            persistent_id = self._normalize_persistent_id(persistent_id)
            if persistent_id in account_selectors.confirmed_device_ids(user):
                user.otp_device = SimpleLazyObject(lambda: Device.from_persistent_id(persistent_id))
                return user
        if DEVICE_ID_SESSION_KEY in request.session:
            del request.session[DEVICE_ID_SESSION_KEY]
        return user


def _exempt(path: str) -> bool:
    """Pages a half-logged-in user must still reach: the two-factor pages themselves, logging out,
    password reset (which never logs anyone in) and static files."""
    prefixes = [
        reverse("two_factor_verify"),
        reverse("two_factor_setup"),
        reverse("logout"),
        reverse("login"),
        "/password-reset/",
        "/" + settings.STATIC_URL.lstrip("/"),
    ]
    return any(path.startswith(prefix) for prefix in prefixes)


class TwoFactorMiddleware:
    """Asks for the second factor before anything else.

    - A user who has an authenticator app and has not entered a code in this session is sent to the
      verify page before any page (so a password alone, e.g. just after a password reset, opens nothing).
    - A user who must have one (staff in the admin; physiotherapists where the setting is on) and has none
      is sent to set one up.

    API calls with a token never carry a session and are not affected. A session-authenticated API call
    that still owes its code gets a 403 with code `two_factor_required`, not a redirect."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated or two_factor.is_verified(request) or _exempt(request.path):
            return self.get_response(request)
        if two_factor.has_device(user):
            return self._send(request, "two_factor_verify", "Enter the code from your authenticator app.")
        if two_factor.is_required(user) or (user.is_staff and request.path.startswith(_admin_prefix())):
            return self._send(
                request, "two_factor_setup", "Set up two-factor authentication to continue: it is required."
            )
        return self.get_response(request)

    @staticmethod
    def _send(request: HttpRequest, view_name: str, detail: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "two_factor_required", "detail": detail, "fields": {}}, status=403)
        target = reverse(view_name)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


def _admin_prefix() -> str:
    return reverse("admin:index")
