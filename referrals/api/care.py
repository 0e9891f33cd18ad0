"""API of the care area: patients, plans, consent."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization, User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals import access as referrals_access
from referrals.api.common import ID_PARAMETER, ApiListView, _body, _fetch, _query
from referrals.api.serializers import care as serializers_care
from referrals.audit import services as audit_services
from referrals.care import selectors as care_selectors
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, TreatmentPlan
from referrals.errors import NotPermitted

# --- patients ------------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="patients_list",
        summary="The patients of your clinics",
        responses={200: serializers_care.PatientSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="patients_create",
        summary="Add a patient to your clinic",
        request=serializers_care.PatientInputSerializer,
        responses={201: serializers_care.PatientSerializer},
    ),
)
class PatientListCreateApi(ApiListView):
    serializer_class = serializers_care.PatientSerializer
    api_conflicts = ("duplicate_patient",)
    api_ordering = ("full_name",)

    def scoped_queryset(self, user: User) -> QuerySet[Patient]:
        return care_selectors.patient_list_for_user(user=user)

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(serializers_care.PatientInputSerializer, request)
        clinic_ids = [
            org
            for org, role in referrals_access.roles_of(user)
            if role == referrals_access.Role.PHYSIOTHERAPIST
        ]
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
        patient = care_services.patient_create(clinic=clinic, actor=user, **data)
        patient = care_selectors.patient_get_for_user(user=user, public_id=patient.public_id)
        return Response(serializers_care.PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="patients_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: serializers_care.PatientSerializer},
    ),
    patch=extend_schema(
        operation_id="patients_update",
        parameters=[ID_PARAMETER],
        request=serializers_care.PatientUpdateSerializer,
        responses={200: serializers_care.PatientSerializer},
    ),
)
class PatientDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        patient = _fetch(care_selectors.patient_get_for_user, Patient, _user(request), id)
        audit_services.record_read(request, patient, channel=audit_services.Channel.API)
        return Response(serializers_care.PatientSerializer(patient).data)

    def patch(self, request: Request, id: str) -> Response:
        user = _user(request)
        patient = _fetch(care_selectors.patient_get_for_user, Patient, user, id)
        data = _body(serializers_care.PatientUpdateSerializer, request)
        care_services.patient_update(patient=patient, actor=user, **data)
        patient = care_selectors.patient_get_for_user(user=user, public_id=patient.public_id)
        return Response(serializers_care.PatientSerializer(patient).data)


# --- plans ---------------------------------------------------------------------------------------------


class PlanQuerySerializer(serializers.Serializer[Any]):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's plans.")
    status = serializers.ChoiceField(choices=TreatmentPlan.Status.choices, required=False)


def _plan_queryset(user: User) -> QuerySet[TreatmentPlan]:
    return care_selectors.plan_list_for_user(user=user).prefetch_related(
        "exercises__exercise", "precautions", "red_flags"
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="plans_list",
        summary="The treatment plans of your clinics' patients",
        parameters=[PlanQuerySerializer],
        responses={200: serializers_care.PlanSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="plans_create",
        summary="Write a treatment plan with its exercises, precautions and red flags",
        request=serializers_care.PlanInputSerializer,
        responses={201: serializers_care.PlanSerializer},
    ),
)
class PlanListCreateApi(ApiListView):
    serializer_class = serializers_care.PlanSerializer
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
        data = _body(serializers_care.PlanInputSerializer, request)
        try:
            patient = care_selectors.patient_get_for_user(user=user, public_id=data.pop("patient"))
        except Patient.DoesNotExist as exc:
            raise exceptions.ValidationError({"patient": ["No such patient."]}) from exc
        plan = care_services.plan_create(patient=patient, actor=user, **data)
        plan = care_selectors.plan_get_for_user(user=user, public_id=plan.public_id)
        return Response(serializers_care.PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="plans_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: serializers_care.PlanSerializer},
    ),
    patch=extend_schema(
        operation_id="plans_update",
        summary="Edit a plan; a list given replaces the plan's rows. Sent handoffs keep their snapshot.",
        parameters=[ID_PARAMETER],
        request=serializers_care.PlanUpdateSerializer,
        responses={200: serializers_care.PlanSerializer},
    ),
)
class PlanDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        plan = _fetch(care_selectors.plan_get_for_user, TreatmentPlan, _user(request), id)
        audit_services.record_read(request, plan, channel=audit_services.Channel.API)
        return Response(serializers_care.PlanSerializer(plan).data)

    def patch(self, request: Request, id: str) -> Response:
        user = _user(request)
        plan = _fetch(care_selectors.plan_get_for_user, TreatmentPlan, user, id)
        data = _body(serializers_care.PlanUpdateSerializer, request)
        care_services.plan_update(plan=plan, actor=user, **data)
        plan = care_selectors.plan_get_for_user(user=user, public_id=plan.public_id)
        return Response(serializers_care.PlanSerializer(plan).data)


# --- consents ------------------------------------------------------------------------------------------


class ConsentQuerySerializer(serializers.Serializer[Any]):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's consents.")
    active = serializers.BooleanField(required=False)


@extend_schema_view(
    get=extend_schema(
        operation_id="consents_list",
        parameters=[ConsentQuerySerializer],
        responses={200: serializers_care.ConsentSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="consents_create",
        summary="Record the patient's consent to share their guidelines with a gym",
        request=serializers_care.ConsentInputSerializer,
        responses={201: serializers_care.ConsentSerializer},
    ),
)
class ConsentListCreateApi(ApiListView):
    serializer_class = serializers_care.ConsentSerializer
    api_ordering = ("-recorded_at",)

    def scoped_queryset(self, user: User) -> QuerySet[Consent]:
        query = _query(ConsentQuerySerializer, self.request)
        qs = care_selectors.consent_list_for_user(user=user)
        if "patient" in query:
            qs = qs.filter(patient__public_id=query["patient"])
        if query.get("active") is not None:
            qs = qs.filter(withdrawn_at__isnull=query["active"])
        return qs

    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _body(serializers_care.ConsentInputSerializer, request)
        try:
            patient = care_selectors.patient_get_for_user(user=user, public_id=data["patient"])
        except Patient.DoesNotExist as exc:
            raise exceptions.ValidationError({"patient": ["No such patient."]}) from exc
        gym = Organization.objects.filter(public_id=data["gym"], kind=Organization.Kind.GYM).first()
        if gym is None:
            raise exceptions.ValidationError({"gym": ["No such gym."]})
        consent = care_services.consent_record(patient=patient, gym=gym, scope=data["scope"], actor=user)
        consent = care_selectors.consent_list_for_user(user=user).get(pk=consent.pk)
        return Response(serializers_care.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


def _consent_get_for_user(*, user: User, public_id: uuid.UUID) -> Consent:
    return care_selectors.consent_list_for_user(user=user).get(public_id=public_id)


@extend_schema_view(
    get=extend_schema(
        operation_id="consents_retrieve",
        parameters=[ID_PARAMETER],
        responses={200: serializers_care.ConsentSerializer},
    )
)
class ConsentDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        consent = _fetch(_consent_get_for_user, Consent, _user(request), id)
        return Response(serializers_care.ConsentSerializer(consent).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="consents_withdraw",
        summary="Withdraw consent: open handoffs to that gym are cancelled",
        parameters=[ID_PARAMETER],
        request=serializers_care.ConsentWithdrawSerializer,
        responses={200: serializers_care.ConsentSerializer},
    )
)
class ConsentWithdrawApi(APIView):
    api_conflicts = ("consent_withdrawn",)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        consent = _fetch(_consent_get_for_user, Consent, user, id)
        data = _body(serializers_care.ConsentWithdrawSerializer, request)
        care_services.consent_withdraw(consent=consent, actor=user, reason=data.get("reason", ""))
        consent = _consent_get_for_user(user=user, public_id=consent.public_id)
        return Response(serializers_care.ConsentSerializer(consent).data)
