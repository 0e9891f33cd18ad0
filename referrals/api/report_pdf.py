"""API: a progress report as a PDF download (progress.pdf), for whoever may see the referral's progress
(progress.policies.can_view_progress); anyone else gets a 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.common import ID_PARAMETER, _fetch
from referrals.audit import services as audit_services
from referrals.progress import pdf as progress_pdf
from referrals.progress import report_selectors
from referrals.progress.models import ProgressReport


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the PDF itself is returned as it is, and an error
    is answered in JSON like every other error of the API."""

    media_type = progress_pdf.PDF_CONTENT_TYPE
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


@extend_schema_view(
    get=extend_schema(
        operation_id="reports_pdf",
        summary="The progress report as a PDF (a download: the charts, the figures, the narrative)",
        # the PDF is the one answer: no `?format=` (DRF's format override, for its two renderers)
        parameters=[ID_PARAMETER, OpenApiParameter("format", exclude=True)],
        responses={
            (200, progress_pdf.PDF_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF, as an attachment (its name holds no patient name)."
            )
        },
    )
)
class ReportPdfApi(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    def get(self, request: Request, id: str) -> HttpResponse:
        user = _user(request)
        report = _fetch(report_selectors.report_get_for_user, ProgressReport, user, id)
        audit_services.record_read(request, report.handoff, channel=audit_services.Channel.API)
        response = HttpResponse(
            progress_pdf.report_pdf(report=report, user=user), content_type=progress_pdf.PDF_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{progress_pdf.report_pdf_filename(report)}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # an error is JSON, whatever the client accepted
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
