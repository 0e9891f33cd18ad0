"""A progress report as a PDF, for the clinic's records: WeasyPrint renders templates/progress/report_pdf.html
(the clinic's and the gym's names, the period, the figures of the period's sessions, the trainer's
narrative and goals, the charts as SVG; no navigation) with Debian's fonts and pango.

Nothing is fetched while rendering: the stylesheet is in the template and the charts are inline, and the
fetcher refuses every URL, so no text of a report can make the server read a file or a host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import weasyprint
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.policies import Surface
from referrals.progress import charts as progress_charts
from referrals.progress import series as progress_series
from referrals.progress.models import ProgressReport

PDF_CONTENT_TYPE = "application/pdf"
NARRATIVE = (
    ("impressions", "Impressions"),
    ("obstacles", "Obstacles"),
    ("adherence", "Adherence"),
    ("recommendations", "Recommendations"),
)


def report_pdf_filename(report: ProgressReport) -> str:
    """No name of anyone in it: the period and the report's id."""
    return (
        f"progress-report-{report.period_start:%Y-%m-%d}-to-{report.period_end:%Y-%m-%d}-"
        f"{report.public_id.hex[:8]}.pdf"
    )


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


def _figures(series: progress_series.ProgressSeries) -> list[Figure]:
    totals = series.totals
    weeks = max(totals["weeks"], 1)
    return [
        Figure("Sessions attended", str(totals["attended"])),
        Figure("Missed (no-show)", str(totals["missed"])),
        Figure("Cancelled", str(totals["cancelled"])),
        Figure("Sessions attended per week", f"{totals['attended'] / weeks:.1f}"),
        Figure("Minutes of moderate-to-vigorous activity", str(totals["minutes"])),
        Figure("Minutes per week (average)", f"{totals['minutes'] / weeks:.0f}"),
        Figure(
            f"Weeks at or above {series.guideline_minutes} minutes",
            f"{totals['weeks_meeting_guideline']} of {totals['weeks']}",
        ),
    ]


def _goals(report: ProgressReport) -> list[dict[str, str]]:
    labels: dict[str, str] = {str(value): str(label) for value, label in ProgressReport.GoalStatus.choices}
    goals = []
    for item in report.goals or []:
        if isinstance(item, dict):
            status = str(item.get("status") or "")
            goals.append({"goal": str(item.get("goal", "")), "status": labels.get(status, status)})
    return goals


def report_pdf_context(*, report: ProgressReport, user: User) -> dict[str, Any]:
    handoff = report.handoff
    view = handoffs_snapshot.handoff_view_for_user(user=user, handoff=handoff, surface=Surface.PAGE)
    series = progress_series.series_for_handoff(
        handoff=handoff, start=report.period_start, end=report.period_end
    )
    return {
        "report": report,
        "clinic": view.clinic or handoff.plan.patient.clinic.name,
        "gym": handoff.gym.name,
        "trainer": handoff.trainer.full_name,
        "physiotherapist": view.physiotherapist,
        "patient_name": view.patient_name,
        "figures": _figures(series),
        "sessions": series.sessions,
        "narrative": [(label, getattr(report, name)) for name, label in NARRATIVE if getattr(report, name)],
        "goals": _goals(report),
        "charts": progress_charts.charts_of(series, f"report-{report.public_id.hex[:12]}"),
        "generated_on": timezone.localdate(),
    }


def report_pdf(*, report: ProgressReport, user: User) -> bytes:
    """The PDF's bytes (the caller fetched the report with report_selectors.report_get_for_user)."""
    html = render_to_string("progress/report_pdf.html", report_pdf_context(report=report, user=user))
    refuse_all = weasyprint.URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=refuse_all)
    pdf: bytes = document.write_pdf()
    return pdf
