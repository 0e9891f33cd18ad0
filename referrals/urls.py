from django.urls import path

from referrals.web import care as web_care
from referrals.web import charts as web_charts
from referrals.web import handoffs as web_handoffs
from referrals.web import holds as web_holds
from referrals.web import home as web_home
from referrals.web import notify as web_notify
from referrals.web import plans as web_plans
from referrals.web import progress as web_progress
from referrals.web import reports as web_reports

urlpatterns = [
    path("", web_home.home, name="home"),
    path("patients/", web_care.patient_list, name="patient_list"),
    path("patients/new/", web_care.patient_create, name="patient_create"),
    path("patients/<uuid:public_id>/", web_care.patient_detail, name="patient_detail"),
    path("patients/<uuid:public_id>/edit/", web_care.patient_edit, name="patient_edit"),
    path("patients/<uuid:public_id>/plans/new/", web_plans.plan_create, name="plan_create"),
    path("patients/<uuid:public_id>/consents/", web_care.consent_record, name="consent_record"),
    path("consents/<uuid:public_id>/withdraw/", web_care.consent_withdraw, name="consent_withdraw"),
    path("plans/<uuid:public_id>/", web_plans.plan_detail, name="plan_detail"),
    path("plans/<uuid:public_id>/edit/", web_plans.plan_edit, name="plan_edit"),
    path("plans/<uuid:public_id>/discharge/", web_handoffs.plan_discharge, name="plan_discharge"),
    path(
        "plans/<uuid:public_id>/discharge/review/",
        web_handoffs.plan_discharge_review,
        name="plan_discharge_review",
    ),
    path(
        "plans/<uuid:public_id>/discharge/send/", web_handoffs.plan_discharge_send, name="plan_discharge_send"
    ),
    path("handoffs/<uuid:public_id>/", web_handoffs.handoff_detail, name="handoff_detail"),
    path("handoffs/<uuid:public_id>/handout/", web_handoffs.handoff_handout, name="handoff_handout"),
    path("handoffs/<uuid:public_id>/concern/", web_handoffs.handoff_concern, name="handoff_concern"),
    path(
        "handoffs/<uuid:public_id>/concerns/<uuid:concern_id>/acknowledge/",
        web_handoffs.concern_acknowledge,
        name="concern_acknowledge",
    ),
    path(
        "handoffs/<uuid:public_id>/concerns/<uuid:concern_id>/resolve/",
        web_handoffs.concern_resolve,
        name="concern_resolve",
    ),
    path("handoffs/<uuid:public_id>/sessions/", web_progress.session_list, name="session_list"),
    path("handoffs/<uuid:public_id>/sessions/new/", web_progress.session_create, name="session_create"),
    path("sessions/<uuid:public_id>/", web_progress.session_detail, name="session_detail"),
    # progress reports (before the actions' catch-all below)
    path("handoffs/<uuid:public_id>/reports/new/", web_reports.report_new, name="report_new"),
    path("reports/<uuid:public_id>/", web_reports.report_detail, name="report_detail"),
    path("reports/<uuid:public_id>/acknowledge/", web_reports.report_acknowledge, name="report_acknowledge"),
    path("reports/<uuid:public_id>/replies/", web_reports.report_reply, name="report_reply"),
    path("handoffs/<uuid:public_id>/refer-back/", web_handoffs.handoff_refer_back, name="handoff_refer_back"),
    path("handoffs/<uuid:public_id>/hold-review/", web_holds.handoff_hold_review, name="handoff_hold_review"),
    path("handoffs/<uuid:public_id>/reoffer/", web_handoffs.handoff_reoffer, name="handoff_reoffer"),
    path("handoffs/<uuid:public_id>/<slug:action>/", web_handoffs.handoff_action, name="handoff_action"),
    path("reports/<uuid:public_id>/pdf/", web_charts.report_pdf, name="report_pdf"),
    path("notifications/", web_notify.notification_list, name="notification_list"),
    path("notifications/read-all/", web_notify.notification_mark_all_read, name="notification_mark_all_read"),
    path("notifications/<uuid:public_id>/", web_notify.notification_open, name="notification_open"),
]
