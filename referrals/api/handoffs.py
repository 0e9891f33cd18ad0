"""API of referrals: list, create, detail, the actions and the timeline; the trainer directory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.common import ID_PARAMETER, ApiListView, _body, _fetch, _query
from referrals.api.serializers import handoffs as serializers_handoffs
from referrals.audit import services as audit_services
from referrals.care import selectors as care_selectors
from referrals.care.models import TreatmentPlan
from referrals.errors import NotPermitted
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import refer_back as handoffs_refer_back
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs import reoffer as handoffs_reoffer
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.registry import HandoffAction


@extend_schema_view(
    get=extend_schema(
        operation_id="trainers_list",
        summary="Trainers you may refer to (a physiotherapist) or work with (a trainer)",
        parameters=[serializers_handoffs.TrainerQuerySerializer],
        responses={200: serializers_handoffs.TrainerSerializer(many=True)},
    )
)
class TrainerListApi(ApiListView):
    serializer_class = serializers_handoffs.TrainerSerializer
    api_ordering = ("id",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(serializers_handoffs.TrainerQuerySerializer, self.request)
        return handoffs_eligibility.trainer_list_for_user(
            user=user,
            specialization=query.get("specialization", ""),
            gym_public_id=query.get("gym"),
            accepting=query.get("accepting"),
        )


# --- handoffs ------------------------------------------------------------------------------------------


def _handoff_out(request: Request, handoff: TrainerHandoff) -> Response:
    fresh = handoffs_selectors.handoff_get_for_user(user=_user(request), public_id=handoff.public_id)
    return Response(serializers_handoffs.HandoffSerializer(fresh, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_list",
        summary="Handoffs of your clinics, and those offered to you as a trainer",
        description="Poll cheaply with `updated_since` (the `updated_at` of the newest handoff you hold).",
        parameters=[serializers_handoffs.HandoffQuerySerializer],
        responses={200: serializers_handoffs.HandoffSummarySerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="handoffs_create",
        summary="Offer a plan to a trainer: a draft, or sent at once with `send`",
        request=serializers_handoffs.HandoffInputSerializer,
        responses={201: serializers_handoffs.HandoffSerializer},
    ),
)
class HandoffListCreateApi(ApiListView):
    # The list is a summary per handoff, read as plain values in one query (no model instances, no
    # per-row serializer); the guidelines are the detail's.
    serializer_class = serializers_handoffs.HandoffSummarySerializer
    api_conflicts = ("plan_has_open_handoff", "plan_completed", "send_blocked")

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(serializers_handoffs.HandoffQuerySerializer, self.request)
        qs = handoffs_selectors.handoff_summary_list_for_user(user=user)
        if query.get("status"):
            qs = qs.filter(status__in=sorted(query["status"]))
        if query.get("updated_since"):
            qs = qs.filter(updated_at__gte=query["updated_since"])
        self.api_ordering = (query["ordering"],)
        return qs

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        page = self.paginate_queryset(self.get_queryset()) or []
        placeholder = "00000000-0000-0000-0000-000000000000"
        detail_url = request.build_absolute_uri(reverse("api:handoff_detail", args=[placeholder]))
        detail_url = detail_url.replace("{", "{{").replace("}", "}}").replace(placeholder, "{id}")
        return self.get_paginated_response(
            serializers_handoffs.HandoffSummarySerializer.rows(page, user=user, detail_url=detail_url)
        )

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(serializers_handoffs.HandoffInputSerializer, request)
        try:
            plan = care_selectors.plan_row_get_for_user(user=user, public_id=data["plan"])
        except TreatmentPlan.DoesNotExist as exc:
            raise exceptions.ValidationError({"plan": ["No such plan."]}) from exc
        membership = (  # the row only: the service reads what its checks need under its locks
            handoffs_eligibility.trainer_list_for_user(user=user, gym_public_id=data["gym"])
            .filter(user__public_id=data["trainer"])
            .prefetch_related(None)
            .first()
        )
        if membership is None:
            raise exceptions.ValidationError({"trainer": ["No such trainer at this gym."]})
        create = handoffs_sending.plan_discharge if data["send"] else handoffs_sending.handoff_create
        handoff = create(plan=plan, trainer=membership.user, gym=membership.organization, actor=user)
        response = _handoff_out(request, handoff)
        response.status_code = status.HTTP_201_CREATED
        return response


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: serializers_handoffs.HandoffSerializer},
    )
)
class HandoffDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, _user(request), id)
        audit_services.record_read(request, handoff, channel=audit_services.Channel.API)
        # Fetched through the selector just now: no second read (an action re-reads after its write).
        return Response(serializers_handoffs.HandoffSerializer(handoff, context={"request": request}).data)


class HandoffActionApi(APIView):
    """POST one referral action: a subclass per registry entry (`action_apis`) names the action; its
    input serializer follows from the text the action takes."""

    action: HandoffAction
    input_serializer: type[serializers.Serializer[Any]] | None = None
    api_conflicts: tuple[str, ...] = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(self.input_serializer, request) if self.input_serializer else {}
        text = data.get(self.action.text_arg or "", "")
        handoffs_services.HANDOFF_ACTIONS[self.action.name](
            handoff=handoff, actor=user, **self.action.service_kwargs(text, data.get("review_on"))
        )
        return _handoff_out(request, handoff)


def _action_input(action: HandoffAction) -> type[serializers.Serializer[Any]] | None:
    """The request body of an action: a reason (required or not), a summary (optional), or none."""
    if action.text_arg is None:
        return None
    if action.text_arg == "summary":
        return serializers_handoffs.CompleteInputSerializer
    if action.asks_review_date:
        return serializers_handoffs.HoldInputSerializer
    return (
        serializers_handoffs.ReasonInputSerializer
        if action.reason_required
        else serializers_handoffs.OptionalReasonInputSerializer
    )


def _action_description(action: HandoffAction) -> str:
    """What the registry says of the action, for the API's readers."""
    sources = [status.label.lower() for status in HandoffStatus if action.starts_from(status)]
    sources_text = " or ".join([", ".join(sources[:-1]), sources[-1]] if len(sources) > 1 else sources)
    text = f"Sets the handoff to {HandoffStatus(action.to).label.lower()}, from {sources_text}."
    if action.reason_required:
        text += " The reason is required."
    if action.asks_review_date:
        text += (
            " `review_on` is the day to review it (400 unless after today and within 180 days; by default"
            " the clinic's hold review days later): that day the trainer is asked to resume or close it,"
            " and if it is still on hold some days later the clinic is told."
        )
    if action.rechecked:
        text += (
            " The trainer's eligibility is checked again first: if it no longer holds, the refusal is"
            " recorded, the clinic is told and the answer is a 409 `no_longer_eligible`."
        )
    return text


def _action_api(action: HandoffAction) -> type[HandoffActionApi]:
    """The endpoint of one registry entry: `Handoff<Name>Api`, operation id `handoffs_<name>`."""
    name = "Handoff" + "".join(word.capitalize() for word in action.name.split("_")) + "Api"
    input_serializer = _action_input(action)
    view = type(
        name,
        (HandoffActionApi,),
        {
            "__module__": __name__,
            "__qualname__": name,
            "action": action,
            "input_serializer": input_serializer,
            "api_conflicts": action.api_conflicts,
        },
    )
    schema = extend_schema_view(
        post=extend_schema(
            operation_id=f"handoffs_{action.name}",
            summary=f"{action.side.capitalize()}: {action.summary}",
            description=_action_description(action),
            parameters=[ID_PARAMETER],
            request=input_serializer,
            responses={200: serializers_handoffs.HandoffSerializer},
        )
    )
    decorated: type[HandoffActionApi] = schema(view)
    return decorated


def action_apis(actions: Iterable[HandoffAction]) -> dict[str, type[HandoffActionApi]]:
    """The API's action endpoints, one per registry entry (referrals.api.urls routes them)."""
    return {action.name: _action_api(action) for action in actions}


ACTION_APIS = action_apis(handoffs_registry.ACTIONS.values())


@extend_schema_view(
    post=extend_schema(
        operation_id="handoffs_refer_back",
        summary="Trainer or clinic: send the client back to the physiotherapist",
        description=(
            "The referral's trainer or a physiotherapist of the referring clinic (403 `not_permitted`"
            " for anyone else who sees it; 404 outside your scope). From in progress the referral goes on"
            ' hold (or fails with `end`), from accepted or on hold it fails, with the reason "Referred'
            ' back to the physiotherapist: <note>" and the business status `referred-back`: the plan is'
            " the physiotherapist's again (active). The other side is told, the physiotherapists"
            " urgently when the trainer did it. Any later move (a resume) clears the business status."
            " 409 `invalid_transition` from any other status."
        ),
        parameters=[ID_PARAMETER],
        request=serializers_handoffs.ReferBackInputSerializer,
        responses={200: serializers_handoffs.HandoffSerializer},
    )
)
class HandoffReferBackApi(APIView):
    api_conflicts = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(serializers_handoffs.ReferBackInputSerializer, request)
        handoffs_refer_back.handoff_refer_back(
            handoff=handoff, actor=user, note=data["note"], end=data["end"]
        )
        return _handoff_out(request, handoff)


@extend_schema_view(
    post=extend_schema(
        operation_id="handoffs_hold_review",
        summary="Trainer: set a new review date for a referral on hold",
        description=(
            "The referral's trainer (403 `not_permitted` for the clinic; 404 outside your scope), while it"
            " is on hold and the client was not referred back (409 `invalid_transition` otherwise). The"
            " date is after today and within 180 days (400 otherwise, nothing changed). Recorded on the"
            " referral, the clinic told; the hold's timers count from the new date."
        ),
        parameters=[ID_PARAMETER],
        request=serializers_handoffs.HoldReviewInputSerializer,
        responses={200: serializers_handoffs.HandoffSerializer},
    )
)
class HandoffHoldReviewApi(APIView):
    api_conflicts = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(serializers_handoffs.HoldReviewInputSerializer, request)
        handoffs_services.handoff_hold_review_set(handoff=handoff, actor=user, review_on=data["review_on"])
        return _handoff_out(request, handoff)


@extend_schema_view(
    post=extend_schema(
        operation_id="handoffs_reoffer",
        summary="Clinic: offer a referral still waiting for its trainer to another trainer",
        description=(
            "A physiotherapist of the referring clinic (403 `not_permitted` for the trainer; 404 outside"
            ' your scope). In one transaction the waiting referral is cancelled ("Offered to another'
            ' trainer.", its trainer told) and the plan sent to `trainer` at `gym`, one the clinic could'
            " choose on the discharge page (400 otherwise); 201 with the new referral. If the send is"
            " refused (409 `send_blocked`: not accepting clients, no consent for that gym...) nothing"
            " changed. 409 `invalid_transition` when the referral is no longer waiting (answered,"
            " cancelled) or already waits for that trainer."
        ),
        parameters=[ID_PARAMETER],
        request=serializers_handoffs.ReofferInputSerializer,
        responses={201: serializers_handoffs.HandoffSerializer},
    )
)
class HandoffReofferApi(APIView):
    api_conflicts = ("invalid_transition", "send_blocked")

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, id)
        if not handoffs_policies.can_act(user, handoff, "clinic"):
            raise NotPermitted("Only the referring clinic can offer the referral to another trainer.")
        data = _body(serializers_handoffs.ReofferInputSerializer, request)
        choice = handoffs_eligibility.trainer_membership_get_for_plan(
            user=user, plan=handoff.plan, trainer_public_id=data["trainer"], gym_public_id=data["gym"]
        )
        if choice is None:
            raise exceptions.ValidationError({"trainer": ["No such trainer at a partner gym of the clinic."]})
        new = handoffs_reoffer.handoff_reoffer(
            handoff=handoff, trainer=choice.user, gym=choice.organization, actor=user
        )
        response = _handoff_out(request, new)
        response.status_code = status.HTTP_201_CREATED
        return response


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_events_list",
        summary="The handoff's timeline: every status change and concern, oldest first",
        parameters=[ID_PARAMETER],
        responses={200: serializers_handoffs.HandoffEventSerializer(many=True)},
    )
)
class HandoffEventListApi(ApiListView):
    serializer_class = serializers_handoffs.HandoffEventSerializer
    api_ordering = ("created_at",)

    def scoped_queryset(self, user: User) -> QuerySet[HandoffEvent]:
        handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, self.kwargs["id"])
        audit_services.record_read(
            self.request,
            handoff,
            channel=audit_services.Channel.API,
            object_type=audit_services.ObjectType.HANDOFF_EVENTS,
        )
        # who acted is named as consent allows, by the rule the page's timeline uses
        self.view_of_handoff = handoffs_snapshot.handoff_view_for_user(
            user=user, handoff=handoff, surface=handoffs_policies.Surface.API_DETAIL
        )
        return handoffs_selectors.event_list_for_handoff(handoff=handoff)

    def get_serializer_context(self) -> dict[str, Any]:
        # (the schema generator asks for a serializer without a request's handoff)
        return {**super().get_serializer_context(), "view_of_handoff": getattr(self, "view_of_handoff", None)}
