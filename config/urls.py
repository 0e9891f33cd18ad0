from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import include, path, reverse

from accounts import two_factor
from referrals import health

admin.site.site_header = "Handoff administration"
admin.site.site_title = "Handoff admin"

# The admin is for staff who entered a code from their authenticator app in this session. One without
# one is sent to set it up by config.middleware.TwoFactorMiddleware; this check refuses them regardless.
_admin_has_permission = admin.site.has_permission


def _admin_has_verified_permission(request: HttpRequest) -> bool:
    return _admin_has_permission(request) and two_factor.is_verified(request)


admin.site.has_permission = _admin_has_verified_permission  # type: ignore[method-assign]


def admin_login(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
    """One login page for everyone (with django-axes' lockout and the two-factor step behind it). A
    logged-in user the admin refused is not staff: 403, not a loop back through the login page."""
    if request.user.is_authenticated:
        raise PermissionDenied("The admin is for staff only.")
    target = reverse("login")
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return HttpResponseRedirect(target)


admin.site.login = admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset: Django's views. They never log anyone in, so the two-factor step still follows.
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(email_template_name="registration/password_reset_email.txt"),
        name="password_reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("api/v1/", include("referrals.api.urls")),
    path("account/", include("accounts.urls")),
    path("", include("referrals.urls")),
]
