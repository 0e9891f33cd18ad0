from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
