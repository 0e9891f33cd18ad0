"""The profile page: who you are, and your API tokens (create one, shown once; revoke your own)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import ApiTokenCreateForm
from accounts.models import ApiToken, User


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required guarantees it
    return user


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
