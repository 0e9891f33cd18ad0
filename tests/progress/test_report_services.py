"""Progress reports through their services: the figures frozen from the logs, every validation error,
acknowledgement and replies (who is told), the overdue notice, and completing a referral."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from referrals.care import services as care_services
from referrals.care.models import Consent
from referrals.errors import InvalidTransition, NotPermitted, ReportRequired
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.progress import reports as progress_reports
from referrals.progress.models import REPORT_TEXT_MAX_LENGTH, ProgressReport, ReportReply
from tests.conftest import World
from tests.progress import factories_reports as fr

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def days_ago(n: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=n)


def backdate_acceptance(handoff: TrainerHandoff, days: int) -> None:
    """The acceptance `days` ago (the clock does not move; the event's time does)."""
    moment = timezone.now() - datetime.timedelta(days=days)
    HandoffEvent.objects.filter(handoff=handoff, to_status=HandoffStatus.ACCEPTED).update(created_at=moment)


def submit(handoff: TrainerHandoff, actor: User, **overrides: Any) -> ProgressReport:
    kwargs: dict[str, Any] = {
        "period_start": TODAY(),
        "period_end": TODAY(),
        "impressions": "Turns up, works hard.",
        "goals": ["partly"],
        **overrides,
    }
    return progress_reports.report_submit(handoff=handoff, actor=actor, **kwargs)


# --- composing and submitting --------------------------------------------------------------------------


def test_the_figures_are_computed_from_the_logs_and_frozen_with_the_report(
    world: World, accepted: TrainerHandoff
) -> None:
    backdate_acceptance(accepted, 13)
    strength = fr.library_exercise("strength")
    first = fr.session(accepted, days_ago(13), rpe=6, pain_before=3, pain_after=2, mvpa_minutes=40)
    fr.exercise_done(first, exercise=strength)
    fr.session(accepted, days_ago(10), rpe=8, pain_before=5, pain_after=4, mvpa_minutes=20)
    fr.session(accepted, days_ago(6), attendance="no_show")
    fr.session(accepted, days_ago(2), attendance="cancelled_gym")
    draft = progress_reports.report_compose(handoff=accepted)
    assert (draft.period_start, draft.period_end) == (days_ago(13), TODAY())
    assert draft.goals == ["Lift a 10 kg box to shoulder height without pain."]
    report = submit(accepted, world.trainer, period_start=days_ago(13))
    figures = report.figures
    assert figures["period"] == {
        "start": days_ago(13).isoformat(),
        "end": TODAY().isoformat(),
        "days": 14,
        "weeks": 2.0,
    }
    assert figures["attendance"]["attended"] == 2 and figures["attendance"]["no_show"] == 1
    assert figures["attendance"]["cancelled_gym"] == 1 and figures["attendance"]["attended_per_week"] == 1.0
    signs = figures["vital_signs"]
    assert signs["mvpa_days_per_week"]["value"] == 1.0  # 2 days / 2 weeks
    assert signs["mvpa_minutes_per_day"]["value"] == 30.0  # 60 / 2
    assert signs["mvpa_minutes_per_week"]["value"] == 30.0  # 60 / 2 weeks
    assert signs["strength_days_per_week"]["value"] == 0.5  # 1 day / 2 weeks
    assert figures["pain_before"] == {"n": 2, "mean": 4.0, "max": 5}
    assert figures["rpe"]["mean"] == 7.0
    assert report.goals == [{"goal": draft.goals[0], "status": "partly"}]
    # a session logged later does not change the submitted report
    fr.session(accepted, TODAY(), mvpa_minutes=300)
    report.refresh_from_db()
    assert report.figures == figures
    event = HandoffEvent.objects.get(kind=HandoffEvent.Kind.REPORT_SUBMITTED)
    assert event.report == report and event.actor == world.trainer


def test_the_next_default_period_starts_the_day_after_the_last_report(
    world: World, accepted: TrainerHandoff
) -> None:
    backdate_acceptance(accepted, 20)
    submit(accepted, world.trainer, period_start=days_ago(20), period_end=days_ago(8))
    draft = progress_reports.report_compose(handoff=accepted)
    assert (draft.period_start, draft.period_end) == (days_ago(7), TODAY())
    submit(accepted, world.trainer, period_start=days_ago(7))
    assert progress_reports.report_compose(handoff=accepted).empty  # the last report ends today


def test_submitting_tells_the_clinic_with_a_title_without_patient_detail(
    world: World, accepted: TrainerHandoff
) -> None:
    submit(accepted, world.trainer, final=True)
    [note] = Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_SUBMITTED)
    assert note.recipient == world.physio
    assert note.title == f"A final progress report from {world.trainer.full_name} at {world.gym.name}"
    assert world.plan.patient.full_name not in note.title
    assert OutboxMessage.objects.filter(source_key=note.source_key, recipient=world.physio).count() == 1


INVALID = [
    ({"period_start": None}, "period_start"),
    ({"period_end": "2026-01-01"}, "period_end"),
    ({"period_end": TODAY() + datetime.timedelta(days=1)}, "period_end"),
    ({"period_start": days_ago(30)}, "period_start"),  # before the acceptance
    ({"period_start": TODAY(), "period_end": days_ago(1)}, "period_end"),
    ({"impressions": "x" * (REPORT_TEXT_MAX_LENGTH + 1)}, "impressions"),
    ({"obstacles": 12}, "obstacles"),
    ({"impressions": "  "}, "impressions"),  # no narrative at all
    ({"goals": []}, "goals"),
    ({"goals": ["met", "met"]}, "goals"),
    ({"goals": ["done"]}, "goals.0"),
    ({"final": "yes"}, "final"),
]


@pytest.mark.parametrize(("bad", "field"), INVALID, ids=[f for _, f in INVALID])
def test_bad_input_is_a_field_error_and_nothing_is_stored(
    world: World, accepted: TrainerHandoff, bad: dict[str, Any], field: str
) -> None:
    backdate_acceptance(accepted, 5)
    with pytest.raises(ValidationError) as caught:
        submit(accepted, world.trainer, **bad)
    assert field in caught.value.message_dict
    assert not ProgressReport.objects.exists()
    assert not HandoffEvent.objects.filter(kind=HandoffEvent.Kind.REPORT_SUBMITTED).exists()


def test_a_period_overlapping_an_earlier_report_is_refused(world: World, accepted: TrainerHandoff) -> None:
    backdate_acceptance(accepted, 10)
    submit(accepted, world.trainer, period_start=days_ago(10), period_end=days_ago(5))
    with pytest.raises(ValidationError) as caught:
        submit(accepted, world.trainer, period_start=days_ago(5))
    assert "earlier report" in caught.value.message_dict["period_start"][0]
    assert ProgressReport.objects.count() == 1


def test_only_the_referrals_trainer_reports_while_it_is_taken_on_and_consent_stands(
    world: World, accepted: TrainerHandoff, other_trainer: User
) -> None:
    for who in (world.physio, other_trainer):
        with pytest.raises(NotPermitted):
            submit(accepted, who)
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="Asked to stop.")
    with pytest.raises(NotPermitted):
        submit(TrainerHandoff.objects.get(pk=accepted.pk), world.trainer)
    assert not ProgressReport.objects.exists()


# --- acknowledgement and replies -----------------------------------------------------------------------


def test_acknowledging_is_idempotent_and_tells_the_trainer_once(
    world: World, accepted: TrainerHandoff, clinic: Any
) -> None:
    from tests.conftest import make_physio

    colleague = make_physio(clinic)
    report = submit(accepted, world.trainer)
    done = progress_reports.report_acknowledge(report=report, actor=world.physio)
    again = progress_reports.report_acknowledge(report=report, actor=colleague)
    assert done.acknowledged_by == again.acknowledged_by == world.physio
    assert again.acknowledged_at == done.acknowledged_at
    told = Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_ACKNOWLEDGED)
    assert [(n.recipient, n.title) for n in told] == [
        (world.trainer, f"{world.plan.patient.clinic.name} acknowledged your progress report")
    ]
    with pytest.raises(NotPermitted):
        progress_reports.report_acknowledge(report=report, actor=world.trainer)


def test_a_reply_tells_the_other_side(world: World, accepted: TrainerHandoff) -> None:
    report = submit(accepted, world.trainer)
    progress_reports.report_reply(report=report, actor=world.physio, text="Add a set of step-ups.")
    progress_reports.report_reply(report=report, actor=world.trainer, text="Will do from Monday.")
    replies = Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_REPLY).order_by("id")
    assert [n.recipient for n in replies] == [world.trainer, world.physio]
    assert [r.text for r in ReportReply.objects.order_by("id")] == [
        "Add a set of step-ups.",
        "Will do from Monday.",
    ]
    with pytest.raises(ValidationError) as caught:
        progress_reports.report_reply(report=report, actor=world.physio, text=" ")
    assert "text" in caught.value.message_dict


def test_nobody_else_replies(world: World, accepted: TrainerHandoff, other_trainer: User) -> None:
    report = submit(accepted, world.trainer)
    with pytest.raises(NotPermitted):
        progress_reports.report_reply(report=report, actor=other_trainer, text="Hello")
    assert not ReportReply.objects.exists()


# --- overdue -------------------------------------------------------------------------------------------


def test_a_report_due_reminds_the_trainer_that_day_and_tells_the_clinic_a_week_later_once_each(
    world: World, accepted: TrainerHandoff
) -> None:
    backdate_acceptance(accepted, 0)
    accepted_on = TODAY()
    due = accepted_on + datetime.timedelta(weeks=4)  # the plan's default interval
    day = datetime.timedelta(days=1)
    assert progress_reports.reports_overdue_notify(today=due - day) == []  # not due yet
    assert [h.pk for h in progress_reports.reports_overdue_notify(today=due)] == [accepted.pk]
    reminded = Notification.objects.filter(kind="report_due")
    assert {n.recipient for n in reminded} == {world.trainer}  # the trainer, on the due date
    assert {n.source_key for n in reminded} == {f"report-due:{accepted.pk}:{due.isoformat()}"}
    assert not Notification.objects.filter(kind="report_overdue").exists()
    progress_reports.reports_overdue_notify(today=due + 6 * day)
    assert not Notification.objects.filter(kind="report_overdue").exists()  # six days late: not yet
    for _ in range(2):  # a week late, and a second run
        progress_reports.reports_overdue_notify(today=due + 7 * day)
    told = Notification.objects.filter(kind="report_overdue")
    assert {n.recipient for n in told} == {world.physio}
    assert {n.source_key for n in told} == {f"report-overdue:{accepted.pk}:{due.isoformat()}"}
    assert OutboxMessage.objects.filter(kind="report_overdue").count() == 1
    assert OutboxMessage.objects.filter(kind="report_due").count() == 1
    assert all(world.plan.patient.full_name not in n.title for n in [*told, *reminded])
    # a report resets the clock: the next due date is four weeks after its end, told once in its turn
    backdate_acceptance(accepted, 3)
    submit(accepted, world.trainer, period_start=days_ago(3), period_end=days_ago(2))
    next_due = days_ago(2) + datetime.timedelta(weeks=4)
    assert progress_reports.reports_overdue_notify(today=next_due - day) == []
    for _ in range(2):
        progress_reports.reports_overdue_notify(today=next_due + 7 * day)
    keys = Notification.objects.filter(kind="report_overdue").values_list("source_key", flat=True)
    assert sorted(keys) == sorted(f"report-overdue:{accepted.pk}:{d.isoformat()}" for d in (due, next_due))


def test_the_plans_interval_sets_the_due_date_and_a_referral_on_hold_owes_nothing(
    world: World, accepted: TrainerHandoff
) -> None:
    world.plan.report_interval_weeks = 1
    world.plan.save(update_fields=["report_interval_weeks"])
    eight_days = TODAY() + datetime.timedelta(days=8)
    assert len(progress_reports.reports_overdue_notify(today=eight_days)) == 1
    started = handoffs_services.handoff_start(handoff=accepted, actor=world.trainer)
    handoffs_services.handoff_hold(handoff=started, actor=world.trainer, reason="Away for a month.")
    Notification.objects.filter(kind__in=["report_due", "report_overdue"]).delete()
    assert progress_reports.reports_overdue_notify(today=eight_days) == []


def test_the_beat_runs_the_overdue_notice_daily(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["notify-reports-overdue"]
    assert entry["task"] == "referrals.tasks.notify_reports_overdue"
    assert entry["schedule"] == datetime.timedelta(hours=24)


# --- completing needs a final report -------------------------------------------------------------------


def test_completing_requires_a_final_report(world: World, accepted: TrainerHandoff) -> None:
    with pytest.raises(ReportRequired) as caught:
        handoffs_services.handoff_complete(handoff=accepted, actor=world.trainer)
    assert caught.value.code == "report_required"
    backdate_acceptance(accepted, 3)
    submit(accepted, world.trainer, period_start=days_ago(3), period_end=days_ago(1))  # not final
    with pytest.raises(ReportRequired):
        handoffs_services.handoff_complete(handoff=accepted, actor=world.trainer)
    accepted.refresh_from_db()
    assert accepted.status == HandoffStatus.ACCEPTED
    fr.submit_final_report(accepted, world.trainer)
    done = handoffs_services.handoff_complete(handoff=accepted, actor=world.trainer, summary="Goals met.")
    assert done.status == HandoffStatus.COMPLETED


def test_who_may_and_from_where_come_before_the_report(
    world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    with pytest.raises(InvalidTransition):
        handoffs_services.handoff_complete(handoff=requested, actor=world.trainer)
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_complete(handoff=requested, actor=world.physio)


def test_the_overdue_email_says_whose_report_and_links_behind_login(
    world: World, accepted: TrainerHandoff
) -> None:
    from referrals.notify import wording as notify_wording

    progress_reports.reports_overdue_notify(today=TODAY() + datetime.timedelta(weeks=5))
    for message in OutboxMessage.objects.filter(kind="report_overdue"):
        email = notify_wording.render_email(message)
        text = email.subject + str(email.body)
        assert "overdue" in email.subject
        assert f"/handoffs/{accepted.public_id}/" in str(email.body)
        for detail in (world.plan.patient.full_name, world.plan.diagnosis, world.plan.goals):
            assert detail not in text
