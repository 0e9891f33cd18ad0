"""API of progress reports: a referral's reports (list, submit), one report, its acknowledgement, its
replies. The referral and the report come through their scoped selectors (a 404 outside the scope, and
for a trainer who may no longer read the referral's progress: consent withdrawn); who may write is the
services' policy (a 403 for someone who sees the report but may not)."""

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
from referrals.api.serializers import reports as serializers_reports
from referrals.audit import services as audit_services
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import policies as progress_policies
from referrals.progress import report_selectors
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport, ReportReply


def _handoff(user: User, raw_id: Any) -> TrainerHandoff:
    handoff = _fetch(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user, raw_id)
    if not progress_policies.can_view_progress(user, handoff):
        raise exceptions.NotFound()
    return handoff


def _report(user: User, raw_id: Any) -> ProgressReport:
    return _fetch(report_selectors.report_get_for_user, ProgressReport, user, raw_id)


def _report_out(user: User, report: ProgressReport, code: int = status.HTTP_200_OK) -> Response:
    fresh = report_selectors.report_get_for_user(user=user, public_id=report.public_id)
    return Response(serializers_reports.ReportSerializer(fresh).data, status=code)


@extend_schema_view(
    get=extend_schema(
        operation_id="handoffs_reports_list",
        summary="The referral's progress reports, the latest period first (its trainer and the clinic)",
        parameters=[ID_PARAMETER],
        responses={200: serializers_reports.ReportSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="handoffs_reports_create",
        summary="Trainer: submit a progress report for a period (the figures are computed from the logs)",
        description="The clinic is told. 400 with the field for a period outside acceptance..today, ending "
        "before it starts or overlapping an earlier report, goals that do not match the guidelines' goal "
        "lines, a text over the limit or no narrative at all; 403 for a physiotherapist (the trainer "
        "writes), or a trainer whose referral is no longer accepted, in progress or on hold.",
        parameters=[ID_PARAMETER],
        request=serializers_reports.ReportInputSerializer,
        responses={201: serializers_reports.ReportSerializer},
    ),
)
class HandoffReportListCreateApi(ApiListView):
    serializer_class = serializers_reports.ReportSerializer
    api_ordering = ("-period_end", "-id")

    def scoped_queryset(self, user: User) -> QuerySet[ProgressReport]:
        handoff = _handoff(user, self.kwargs["id"])
        audit_services.record_read(self.request, handoff, channel=audit_services.Channel.API)
        return report_selectors.report_list_for_handoff(handoff=handoff)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        handoff = _handoff(user, id)
        data = _body(serializers_reports.ReportInputSerializer, request)
        report = progress_reports.report_submit(handoff=handoff, actor=user, **data)
        return _report_out(user, report, status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="reports_retrieve",
        summary="One progress report with its frozen figures",
        parameters=[ID_PARAMETER],
        responses={200: serializers_reports.ReportSerializer},
    )
)
class ReportDetailApi(APIView):
    def get(self, request: Request, id: str) -> Response:
        user = _user(request)
        report = _report(user, id)
        audit_services.record_read(request, report.handoff, channel=audit_services.Channel.API)
        return Response(serializers_reports.ReportSerializer(report).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="reports_acknowledge",
        summary="Clinic: acknowledge a progress report (the trainer is told once). Idempotent.",
        description="403 for the trainer.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: serializers_reports.ReportSerializer},
    )
)
class ReportAcknowledgeApi(APIView):
    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        report = _report(user, id)
        progress_reports.report_acknowledge(report=report, actor=user)
        return _report_out(user, report)


@extend_schema_view(
    get=extend_schema(
        operation_id="reports_replies_list",
        summary="The replies to a progress report, oldest first",
        parameters=[ID_PARAMETER],
        responses={200: serializers_reports.ReplySerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="reports_replies_create",
        summary="Reply to a progress report: the clinic's physiotherapists, or the trainer answering; "
        "the other side is told",
        parameters=[ID_PARAMETER],
        request=serializers_reports.ReplyInputSerializer,
        responses={201: serializers_reports.ReplySerializer},
    ),
)
class ReportReplyListCreateApi(ApiListView):
    serializer_class = serializers_reports.ReplySerializer
    api_ordering = ("created_at", "id")

    def scoped_queryset(self, user: User) -> QuerySet[ReportReply]:
        report = _report(user, self.kwargs["id"])
        return report_selectors.reply_list_for_report(report=report)

    def post(self, request: Request, id: str) -> Response:
        user = _user(request)
        report = _report(user, id)
        data = _body(serializers_reports.ReplyInputSerializer, request)
        reply = progress_reports.report_reply(report=report, actor=user, text=data["text"])
        fresh = report_selectors.reply_list_for_report(report=report).get(pk=reply.pk)
        return Response(serializers_reports.ReplySerializer(fresh).data, status=status.HTTP_201_CREATED)
