"""API of notifications."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.common import ID_PARAMETER, ApiListView, _fetch, _query
from referrals.api.serializers import notify as serializers_notify
from referrals.notify import selectors as notify_selectors
from referrals.notify import services as notify_services
from referrals.notify.models import Notification

# --- notifications -------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        description="Poll cheaply with `updated_since`: notifications created or read since then.",
        parameters=[serializers_notify.NotificationQuerySerializer],
        responses={200: serializers_notify.NotificationSerializer(many=True)},
    )
)
class NotificationListApi(ApiListView):
    serializer_class = serializers_notify.NotificationSerializer
    api_ordering = ("-created_at",)

    def scoped_queryset(self, user: User) -> QuerySet[Notification]:
        query = _query(serializers_notify.NotificationQuerySerializer, self.request)
        qs = notify_selectors.notification_list_for_user(user=user)
        if query.get("unread") is not None:
            qs = qs.filter(read_at__isnull=query["unread"])
        since = query.get("updated_since")
        if since:
            qs = qs.filter(Q(created_at__gte=since) | Q(read_at__gte=since))
        return qs


@extend_schema_view(
    post=extend_schema(
        operation_id="notifications_read",
        summary="Mark one notification read",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: serializers_notify.NotificationSerializer},
    )
)
class NotificationReadApi(APIView):
    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        notification = _fetch(notify_selectors.notification_get_for_user, Notification, user, id)
        notification = notify_services.notification_mark_read(notification=notification, actor=user)
        return Response(serializers_notify.NotificationSerializer(notification).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all your notifications read",
        request=None,
        responses={200: serializers_notify.MarkAllReadSerializer},
    )
)
class NotificationReadAllApi(APIView):
    def post(self, request: Request) -> Response:
        marked = notify_services.notification_mark_all_read(actor=_user(request))
        return Response({"marked": marked})
