"""API of concerns: raise, acknowledge, resolve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.common import ID_PARAMETER, _body, _fetch, _parse_id
from referrals.api.serializers import concerns as serializers_concerns
from referrals.api.serializers import handoffs as serializers_handoffs
from referrals.concerns import selectors as concerns_selectors
from referrals.concerns import services as concerns_services
from referrals.concerns.models import Concern
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import TrainerHandoff


@extend_schema_view(
    post=extend_schema(
        operation_id="handoffs_concern",
        summary="Trainer: raise a concern (red flag, pain, a question); the clinic is told urgently",
        parameters=[ID_PARAMETER],
        request=serializers_concerns.ConcernInputSerializer,
        responses={201: serializers_handoffs.HandoffEventSerializer},
    )
)
class HandoffConcernApi(APIView):
    api_conflicts = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(serializers_concerns.ConcernInputSerializer, request)
        event = concerns_services.handoff_raise_concern(
            handoff=handoff, actor=user, text=data["text"], hold=data["hold"]
        )
        event = handoffs_selectors.event_list_for_handoff(handoff=handoff).get(pk=event.pk)
        view = handoffs_snapshot.handoff_view_for_user(
            user=user, handoff=handoff, surface=handoffs_policies.Surface.API_DETAIL
        )
        out = serializers_handoffs.HandoffEventSerializer(event, context={"view_of_handoff": view})
        return Response(out.data, status=status.HTTP_201_CREATED)


CONCERN_ID_PARAMETER = OpenApiParameter(
    "concern_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The concern's id (on its event)."
)


class ConcernActionApi(APIView):
    """POST an answer to a concern of a handoff: the handoff through its scoped selector (a 404 outside the
    scope), the concern among that handoff's, the service decides who may (a 403 for the trainer)."""

    input_serializer: type[serializers.Serializer[Any]] | None = None
    api_conflicts: tuple[str, ...] = ("concern_already_resolved",)

    def perform(self, concern: Concern, actor: User, data: dict[str, Any]) -> Concern:
        raise NotImplementedError("each answer calls its service")  # abstract: every subclass does

    def post(self, request: Request, id: str, concern_id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        try:
            concern = concerns_selectors.concern_get_for_user(
                user=user, handoff=handoff, public_id=_parse_id(concern_id)
            )
        except Concern.DoesNotExist as exc:
            raise exceptions.NotFound() from exc
        data = _body(self.input_serializer, request) if self.input_serializer else {}
        self.perform(concern, user, data)
        fresh = concerns_selectors.concern_get_for_user(
            user=user, handoff=handoff, public_id=concern.public_id
        )
        return Response(serializers_concerns.ConcernSerializer(fresh).data)


def _concern_schema(action: str, summary: str, request: Any = None) -> Callable[[Any], Any]:
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"handoffs_concerns_{action}",
            summary=summary,
            parameters=[ID_PARAMETER, CONCERN_ID_PARAMETER],
            request=request,
            responses={200: serializers_concerns.ConcernSerializer},
        )
    )


@_concern_schema(
    "acknowledge",
    "Clinic: acknowledge a trainer's concern (the trainer is told). Idempotent: a second call changes "
    "nothing; a resolved concern is a 409.",
)
class ConcernAcknowledgeApi(ConcernActionApi):
    def perform(self, concern: Concern, actor: User, data: dict[str, Any]) -> Concern:
        return concerns_services.concern_acknowledge(concern=concern, actor=actor)


@_concern_schema(
    "resolve",
    "Clinic: resolve a trainer's concern with a note (the trainer is told and reads it). Once only: a "
    "second resolution is a 409.",
    serializers_concerns.ConcernResolveInputSerializer,
)
class ConcernResolveApi(ConcernActionApi):
    input_serializer = serializers_concerns.ConcernResolveInputSerializer

    def perform(self, concern: Concern, actor: User, data: dict[str, Any]) -> Concern:
        return concerns_services.concern_resolve(concern=concern, actor=actor, note=data["note"])
