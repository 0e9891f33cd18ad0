"""Progress reports: composing one from the logs of a period, submitting it (the figures frozen with it),
the physiotherapist's acknowledgement and replies, and the daily notice of a report overdue.

Decisions (documented here, the one place):
- A report's default period runs from the day after the last report's end (or the acceptance date, for the
  first) to today. Periods never overlap and lie within acceptance..today.
- `final` marks the referral's last report: completing a referral requires one (handoffs.services
  `handoff_complete` refuses with `report_required` otherwise). The trainer marks it when writing it; a
  final report does not complete the referral by itself.
- Replies: the clinic's physiotherapists reply to a report, and the referral's trainer may answer in the
  same thread while they may write reports (the consent standing, the referral still theirs): a report
  is a conversation, not a form. Each reply tells the other side.
- Due: a report is due `report_interval_weeks` after the acceptance date or the last report's end; that
  day the trainer is reminded, and a week later (still missing) the clinic's physiotherapists are told it
  is overdue, each once per due date, while the referral is accepted or in progress (on hold the client is
  away: nothing is due)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from referrals.common import _clean_text
from referrals.errors import NotPermitted
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify import wording as notify_wording
from referrals.notify.services import notify
from referrals.progress import metrics as progress_metrics
from referrals.progress import policies as progress_policies
from referrals.progress import report_selectors
from referrals.progress.models import REPORT_TEXT_MAX_LENGTH, ProgressReport, ReportReply

NARRATIVE_FIELDS = ("impressions", "obstacles", "adherence", "recommendations")
GOAL_STATUSES = tuple(ProgressReport.GoalStatus.values)
# A report is owed while the trainer has the client (not on hold: the client is away).
DUE_STATUSES = progress_policies.LOGGABLE_STATUSES


def goal_lines(handoff: TrainerHandoff) -> list[str]:
    """The goals of the guidelines the referral was sent with, one per non-empty line."""
    snapshot = handoffs_snapshot.guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id) or {}
    return [line.strip() for line in str(snapshot.get("goals") or "").splitlines() if line.strip()]


def _prescribed(handoff: TrainerHandoff) -> list[dict[str, Any]]:
    snapshot = handoffs_snapshot.guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id) or {}
    return list(snapshot.get("exercises") or [])


@dataclass(frozen=True)
class ReportDraft:
    """What the report form shows before submitting: the default (or asked) period, its figures, the goal
    lines to assess. `empty`: the period has no day yet (the last report ended today)."""

    period_start: datetime.date
    period_end: datetime.date
    figures: progress_metrics.ReportFigures | None
    goals: list[str]

    @property
    def empty(self) -> bool:
        return self.figures is None


def report_default_period(*, handoff: TrainerHandoff) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    last = report_selectors.report_last_for_handoff(handoff=handoff)
    if last is not None:
        start = last.period_end + datetime.timedelta(days=1)
    else:
        start = report_selectors.acceptance_date(handoff) or today
    return start, today


def report_figures(
    *, handoff: TrainerHandoff, start: datetime.date, end: datetime.date
) -> progress_metrics.ReportFigures:
    sessions, exercises = report_selectors.session_rows_for_period(handoff=handoff, start=start, end=end)
    return progress_metrics.compute_figures(
        start=start, end=end, sessions=sessions, exercises=exercises, prescribed=_prescribed(handoff)
    )


def report_compose(
    *,
    handoff: TrainerHandoff,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
) -> ReportDraft:
    """The figures of a period for the form's preview (nothing stored). Missing ends take the default
    period's."""
    default_start, default_end = report_default_period(handoff=handoff)
    start = period_start or default_start
    end = period_end or default_end
    figures = report_figures(handoff=handoff, start=start, end=end) if start <= end else None
    return ReportDraft(period_start=start, period_end=end, figures=figures, goals=goal_lines(handoff))


def _check_period(*, handoff: TrainerHandoff, start: Any, end: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(start, datetime.date):
        errors["period_start"] = ["Enter a date."]
    if not isinstance(end, datetime.date):
        errors["period_end"] = ["Enter a date."]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    accepted = report_selectors.acceptance_date(handoff) or today
    if start < accepted:
        errors["period_start"] = [f"The period starts on or after the referral was accepted ({accepted})."]
    if end > today:
        errors["period_end"] = ["The period cannot end in the future."]
    elif end < start:
        errors["period_end"] = ["The period ends on or after its start."]
    if errors:
        raise ValidationError(errors)
    earlier = report_selectors.report_overlapping(handoff=handoff, start=start, end=end)
    if earlier is not None:
        raise ValidationError(
            {
                "period_start": [
                    f"An earlier report covers {earlier.period_start} to {earlier.period_end}: "
                    f"start after {earlier.period_end}."
                ]
            }
        )


def _check_goals(*, handoff: TrainerHandoff, goals: Any) -> list[dict[str, str]]:
    lines = goal_lines(handoff)
    if not isinstance(goals, list | tuple) or len(goals) != len(lines):
        raise ValidationError(
            {"goals": [f"Assess each goal of the guidelines: {len(lines)} expected, in their order."]}
        )
    wrong = [i for i, status in enumerate(goals) if status not in GOAL_STATUSES]
    if wrong:
        raise ValidationError({f"goals.{i}": [f"Choose one of: {', '.join(GOAL_STATUSES)}."] for i in wrong})
    return [{"goal": line, "status": str(status)} for line, status in zip(lines, goals, strict=True)]


def report_submit(
    *,
    handoff: TrainerHandoff,
    actor: User,
    period_start: datetime.date,
    period_end: datetime.date,
    impressions: str = "",
    obstacles: str = "",
    adherence: str = "",
    recommendations: str = "",
    goals: list[str] | tuple[str, ...] = (),
    final: bool = False,
) -> ProgressReport:
    """The referral's trainer sends a report for [period_start, period_end]: its figures are computed from
    the logs now and kept with it; each goal line of the guidelines gets met / partly / not_yet (`goals`,
    in their order). The clinic is told (a REPORT_SUBMITTED event). Bad input: a ValidationError naming
    the field, nothing stored."""
    texts = {
        "impressions": impressions,
        "obstacles": obstacles,
        "adherence": adherence,
        "recommendations": recommendations,
    }
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(handoff)
        if not progress_policies.can_submit_report(actor, locked):
            raise NotPermitted(
                "Only the referral's trainer can report on it, while it is accepted, in progress or on "
                "hold and the client's consent stands."
            )
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, str] = {}
        for name, value in texts.items():
            try:
                cleaned[name] = _clean_text(
                    value, field=name, required=False, max_length=REPORT_TEXT_MAX_LENGTH
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if not any(cleaned.values()) and not errors:
            errors["impressions"] = ["Say in a few words how the client is doing."]
        if errors:
            raise ValidationError(errors)
        if not isinstance(final, bool):
            raise ValidationError({"final": ["Expected true or false."]})
        _check_period(handoff=locked, start=period_start, end=period_end)
        assessed = _check_goals(handoff=locked, goals=goals)
        report = ProgressReport.objects.create(
            handoff=locked,
            period_start=period_start,
            period_end=period_end,
            figures=report_figures(handoff=locked, start=period_start, end=period_end),
            goals=assessed,
            final=final,
            submitted_by=actor,
            submitted_at=timezone.now(),
            **cleaned,
        )
        handoffs_lifecycle.handoff_record_event(
            handoff=locked, actor=actor, kind=HandoffEvent.Kind.REPORT_SUBMITTED, report=report
        )
    return report


def _locked_report(report: ProgressReport) -> tuple[ProgressReport, TrainerHandoff]:
    handoff = handoffs_lifecycle.handoff_lock(report.handoff)
    locked = ProgressReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    locked.handoff = handoff
    return locked, handoff


def report_acknowledge(*, report: ProgressReport, actor: User) -> ProgressReport:
    """A physiotherapist of the clinic has read the report: the trainer is told, once. Idempotent: a
    second acknowledgement (by anyone) changes nothing and tells nobody."""
    with transaction.atomic():
        locked, handoff = _locked_report(report)
        if not progress_policies.can_answer_report(actor, handoff):
            raise NotPermitted("Only a physiotherapist of the referring clinic can acknowledge a report.")
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at, locked.acknowledged_by = timezone.now(), actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        handoffs_lifecycle.handoff_record_event(
            handoff=handoff, actor=actor, kind=HandoffEvent.Kind.REPORT_ACKNOWLEDGED, report=locked
        )
    return locked


def can_reply(user: User, report: ProgressReport) -> bool:
    """The clinic's physiotherapists, and the referral's trainer while they may write reports."""
    handoff = report.handoff
    return progress_policies.can_answer_report(user, handoff) or progress_policies.is_writing_trainer(
        user, handoff
    )


def report_reply(*, report: ProgressReport, actor: User, text: str) -> ReportReply:
    """A reply to a report (see the module's decisions): stored, and the other side told."""
    text = _clean_text(text, field="text", required=True, max_length=REPORT_TEXT_MAX_LENGTH)
    with transaction.atomic():
        locked, handoff = _locked_report(report)
        if not can_reply(actor, locked):
            raise NotPermitted("Only the referring clinic's physiotherapists and the trainer can reply.")
        reply = ReportReply.objects.create(report=locked, author=actor, text=text)
        handoffs_lifecycle.handoff_record_event(
            handoff=handoff, actor=actor, kind=HandoffEvent.Kind.REPORT_REPLY, report=locked
        )
    return reply


# --- overdue -------------------------------------------------------------------------------------------


def report_due_date(
    *,
    interval_weeks: int,
    accepted_on: datetime.date | None,
    last_report_end: datetime.date | None,
) -> datetime.date | None:
    """When the next report is due: the interval after the last report's end, or after the acceptance."""
    since = last_report_end or accepted_on
    return None if since is None else since + datetime.timedelta(weeks=interval_weeks)


def _due_of(row: dict[str, Any]) -> datetime.date | None:
    moment = row["accepted_at"] or row["sent_at"]
    accepted_on = timezone.localdate(moment) if moment is not None else None
    last = row["last_report_end"]
    if isinstance(last, str):  # SQLite hands an aggregate's date back as text
        last = datetime.date.fromisoformat(last)
    return report_due_date(
        interval_weeks=row["plan__report_interval_weeks"], accepted_on=accepted_on, last_report_end=last
    )


def reports_overdue_notify(*, today: datetime.date | None = None) -> list[TrainerHandoff]:
    """The daily notice of reports due (issue 16's timer): on its due date the referral's trainer is
    reminded; `report_overdue_days` (settings.HANDOFF_TIMER_DEFAULTS, 7) later, still missing, the clinic's
    physiotherapists are told it is overdue. Each once per due date (the source key names the referral and
    the date: a second run tells nobody again). Returns the referrals whose notice (either) was written in
    this run or an earlier one for the same due date."""
    today = today or timezone.localdate()
    grace = datetime.timedelta(days=int(settings.HANDOFF_TIMER_DEFAULTS["report_overdue_days"]))
    due_rows: list[tuple[int, datetime.date]] = []
    for row in report_selectors.report_due_rows(statuses=DUE_STATUSES):
        due = _due_of(row)
        if due is not None and due <= today:
            due_rows.append((row["pk"], due))
    told: list[TrainerHandoff] = []
    for pk, due in due_rows:
        with transaction.atomic():
            locked = handoffs_lifecycle.handoff_lock(TrainerHandoff(pk=pk))
            if locked.status not in DUE_STATUSES:
                continue
            trainer = [
                person
                for person in handoffs_lifecycle.trainer_recipients(locked)
                if progress_policies.can_submit_report(person, locked)
            ]
            notify(
                kind=notify_wording.REPORT_DUE_KIND,
                recipients=trainer,
                source_key=notify_wording.report_due_source_key(locked.pk, due.isoformat()),
                handoff=locked,
                title=notify_wording.report_due_title(locked),
            )
            if due + grace <= today:
                notify(
                    kind=notify_wording.REPORT_OVERDUE_KIND,
                    recipients=handoffs_lifecycle.clinic_recipients(locked),
                    source_key=notify_wording.report_overdue_source_key(locked.pk, due.isoformat()),
                    handoff=locked,
                    title=notify_wording.report_overdue_title(locked, for_trainer=False),
                )
            told.append(locked)
    return told
