from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.home, name="home"),
    path("handoffs/<uuid:public_id>/", views.handoff_detail, name="handoff_detail"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<uuid:public_id>/", views.notification_open, name="notification_open"),
]
