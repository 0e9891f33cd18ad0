"""The profile page: who you are, your API tokens (create one, shown once; revoke your own), and
two-factor authentication (set up an authenticator app, verify a code at login, turn it off)."""

from __future__ import annotations

import uuid

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, two_factor
from accounts.forms import ApiTokenCreateForm, OtpTokenForm, OtpVerifyForm
from accounts.models import ApiToken
from accounts.selectors import request_user as _user  # the one helper of pages and API

WRONG_CODE = "That code is not right, or it was already used. Wait for the next code and try again."


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    new_token = ""
    if request.method == "POST":
        form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            try:
                _, new_token = services.api_token_create(user=user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("name", message)
            else:
                form = ApiTokenCreateForm()
    else:
        form = ApiTokenCreateForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at", "-id"),
        "memberships": user.memberships.select_related("organization").order_by("organization__name"),
        "two_factor_device": two_factor.confirmed_device(user),
        "two_factor_may_turn_off": two_factor.may_turn_off(user),
        "two_factor_form": OtpTokenForm(),
        "backup_codes_left": two_factor.backup_codes_left(user),
    }
    response = render(request, "accounts/profile.html", context, status=400 if form.errors else 200)
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseRedirect:
    user = _user(request)
    token = ApiToken.objects.filter(user=user, public_id=public_id).first()
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(token=token, actor=user)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("profile")


# --- two-factor authentication ------------------------------------------------------------------------


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then confirm with a first code: only then is it on."""
    user = _user(request)
    if two_factor.has_device(user):
        if not two_factor.is_verified(request):
            return redirect("two_factor_verify")
        messages.info(request, "Two-factor authentication is already on.")
        return redirect("profile")
    device = two_factor.pending_device(user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = django_otp.verify_token(user, device.persistent_id, form.cleaned_data["otp_token"])
        if verified is None:
            form.add_error("otp_token", WRONG_CODE)
        else:
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                two_factor.remove_other_devices(user, keep=device)
                codes = two_factor.backup_codes_create(user)
            request.session.cycle_key()
            django_otp.login(request, device)
            messages.success(request, "Two-factor authentication is on: you will enter a code at each login.")
            return _show_backup_codes(request, codes, _next_url(request, "/account/profile/"))
    context = {
        "form": form,
        "qr_svg": two_factor.qr_svg(device),
        "otpauth_uri": device.config_url,
        "secret": two_factor.secret_base32(device),
        "required": two_factor.is_required(user) or user.is_staff,
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: the password was right, now the code."""
    user = _user(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor_setup")
    if two_factor.is_verified(request):
        return redirect(_next_url(request, "/"))
    form = OtpVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"]
        verified = None
        if token.isdigit():
            verified = django_otp.verify_token(user, device.persistent_id, token)
        elif (backup := two_factor.backup_device(user)) is not None:
            verified = django_otp.verify_token(user, backup.persistent_id, token)
        if verified is None:
            form.add_error("otp_token", WRONG_CODE)
        else:
            request.session.cycle_key()
            django_otp.login(request, verified)
            if not token.isdigit():
                left = two_factor.backup_codes_left(user)
                messages.warning(
                    request, f"You used a backup code: {left} left. Make new ones on your profile."
                )
            return redirect(_next_url(request, "/"))
    context = {"form": form, "next": _next_url(request, "")}
    return render(request, "accounts/two_factor_verify.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turn it off, with a current code (a left-open session alone cannot)."""
    user = _user(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("profile")
    if not two_factor.may_turn_off(user):
        messages.error(request, "Two-factor authentication is required for your account: it stays on.")
        return redirect("profile")
    form = OtpTokenForm(request.POST)
    if form.is_valid() and django_otp.verify_token(
        user, device.persistent_id, form.cleaned_data["otp_token"]
    ):
        two_factor.remove_other_devices(user, keep=None)
        request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
        messages.success(request, "Two-factor authentication is off.")
    else:
        messages.error(request, f"Two-factor authentication is still on. {WRONG_CODE}")
    return redirect("profile")


def _show_backup_codes(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    """The codes, once: they are stored for checking, and never shown again."""
    return render(request, "accounts/two_factor_backup_codes.html", {"codes": codes, "next": next_url})


@login_required
@require_POST
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """A new set of backup codes (the old ones stop working). Needs two-factor on and verified."""
    user = _user(request)
    if not two_factor.has_device(user) or not two_factor.is_verified(request):
        return redirect("profile")
    return _show_backup_codes(request, two_factor.backup_codes_create(user), "/account/profile/")
