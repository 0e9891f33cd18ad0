from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from referrals import health

admin.site.site_header = "Handoff administration"
admin.site.site_title = "Handoff admin"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("referrals.urls")),
]
