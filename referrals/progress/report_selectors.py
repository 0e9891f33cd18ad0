"""Reads of progress reports: a referral's reports, one report in the user's scope, its replies, the rows
a report's figures are computed from, and the dates a report is due from."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.progress import metrics as progress_metrics
from referrals.progress import policies as progress_policies
from referrals.progress.models import ProgressReport, ReportReply, SessionExercise, SessionLog


def _accepted_events() -> QuerySet[HandoffEvent]:
    return HandoffEvent.objects.filter(
        kind=HandoffEvent.Kind.TRANSITION, to_status=HandoffStatus.ACCEPTED
    ).order_by("created_at", "id")


def acceptance_date(handoff: TrainerHandoff) -> datetime.date | None:
    """The day the trainer accepted the referral (its first move to accepted), in the site's time zone;
    the day it was sent for a referral recorded without that event; None for one never sent."""
    accepted = _accepted_events().filter(handoff=handoff).values_list("created_at", flat=True).first()
    moment = accepted or handoff.sent_at
    return timezone.localdate(moment) if moment is not None else None


def report_list_for_handoff(*, handoff: TrainerHandoff) -> QuerySet[ProgressReport]:
    """The referral's reports, the latest period first, with who submitted and acknowledged them (one
    query whatever their number)."""
    return (
        ProgressReport.objects.filter(handoff=handoff)
        .select_related("handoff", "submitted_by", "acknowledged_by")
        .order_by("-period_end", "-id")
    )


def report_last_for_handoff(*, handoff: TrainerHandoff) -> ProgressReport | None:
    return ProgressReport.objects.filter(handoff=handoff).order_by("-period_end", "-id").first()


def report_final_exists(*, handoff: TrainerHandoff) -> bool:
    """Whether the referral has a report marked final (the one completing it requires)."""
    return ProgressReport.objects.filter(handoff=handoff, final=True).exists()


def report_overlapping(
    *, handoff: TrainerHandoff, start: datetime.date, end: datetime.date
) -> ProgressReport | None:
    """An earlier report of the referral whose period shares a day with [start, end]."""
    return (
        ProgressReport.objects.filter(handoff=handoff, period_start__lte=end, period_end__gte=start)
        .order_by("period_start")
        .first()
    )


def report_get_for_user(*, user: User, public_id: uuid.UUID | str) -> ProgressReport:
    """A report of a referral in the user's scope (`handoff_list_for_user`) whose progress the user may see
    (`progress.policies.can_view_progress`: after consent is withdrawn the trainer no longer does), with the
    referral joined as the policies read it (plan, patient, clinic, trainer, gym, consent). Otherwise
    DoesNotExist (a 404): the one lookup of the report's page, its API, its PDF and its replies."""
    scope = handoffs_selectors.handoff_list_for_user(user=user).values("pk")
    report = (
        ProgressReport.objects.filter(handoff_id__in=scope)
        .select_related(
            "submitted_by",
            "acknowledged_by",
            "handoff__plan__patient__clinic",
            "handoff__plan__physiotherapist",
            "handoff__trainer",
            "handoff__gym",
            "handoff__consent",
        )
        .get(public_id=public_id)
    )
    if not progress_policies.can_view_progress(user, report.handoff):
        raise ProgressReport.DoesNotExist("No such report.")
    return report


def reply_list_for_report(*, report: ProgressReport) -> QuerySet[ReportReply]:
    return ReportReply.objects.filter(report=report).select_related("author").order_by("created_at", "id")


def session_rows_for_period(
    *, handoff: TrainerHandoff, start: datetime.date, end: datetime.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The referral's session logs of [start, end] and their exercises, as the plain values
    `metrics.compute_figures` reads: two queries whatever their number."""
    sessions = list(
        SessionLog.objects.filter(handoff=handoff, session_date__gte=start, session_date__lte=end)
        .order_by("session_date", "id")
        .values(*progress_metrics.SESSION_FIELDS)
    )
    if not sessions:
        return [], []
    exercises = list(
        SessionExercise.objects.filter(
            session__handoff=handoff, session__session_date__gte=start, session__session_date__lte=end
        )
        .order_by("session_id", "position", "id")
        .values(*progress_metrics.EXERCISE_FIELDS)
    )
    return sessions, exercises


def report_due_rows(*, statuses: tuple[str, ...]) -> QuerySet[Any]:
    """The referrals in `statuses` with what their next report's due date is computed from: the plan's
    interval, the acceptance moment, the sent moment and the last report's end (one query)."""
    accepted = _accepted_events().filter(handoff=OuterRef("pk")).values("created_at")[:1]
    last_end = (
        ProgressReport.objects.filter(handoff=OuterRef("pk"))
        .order_by()
        .values("handoff")
        .annotate(last=Max("period_end"))
        .values("last")[:1]
    )
    return (
        TrainerHandoff.objects.filter(status__in=statuses, sent_at__isnull=False)
        .annotate(accepted_at=Subquery(accepted), last_report_end=Subquery(last_end))
        .values("pk", "sent_at", "accepted_at", "last_report_end", "plan__report_interval_weeks")
        .order_by("pk")
    )
