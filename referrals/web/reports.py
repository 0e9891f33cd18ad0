"""Pages of progress reports: the trainer writes one (the figures of the period composed from the logs),
a report's page (figures as tables; the physiotherapist acknowledges and replies, the trainer answers),
and the reports section of the referral page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.audit import services as audit_services
from referrals.errors import NotPermitted
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import charts as progress_charts
from referrals.progress import metrics as progress_metrics
from referrals.progress import policies as progress_policies
from referrals.progress import report_selectors
from referrals.progress import reports as progress_reports
from referrals.progress.models import REPORT_TEXT_MAX_LENGTH, ProgressReport
from referrals.web.common import _deny_unless, _get

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=REPORT_TEXT_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": str(REPORT_TEXT_MAX_LENGTH)}),
    )


class ReportForm(forms.Form):
    """The report's period, narrative, one met / partly / not yet per goal line (`goal_0`, `goal_1`...),
    and whether it is the final report."""

    period_start = forms.DateField(label="From", widget=DATE)
    period_end = forms.DateField(label="To", widget=DATE)
    impressions = _text("Impressions", "How the client is doing.")
    obstacles = _text("Obstacles")
    adherence = _text("Adherence")
    recommendations = _text("Recommendations")
    final = forms.BooleanField(
        required=False, label="This is the final report (completing the referral needs one)"
    )

    def __init__(self, *args: Any, goals: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goal_lines = goals
        for i, goal in enumerate(goals):
            self.fields[f"goal_{i}"] = forms.ChoiceField(
                label=goal,
                choices=ProgressReport.GoalStatus.choices,
                widget=forms.RadioSelect,
            )

    def goal_fields(self) -> list[forms.BoundField]:
        return [self[f"goal_{i}"] for i in range(len(self.goal_lines))]

    def goals(self) -> list[str]:
        return [self.cleaned_data[f"goal_{i}"] for i in range(len(self.goal_lines))]

    def add_service_errors(self, exc: ValidationError) -> None:
        for name, errors in exc.message_dict.items():
            if name.startswith("goals.") and f"goal_{name[6:]}" in self.fields:
                self.add_error(f"goal_{name[6:]}", errors)
            elif name in self.fields:
                self.add_error(name, errors)
            else:
                self.add_error(None, errors)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Reply",
        max_length=REPORT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": str(REPORT_TEXT_MAX_LENGTH)}),
    )


# --- the referral page's section -----------------------------------------------------------------------


def reports_section_context(user: User, handoff: TrainerHandoff) -> dict[str, Any]:
    """What templates/progress/_reports_section.html renders on the referral page: its reports (one
    query) and whether the user may write one."""
    if not progress_policies.can_view_progress(user, handoff):
        return {"reports": [], "can_write_report": False, "show_reports": False}
    return {
        "reports": list(report_selectors.report_list_for_handoff(handoff=handoff)),
        "can_write_report": progress_policies.can_submit_report(user, handoff),
        "show_reports": True,
    }


# --- writing a report ----------------------------------------------------------------------------------


def _handoff(request: HttpRequest, public_id: uuid.UUID) -> TrainerHandoff:
    user = _user(request)
    handoff = _get(handoffs_selectors.handoff_get_for_user, TrainerHandoff, user=user, public_id=public_id)
    if not progress_policies.can_view_progress(user, handoff):
        raise Http404("No such referral.")
    return handoff


def _period(request: HttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    """A period asked for in the query (`?period_start=&period_end=`) to recompose the preview."""
    out: list[datetime.date | None] = []
    for name in ("period_start", "period_end"):
        try:
            out.append(datetime.date.fromisoformat(request.GET.get(name, "")))
        except ValueError:
            out.append(None)
    return out[0], out[1]


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    handoff = _handoff(request, public_id)
    _deny_unless(progress_policies.can_submit_report(user, handoff))
    goals = progress_reports.goal_lines(handoff)
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST, goals=goals)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = progress_reports.report_submit(
                    handoff=handoff,
                    actor=user,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    impressions=data["impressions"],
                    obstacles=data["obstacles"],
                    adherence=data["adherence"],
                    recommendations=data["recommendations"],
                    goals=form.goals(),
                    final=data["final"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except NotPermitted as exc:
                raise PermissionDenied(exc.message) from exc
            else:
                messages.success(request, "Your progress report was sent to the physiotherapist.")
                return redirect("report_detail", public_id=report.public_id)
        status = 400
        start, end = form.cleaned_data.get("period_start"), form.cleaned_data.get("period_end")
        draft = progress_reports.report_compose(handoff=handoff, period_start=start, period_end=end)
    else:
        start, end = _period(request)
        draft = progress_reports.report_compose(handoff=handoff, period_start=start, period_end=end)
        form = ReportForm(
            initial={"period_start": draft.period_start, "period_end": draft.period_end}, goals=goals
        )
    audit_services.record_read(request, handoff, channel=audit_services.Channel.PAGE)
    context = {
        "handoff": handoff,
        "form": form,
        "draft": draft,
        "figures": draft.figures,
        "vital_signs": progress_metrics.vital_sign_list(draft.figures or {}),
    }
    return render(request, "progress/report_form.html", context, status=status)


# --- a report's page -----------------------------------------------------------------------------------


def _report(request: HttpRequest, public_id: uuid.UUID) -> ProgressReport:
    user = _user(request)
    return _get(report_selectors.report_get_for_user, ProgressReport, user=user, public_id=public_id)


def _render_report(
    request: HttpRequest, report: ProgressReport, reply_form: ReplyForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    handoff = report.handoff
    can_answer = progress_policies.can_answer_report(user, handoff)
    context = {
        "report": report,
        "handoff": handoff,
        "figures": report.figures,
        "vital_signs": progress_metrics.vital_sign_list(report.figures),
        "replies": list(report_selectors.reply_list_for_report(report=report)),
        "can_acknowledge": can_answer and not report.acknowledged,
        "is_clinic_side": can_answer,
        # the way back to the physiotherapist, on the referral page (handoffs.refer_back, its own policy)
        "can_refer_back": can_answer and progress_policies.can_refer_back_now(user, handoff),
        "can_reply": progress_reports.can_reply(user, report),
        "reply_form": reply_form or ReplyForm(),
        # the report's period drawn from the logs (one query: progress.series); the report page is shown
        # only to whoever may see the referral's progress (`_report`)
        "progress_charts": progress_charts.progress_charts(
            handoff=handoff, start=report.period_start, end=report.period_end
        ),
    }
    return render(request, "progress/report_detail.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def report_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    report = _report(request, public_id)
    audit_services.record_read(request, report.handoff, channel=audit_services.Channel.PAGE)
    return _render_report(request, report)


@login_required
@require_POST
def report_acknowledge(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    report = _report(request, public_id)
    _deny_unless(progress_policies.can_answer_report(user, report.handoff))
    try:
        progress_reports.report_acknowledge(report=report, actor=user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, "The report is acknowledged; the trainer was told.")
    return redirect("report_detail", public_id=report.public_id)


@login_required
@require_POST
def report_reply(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    report = _report(request, public_id)
    _deny_unless(progress_reports.can_reply(user, report))
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            progress_reports.report_reply(report=report, actor=user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            form.add_error("text", exc.messages)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, "Your reply was sent.")
            return redirect("report_detail", public_id=report.public_id)
    return _render_report(request, report, reply_form=form, status=400)
