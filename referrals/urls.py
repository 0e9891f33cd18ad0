from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<uuid:public_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<uuid:public_id>/edit/", views.patient_edit, name="patient_edit"),
    path("patients/<uuid:public_id>/plans/new/", views.plan_create, name="plan_create"),
    path("patients/<uuid:public_id>/consents/", views.consent_record, name="consent_record"),
    path("consents/<uuid:public_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("plans/<uuid:public_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<uuid:public_id>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<uuid:public_id>/discharge/", views.plan_discharge, name="plan_discharge"),
    path(
        "plans/<uuid:public_id>/discharge/review/", views.plan_discharge_review, name="plan_discharge_review"
    ),
    path("plans/<uuid:public_id>/discharge/send/", views.plan_discharge_send, name="plan_discharge_send"),
    path("handoffs/<uuid:public_id>/", views.handoff_detail, name="handoff_detail"),
    path("handoffs/<uuid:public_id>/handout/", views.handoff_handout, name="handoff_handout"),
    path("handoffs/<uuid:public_id>/concern/", views.handoff_concern, name="handoff_concern"),
    path(
        "handoffs/<uuid:public_id>/concerns/<uuid:concern_id>/acknowledge/",
        views.concern_acknowledge,
        name="concern_acknowledge",
    ),
    path(
        "handoffs/<uuid:public_id>/concerns/<uuid:concern_id>/resolve/",
        views.concern_resolve,
        name="concern_resolve",
    ),
    path("handoffs/<uuid:public_id>/<slug:action>/", views.handoff_action, name="handoff_action"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read-all/", views.notification_mark_all_read, name="notification_mark_all_read"),
    path("notifications/<uuid:public_id>/", views.notification_open, name="notification_open"),
]
