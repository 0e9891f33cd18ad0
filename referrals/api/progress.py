"""API of session logs: a referral's sessions (list, log one) and one session."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.common import ID_PARAMETER, ApiListView, _body, _fetch
from referrals.api.serializers import progress as serializers_progress
from referrals.audit import services as audit_services
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import selectors as progress_selectors
from referrals.progress import services as progress_services
from referrals.progress.models import SessionLog


def _sessions_of(user: User, handoff: TrainerHandoff) -> QuerySet[SessionLog]:
    try:
        return progress_selectors.session_list_for_handoff(user=user, handoff=handoff)
    except TrainerHandoff.DoesNotExist as exc:
        raise exceptions.NotFound() from exc


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_sessions_list",
        summary="The sessions logged for a handoff, the latest session date first",
        description="The handoff's trainer (while the client's consent stands) and the clinic's "
        "physiotherapists read them.",
        parameters=[ID_PARAMETER],
        responses={200: serializers_progress.SessionSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="handoffs_sessions_create",
        summary="Trainer: log a session (accepted or in progress)",
        description="Each bad field is a 400 naming it (`exercises.<n>.<field>` for a row), and nothing is "
        "stored. The first attended session of an accepted handoff starts it; if the trainer is no longer "
        "eligible, the start's refusal is recorded, the clinic is told, the session is not stored and the "
        "answer is a 409 `no_longer_eligible`. A pain above the pain rule, an RPE or a heart rate above an "
        "effort cap, or a red flag ticked raises an urgent concern to the physiotherapist at once: the "
        "response's `alerts` say what the guidelines say to do.",
        parameters=[ID_PARAMETER],
        request=serializers_progress.SessionInputSerializer,
        responses={201: serializers_progress.SessionSerializer},
    ),
)
class HandoffSessionListCreateApi(ApiListView):
    serializer_class = serializers_progress.SessionSerializer
    api_ordering = ("-session_date",)
    api_conflicts = ("no_longer_eligible",)

    def scoped_queryset(self, user: User) -> QuerySet[SessionLog]:
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, self.kwargs["id"])
        sessions = _sessions_of(user, handoff)
        audit_services.record_read(self.request, handoff, channel=audit_services.Channel.API)
        self.handoff = handoff
        return sessions

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page: Any = self.paginate_queryset(self.get_queryset()) or []
        for session in page:  # one referral: its row (and snapshot, for the alerts) read once
            session.handoff = self.handoff
        return self.get_paginated_response(serializers_progress.SessionSerializer(page, many=True).data)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(serializers_progress.SessionInputSerializer, request)
        session = progress_services.session_log(handoff=handoff, actor=user, **data)
        fresh = progress_selectors.session_get_for_user(user=user, public_id=session.public_id)
        out = serializers_progress.SessionSerializer(fresh)
        return Response(out.data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="sessions_retrieve",
        summary="One logged session, with its exercises and its alerts",
        parameters=[ID_PARAMETER],
        responses={200: serializers_progress.SessionSerializer},
    )
)
class SessionDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        session = _fetch(progress_selectors.session_get_for_user, SessionLog, _user(request), id)
        audit_services.record_read(request, session.handoff, channel=audit_services.Channel.API)
        return Response(serializers_progress.SessionSerializer(session).data)
