"""The REST adapter's views: parse (input serializer), fetch (selector), write (service), render.

Every object is looked up through a selector scoped to the user: outside the scope is a 404, whoever
asks. Writes go through referrals.services; a service's refusal (NotPermitted, InvalidTransition,
SendBlocked, ValidationError) becomes an error response in config.api_errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization, User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals import audit, policies, registry, selectors, services
from referrals.api import serializers as s
from referrals.api.pagination import ApiCursorPagination
from referrals.api.strict import check_types
from referrals.errors import NotPermitted
from referrals.models import (
    Concern,
    Consent,
    HandoffEvent,
    HandoffStatus,
    Notification,
    Patient,
    TrainerHandoff,
    TreatmentPlan,
)
from referrals.registry import HandoffAction

ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The object's id."
)


def _parse_id(raw: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise exceptions.NotFound() from exc


M = TypeVar("M", bound=Model)


def _fetch(getter: Callable[..., M], model: type[M], user: User, raw_id: Any) -> M:
    """The object through its scoped selector; anything outside the user's scope is a 404."""
    try:
        found: M = getter(user=user, public_id=_parse_id(raw_id))
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise exceptions.NotFound() from exc
    return found


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The query parameters, validated. Passed as a plain dict, not the QueryDict: DRF reads a QueryDict
    as an HTML form and silently drops an optional field sent empty (`?updated_since=`), where the API
    answers a 400 naming the parameter. A list field (a repeated parameter) gets every value."""
    fields = serializer_class().fields
    params = request.query_params
    many = (serializers.ListField, serializers.MultipleChoiceField)
    data = {
        name: params.getlist(name) if isinstance(fields[name], many) else params[name]
        for name in params
        if name in fields
    }
    query = serializer_class(data=data)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _body(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data = serializer_class(data=request.data)
    check_types(data, request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class ApiListView(generics.ListAPIView):  # type: ignore[type-arg]
    """A scoped, cursor-paginated list. Subclasses build the queryset in `scoped_queryset()`."""

    pagination_class = ApiCursorPagination
    api_ordering: tuple[str, ...] = ("-id",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped_queryset(_user(self.request))


# --- patients ------------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="patients_list",
        summary="The patients of your clinics",
        responses={200: s.PatientSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="patients_create",
        summary="Add a patient to your clinic",
        request=s.PatientInputSerializer,
        responses={201: s.PatientSerializer},
    ),
)
class PatientListCreateApi(ApiListView):
    serializer_class = s.PatientSerializer
    api_conflicts = ("duplicate_patient",)
    api_ordering = ("full_name",)

    def scoped_queryset(self, user: User) -> QuerySet[Patient]:
        return selectors.patient_list_for_user(user=user)

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(s.PatientInputSerializer, request)
        clinic_ids = [org for org, role in policies.roles_of(user) if role == policies.Role.PHYSIOTHERAPIST]
        if not clinic_ids:
            raise NotPermitted("Only a physiotherapist can add patients.")
        wanted = data.pop("clinic", None)
        clinics = Organization.objects.filter(pk__in=clinic_ids)
        if wanted is not None:
            clinic = clinics.filter(public_id=wanted).first()
            if clinic is None:
                raise exceptions.ValidationError(
                    {"clinic": ["You are not a physiotherapist of this clinic."]}
                )
        elif len(clinic_ids) > 1:
            raise exceptions.ValidationError({"clinic": ["You work for several clinics: name one."]})
        else:
            clinic = clinics.get()
        patient = services.patient_create(clinic=clinic, actor=user, **data)
        patient = selectors.patient_get_for_user(user=user, public_id=patient.public_id)
        return Response(s.PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="patients_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: s.PatientSerializer},
    ),
    patch=extend_schema(
        operation_id="patients_update",
        parameters=[ID_PARAMETER],
        request=s.PatientUpdateSerializer,
        responses={200: s.PatientSerializer},
    ),
)
class PatientDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        patient = _fetch(selectors.patient_get_for_user, Patient, _user(request), id)
        audit.record_read(request, patient, channel=audit.Channel.API)
        return Response(s.PatientSerializer(patient).data)

    def patch(self, request: Request, id: str) -> Response:
        user = _user(request)
        patient = _fetch(selectors.patient_get_for_user, Patient, user, id)
        data = _body(s.PatientUpdateSerializer, request)
        services.patient_update(patient=patient, actor=user, **data)
        patient = selectors.patient_get_for_user(user=user, public_id=patient.public_id)
        return Response(s.PatientSerializer(patient).data)


# --- plans ---------------------------------------------------------------------------------------------


class PlanQuerySerializer(serializers.Serializer[Any]):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's plans.")
    status = serializers.ChoiceField(choices=TreatmentPlan.Status.choices, required=False)


def _plan_queryset(user: User) -> QuerySet[TreatmentPlan]:
    return selectors.plan_list_for_user(user=user).prefetch_related(
        "exercises__exercise", "precautions", "red_flags"
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="plans_list",
        summary="The treatment plans of your clinics' patients",
        parameters=[PlanQuerySerializer],
        responses={200: s.PlanSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="plans_create",
        summary="Write a treatment plan with its exercises, precautions and red flags",
        request=s.PlanInputSerializer,
        responses={201: s.PlanSerializer},
    ),
)
class PlanListCreateApi(ApiListView):
    serializer_class = s.PlanSerializer
    api_ordering = ("-created_at",)

    def scoped_queryset(self, user: User) -> QuerySet[TreatmentPlan]:
        query = _query(PlanQuerySerializer, self.request)
        qs = _plan_queryset(user)
        if "patient" in query:
            qs = qs.filter(patient__public_id=query["patient"])
        if "status" in query:
            qs = qs.filter(status=query["status"])
        return qs

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(s.PlanInputSerializer, request)
        try:
            patient = selectors.patient_get_for_user(user=user, public_id=data.pop("patient"))
        except Patient.DoesNotExist as exc:
            raise exceptions.ValidationError({"patient": ["No such patient."]}) from exc
        plan = services.plan_create(patient=patient, actor=user, **data)
        plan = selectors.plan_get_for_user(user=user, public_id=plan.public_id)
        return Response(s.PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="plans_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: s.PlanSerializer},
    ),
    patch=extend_schema(
        operation_id="plans_update",
        summary="Edit a plan; a list given replaces the plan's rows. Sent handoffs keep their snapshot.",
        parameters=[ID_PARAMETER],
        request=s.PlanUpdateSerializer,
        responses={200: s.PlanSerializer},
    ),
)
class PlanDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        plan = _fetch(selectors.plan_get_for_user, TreatmentPlan, _user(request), id)
        audit.record_read(request, plan, channel=audit.Channel.API)
        return Response(s.PlanSerializer(plan).data)

    def patch(self, request: Request, id: str) -> Response:
        user = _user(request)
        plan = _fetch(selectors.plan_get_for_user, TreatmentPlan, user, id)
        data = _body(s.PlanUpdateSerializer, request)
        services.plan_update(plan=plan, actor=user, **data)
        plan = selectors.plan_get_for_user(user=user, public_id=plan.public_id)
        return Response(s.PlanSerializer(plan).data)


# --- the exercise library and the trainers directory ---------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="exercises_list",
        summary="The exercise library, searchable by name, category and body region",
        parameters=[s.ExerciseQuerySerializer],
        responses={200: s.ExerciseSerializer(many=True)},
    )
)
class ExerciseListApi(ApiListView):
    serializer_class = s.ExerciseSerializer
    api_ordering = ("name",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(s.ExerciseQuerySerializer, self.request)
        return selectors.exercise_list(
            search=query.get("search", ""),
            category=query.get("category", ""),
            body_region=query.get("body_region", ""),
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="trainers_list",
        summary="Trainers you may refer to (a physiotherapist) or work with (a trainer)",
        parameters=[s.TrainerQuerySerializer],
        responses={200: s.TrainerSerializer(many=True)},
    )
)
class TrainerListApi(ApiListView):
    serializer_class = s.TrainerSerializer
    api_ordering = ("id",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(s.TrainerQuerySerializer, self.request)
        return selectors.trainer_directory_for_user(
            user=user,
            specialization=query.get("specialization", ""),
            gym_public_id=query.get("gym"),
            accepting=query.get("accepting"),
        )


# --- consents ------------------------------------------------------------------------------------------


class ConsentQuerySerializer(serializers.Serializer[Any]):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's consents.")
    active = serializers.BooleanField(required=False)


@extend_schema_view(
    get=extend_schema(
        operation_id="consents_list",
        parameters=[ConsentQuerySerializer],
        responses={200: s.ConsentSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="consents_create",
        summary="Record the patient's consent to share their guidelines with a gym",
        request=s.ConsentInputSerializer,
        responses={201: s.ConsentSerializer},
    ),
)
class ConsentListCreateApi(ApiListView):
    serializer_class = s.ConsentSerializer
    api_ordering = ("-recorded_at",)

    def scoped_queryset(self, user: User) -> QuerySet[Consent]:
        query = _query(ConsentQuerySerializer, self.request)
        qs = selectors.consent_list_for_user(user=user)
        if "patient" in query:
            qs = qs.filter(patient__public_id=query["patient"])
        if query.get("active") is not None:
            qs = qs.filter(withdrawn_at__isnull=query["active"])
        return qs

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(s.ConsentInputSerializer, request)
        try:
            patient = selectors.patient_get_for_user(user=user, public_id=data["patient"])
        except Patient.DoesNotExist as exc:
            raise exceptions.ValidationError({"patient": ["No such patient."]}) from exc
        gym = Organization.objects.filter(public_id=data["gym"], kind=Organization.Kind.GYM).first()
        if gym is None:
            raise exceptions.ValidationError({"gym": ["No such gym."]})
        consent = services.consent_record(patient=patient, gym=gym, scope=data["scope"], actor=user)
        consent = selectors.consent_list_for_user(user=user).get(pk=consent.pk)
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


def _consent_get_for_user(*, user: User, public_id: uuid.UUID) -> Consent:
    return selectors.consent_list_for_user(user=user).get(public_id=public_id)


@extend_schema_view(
    get=extend_schema(
        operation_id="consents_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: s.ConsentSerializer},
    )
)
class ConsentDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        consent = _fetch(_consent_get_for_user, Consent, _user(request), id)
        return Response(s.ConsentSerializer(consent).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="consents_withdraw",
        summary="Withdraw consent: open handoffs to that gym are cancelled",
        parameters=[ID_PARAMETER],
        request=s.ConsentWithdrawSerializer,
        responses={200: s.ConsentSerializer},
    )
)
class ConsentWithdrawApi(APIView):
    api_conflicts = ("consent_withdrawn",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        consent = _fetch(_consent_get_for_user, Consent, user, id)
        data = _body(s.ConsentWithdrawSerializer, request)
        services.consent_withdraw(consent=consent, actor=user, reason=data.get("reason", ""))
        consent = _consent_get_for_user(user=user, public_id=consent.public_id)
        return Response(s.ConsentSerializer(consent).data)


# --- handoffs ------------------------------------------------------------------------------------------


def _handoff_out(request: Request, handoff: TrainerHandoff) -> Response:
    fresh = selectors.handoff_get_for_user(user=_user(request), public_id=handoff.public_id)
    return Response(s.HandoffSerializer(fresh, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_list",
        summary="Handoffs of your clinics, and those offered to you as a trainer",
        description="Poll cheaply with `updated_since` (the `updated_at` of the newest handoff you hold).",
        parameters=[s.HandoffQuerySerializer],
        responses={200: s.HandoffSummarySerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="handoffs_create",
        summary="Offer a plan to a trainer: a draft, or sent at once with `send`",
        request=s.HandoffInputSerializer,
        responses={201: s.HandoffSerializer},
    ),
)
class HandoffListCreateApi(ApiListView):
    # The list is a summary per handoff, read as plain values in one query (no model instances, no
    # per-row serializer); the guidelines are the detail's.
    serializer_class = s.HandoffSummarySerializer
    api_conflicts = ("plan_has_open_handoff", "plan_completed", "send_blocked")

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(s.HandoffQuerySerializer, self.request)
        qs = selectors.handoff_summaries_for_user(user=user)
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
            s.HandoffSummarySerializer.rows(page, user=user, detail_url=detail_url)
        )

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(s.HandoffInputSerializer, request)
        try:
            plan = selectors.plan_row_get_for_user(user=user, public_id=data["plan"])
        except TreatmentPlan.DoesNotExist as exc:
            raise exceptions.ValidationError({"plan": ["No such plan."]}) from exc
        membership = (  # the row only: the service reads what its checks need under its locks
            selectors.trainer_directory_for_user(user=user, gym_public_id=data["gym"])
            .filter(user__public_id=data["trainer"])
            .prefetch_related(None)
            .first()
        )
        if membership is None:
            raise exceptions.ValidationError({"trainer": ["No such trainer at this gym."]})
        create = services.plan_discharge if data["send"] else services.handoff_create
        handoff = create(plan=plan, trainer=membership.user, gym=membership.organization, actor=user)
        response = _handoff_out(request, handoff)
        response.status_code = status.HTTP_201_CREATED
        return response


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: s.HandoffSerializer},
    )
)
class HandoffDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        handoff = _fetch(selectors.handoff_get_for_user, TrainerHandoff, _user(request), id)
        audit.record_read(request, handoff, channel=audit.Channel.API)
        # Fetched through the selector just now: no second read (an action re-reads after its write).
        return Response(s.HandoffSerializer(handoff, context={"request": request}).data)


class HandoffActionApi(APIView):
    """POST one referral action: a subclass per registry entry (`action_apis`) names the action; its
    input serializer follows from the text the action takes."""

    action: HandoffAction
    input_serializer: type[serializers.Serializer[Any]] | None = None
    api_conflicts: tuple[str, ...] = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(self.input_serializer, request) if self.input_serializer else {}
        text = data.get(self.action.text_arg or "", "")
        services.HANDOFF_ACTIONS[self.action.name](
            handoff=handoff, actor=user, **self.action.text_kwargs(text)
        )
        return _handoff_out(request, handoff)


def _action_input(action: HandoffAction) -> type[serializers.Serializer[Any]] | None:
    """The request body of an action: a reason (required or not), a summary (optional), or none."""
    if action.text_arg is None:
        return None
    if action.text_arg == "summary":
        return s.CompleteInputSerializer
    return s.ReasonInputSerializer if action.reason_required else s.OptionalReasonInputSerializer


def _action_description(action: HandoffAction) -> str:
    """What the registry says of the action, for the API's readers."""
    sources = [status.label.lower() for status in HandoffStatus if action.starts_from(status)]
    sources_text = " or ".join([", ".join(sources[:-1]), sources[-1]] if len(sources) > 1 else sources)
    text = f"Sets the handoff to {HandoffStatus(action.to).label.lower()}, from {sources_text}."
    if action.reason_required:
        text += " The reason is required."
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
            responses={200: s.HandoffSerializer},
        )
    )
    decorated: type[HandoffActionApi] = schema(view)
    return decorated


def action_apis(actions: Iterable[HandoffAction]) -> dict[str, type[HandoffActionApi]]:
    """The API's action endpoints, one per registry entry (referrals.api.urls routes them)."""
    return {action.name: _action_api(action) for action in actions}


ACTION_APIS = action_apis(registry.ACTIONS.values())


@extend_schema_view(
    post=extend_schema(
        operation_id="handoffs_concern",
        summary="Trainer: raise a concern (red flag, pain, a question); the clinic is told urgently",
        parameters=[ID_PARAMETER],
        request=s.ConcernInputSerializer,
        responses={201: s.HandoffEventSerializer},
    )
)
class HandoffConcernApi(APIView):
    api_conflicts = ("invalid_transition",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _fetch(selectors.handoff_get_for_user, TrainerHandoff, user, id)
        data = _body(s.ConcernInputSerializer, request)
        event = services.handoff_raise_concern(
            handoff=handoff, actor=user, text=data["text"], hold=data["hold"]
        )
        event = selectors.handoff_events(handoff=handoff).get(pk=event.pk)
        view = selectors.handoff_view_for_user(
            user=user, handoff=handoff, surface=policies.Surface.API_DETAIL
        )
        out = s.HandoffEventSerializer(event, context={"view_of_handoff": view})
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
        raise NotImplementedError

    def post(self, request: Request, id: str, concern_id: str) -> Response:
        user = _user(request)
        handoff = _fetch(selectors.handoff_get_for_user, TrainerHandoff, user, id)
        try:
            concern = selectors.concern_get_for_user(
                user=user, handoff=handoff, public_id=_parse_id(concern_id)
            )
        except Concern.DoesNotExist as exc:
            raise exceptions.NotFound() from exc
        data = _body(self.input_serializer, request) if self.input_serializer else {}
        self.perform(concern, user, data)
        fresh = selectors.concern_get_for_user(user=user, handoff=handoff, public_id=concern.public_id)
        return Response(s.ConcernSerializer(fresh).data)


def _concern_schema(action: str, summary: str, request: Any = None) -> Callable[[Any], Any]:
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"handoffs_concerns_{action}",
            summary=summary,
            parameters=[ID_PARAMETER, CONCERN_ID_PARAMETER],
            request=request,
            responses={200: s.ConcernSerializer},
        )
    )


@_concern_schema(
    "acknowledge",
    "Clinic: acknowledge a trainer's concern (the trainer is told). Idempotent: a second call changes "
    "nothing; a resolved concern is a 409.",
)
class ConcernAcknowledgeApi(ConcernActionApi):
    def perform(self, concern: Concern, actor: User, data: dict[str, Any]) -> Concern:
        return services.concern_acknowledge(concern=concern, actor=actor)


@_concern_schema(
    "resolve",
    "Clinic: resolve a trainer's concern with a note (the trainer is told and reads it). Once only: a "
    "second resolution is a 409.",
    s.ConcernResolveInputSerializer,
)
class ConcernResolveApi(ConcernActionApi):
    input_serializer = s.ConcernResolveInputSerializer

    def perform(self, concern: Concern, actor: User, data: dict[str, Any]) -> Concern:
        return services.concern_resolve(concern=concern, actor=actor, note=data["note"])


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_events_list",
        summary="The handoff's timeline: every status change and concern, oldest first",
        parameters=[ID_PARAMETER],
        responses={200: s.HandoffEventSerializer(many=True)},
    )
)
class HandoffEventListApi(ApiListView):
    serializer_class = s.HandoffEventSerializer
    api_ordering = ("created_at",)

    def scoped_queryset(self, user: User) -> QuerySet[HandoffEvent]:
        handoff = _fetch(selectors.handoff_get_for_user, TrainerHandoff, user, self.kwargs["id"])
        audit.record_read(
            self.request, handoff, channel=audit.Channel.API, object_type=audit.ObjectType.HANDOFF_EVENTS
        )
        # who acted is named as consent allows, by the rule the page's timeline uses
        self.view_of_handoff = selectors.handoff_view_for_user(
            user=user, handoff=handoff, surface=policies.Surface.API_DETAIL
        )
        return selectors.handoff_events(handoff=handoff)

    def get_serializer_context(self) -> dict[str, Any]:
        # (the schema generator asks for a serializer without a request's handoff)
        return {**super().get_serializer_context(), "view_of_handoff": getattr(self, "view_of_handoff", None)}


# --- notifications -------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        description="Poll cheaply with `updated_since`: notifications created or read since then.",
        parameters=[s.NotificationQuerySerializer],
        responses={200: s.NotificationSerializer(many=True)},
    )
)
class NotificationListApi(ApiListView):
    serializer_class = s.NotificationSerializer
    api_ordering = ("-created_at",)

    def scoped_queryset(self, user: User) -> QuerySet[Notification]:
        query = _query(s.NotificationQuerySerializer, self.request)
        qs = selectors.notification_list_for_user(user=user)
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
        responses={200: s.NotificationSerializer},
    )
)
class NotificationReadApi(APIView):
    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        notification = _fetch(selectors.notification_get_for_user, Notification, user, id)
        notification = services.notification_mark_read(notification=notification, actor=user)
        return Response(s.NotificationSerializer(notification).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all your notifications read",
        request=None,
        responses={200: s.MarkAllReadSerializer},
    )
)
class NotificationReadAllApi(APIView):
    def post(self, request: Request) -> Response:
        marked = services.notification_mark_all_read(actor=_user(request))
        return Response({"marked": marked})
