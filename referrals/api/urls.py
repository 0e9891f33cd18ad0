from collections.abc import Mapping

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from referrals.api import views as v

app_name = "api"


def action_urls(views: Mapping[str, type[v.HandoffActionApi]]) -> list[URLPattern]:
    """The URL of each action endpoint (referrals.api.views.ACTION_APIS, one per registry entry): the
    action's slug in the path (enter-in-error), its name in the URL's name (handoff_enter_in_error)."""
    return [
        path(f"handoffs/<str:id>/{view.action.slug}/", view.as_view(), name=f"handoff_{view.action.name}")
        for view in views.values()
    ]


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("patients/", v.PatientListCreateApi.as_view(), name="patient_list"),
    path("patients/<str:id>/", v.PatientDetailApi.as_view(), name="patient_detail"),
    path("plans/", v.PlanListCreateApi.as_view(), name="plan_list"),
    path("plans/<str:id>/", v.PlanDetailApi.as_view(), name="plan_detail"),
    path("exercises/", v.ExerciseListApi.as_view(), name="exercise_list"),
    path("trainers/", v.TrainerListApi.as_view(), name="trainer_list"),
    path("consents/", v.ConsentListCreateApi.as_view(), name="consent_list"),
    path("consents/<str:id>/", v.ConsentDetailApi.as_view(), name="consent_detail"),
    path("consents/<str:id>/withdraw/", v.ConsentWithdrawApi.as_view(), name="consent_withdraw"),
    path("handoffs/", v.HandoffListCreateApi.as_view(), name="handoff_list"),
    path("handoffs/<str:id>/", v.HandoffDetailApi.as_view(), name="handoff_detail"),
    path("handoffs/<str:id>/events/", v.HandoffEventListApi.as_view(), name="handoff_events"),
    *action_urls(v.ACTION_APIS),
    path("handoffs/<str:id>/concern/", v.HandoffConcernApi.as_view(), name="handoff_concern"),
    path(
        "handoffs/<str:id>/concerns/<str:concern_id>/acknowledge/",
        v.ConcernAcknowledgeApi.as_view(),
        name="handoff_concern_acknowledge",
    ),
    path(
        "handoffs/<str:id>/concerns/<str:concern_id>/resolve/",
        v.ConcernResolveApi.as_view(),
        name="handoff_concern_resolve",
    ),
    path("notifications/", v.NotificationListApi.as_view(), name="notification_list"),
    path("notifications/read-all/", v.NotificationReadAllApi.as_view(), name="notification_read_all"),
    path("notifications/<str:id>/read/", v.NotificationReadApi.as_view(), name="notification_read"),
]
