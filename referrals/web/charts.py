"""The printed progress report: a report as a PDF download (progress.pdf), for whoever may see the
referral's progress (progress.policies.can_view_progress); anyone else gets a 404."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.audit import services as audit_services
from referrals.progress import pdf as progress_pdf
from referrals.progress import report_selectors
from referrals.progress.models import ProgressReport
from referrals.web.common import _get


def pdf_response(report: ProgressReport, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=progress_pdf.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{progress_pdf.report_pdf_filename(report)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def report_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    report = _get(report_selectors.report_get_for_user, ProgressReport, user=user, public_id=public_id)
    audit_services.record_read(request, report.handoff, channel=audit_services.Channel.PAGE)
    return pdf_response(report, progress_pdf.report_pdf(report=report, user=user))
