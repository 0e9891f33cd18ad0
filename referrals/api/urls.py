from collections.abc import Mapping

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from referrals.api import care as api_care
from referrals.api import concerns as api_concerns
from referrals.api import handoffs as api_handoffs
from referrals.api import library as api_library
from referrals.api import notify as api_notify
from referrals.api import progress as api_progress
from referrals.api import report_pdf as api_report_pdf
from referrals.api import reports as api_reports

app_name = "api"


def action_urls(views: Mapping[str, type[api_handoffs.HandoffActionApi]]) -> list[URLPattern]:
    """The URL of each action endpoint (referrals.api.views.ACTION_APIS, one per registry entry): the
    action's slug in the path (enter-in-error), its name in the URL's name (handoff_enter_in_error)."""
    return [
        path(f"handoffs/<str:id>/{view.action.slug}/", view.as_view(), name=f"handoff_{view.action.name}")
        for view in views.values()
    ]


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("patients/", api_care.PatientListCreateApi.as_view(), name="patient_list"),
    path("patients/<str:id>/", api_care.PatientDetailApi.as_view(), name="patient_detail"),
    path("plans/", api_care.PlanListCreateApi.as_view(), name="plan_list"),
    path("plans/<str:id>/", api_care.PlanDetailApi.as_view(), name="plan_detail"),
    path("exercises/", api_library.ExerciseListApi.as_view(), name="exercise_list"),
    path("trainers/", api_handoffs.TrainerListApi.as_view(), name="trainer_list"),
    path("consents/", api_care.ConsentListCreateApi.as_view(), name="consent_list"),
    path("consents/<str:id>/", api_care.ConsentDetailApi.as_view(), name="consent_detail"),
    path("consents/<str:id>/withdraw/", api_care.ConsentWithdrawApi.as_view(), name="consent_withdraw"),
    path("handoffs/", api_handoffs.HandoffListCreateApi.as_view(), name="handoff_list"),
    path("handoffs/<str:id>/", api_handoffs.HandoffDetailApi.as_view(), name="handoff_detail"),
    path("handoffs/<str:id>/events/", api_handoffs.HandoffEventListApi.as_view(), name="handoff_events"),
    *action_urls(api_handoffs.ACTION_APIS),
    path(
        "handoffs/<str:id>/refer-back/", api_handoffs.HandoffReferBackApi.as_view(), name="handoff_refer_back"
    ),
    path("handoffs/<str:id>/reoffer/", api_handoffs.HandoffReofferApi.as_view(), name="handoff_reoffer"),
    path(
        "handoffs/<str:id>/hold-review/",
        api_handoffs.HandoffHoldReviewApi.as_view(),
        name="handoff_hold_review",
    ),
    path("handoffs/<str:id>/concern/", api_concerns.HandoffConcernApi.as_view(), name="handoff_concern"),
    path(
        "handoffs/<str:id>/concerns/<str:concern_id>/acknowledge/",
        api_concerns.ConcernAcknowledgeApi.as_view(),
        name="handoff_concern_acknowledge",
    ),
    path(
        "handoffs/<str:id>/concerns/<str:concern_id>/resolve/",
        api_concerns.ConcernResolveApi.as_view(),
        name="handoff_concern_resolve",
    ),
    path(
        "handoffs/<str:id>/sessions/",
        api_progress.HandoffSessionListCreateApi.as_view(),
        name="handoff_sessions",
    ),
    path("sessions/<str:id>/", api_progress.SessionDetailApi.as_view(), name="session_detail"),
    path(
        "handoffs/<str:id>/reports/", api_reports.HandoffReportListCreateApi.as_view(), name="handoff_reports"
    ),
    path("reports/<str:id>/", api_reports.ReportDetailApi.as_view(), name="report_detail"),
    path(
        "reports/<str:id>/acknowledge/", api_reports.ReportAcknowledgeApi.as_view(), name="report_acknowledge"
    ),
    path("reports/<str:id>/replies/", api_reports.ReportReplyListCreateApi.as_view(), name="report_replies"),
    path("notifications/", api_notify.NotificationListApi.as_view(), name="notification_list"),
    path(
        "notifications/read-all/", api_notify.NotificationReadAllApi.as_view(), name="notification_read_all"
    ),
    path("notifications/<str:id>/read/", api_notify.NotificationReadApi.as_view(), name="notification_read"),
    path("reports/<str:id>/pdf/", api_report_pdf.ReportPdfApi.as_view(), name="report_pdf"),
]
