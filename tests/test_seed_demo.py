"""`manage.py seed_demo`: the demo world it builds, and that a second run changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from accounts.models import Organization, User
from referrals.care.models import Patient, TreatmentPlan
from referrals.handoffs.eligibility import handoff_send_blockers
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.progress.models import ProgressReport, SessionExercise, SessionLog

pytestmark = pytest.mark.django_db

S = HandoffStatus
PASSWORD = "a-test-demo-password"


def seed(capture: Any) -> str:
    """Run the command as `make run` does: on-commit callbacks (notification delivery) run for real."""
    out = StringIO()
    with capture(execute=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "referrals", "auth")
    }


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> str:
    monkeypatch.setenv("HANDOFF_DEMO_PASSWORD", PASSWORD)
    return seed(django_capture_on_commit_callbacks)


def active_plan_of(name: str) -> TreatmentPlan:
    return TreatmentPlan.objects.select_related("patient__clinic").get(
        patient__full_name=name, status=TreatmentPlan.Status.ACTIVE
    )


def test_a_second_run_leaves_every_row_count_unchanged(
    seeded: str, django_capture_on_commit_callbacks: Any
) -> None:
    before = row_counts()
    emails_before = len(mail.outbox)
    assert before["referrals.Notification"] > 0
    assert before["referrals.OutboxMessage"] > 0

    output = seed(django_capture_on_commit_callbacks)

    assert row_counts() == before
    assert len(mail.outbox) == emails_before
    assert "already there" in output
    assert "pt@lakeside.demo" in output


def test_it_builds_the_clinic_two_partner_gyms_and_a_dozen_patients(seeded: str) -> None:
    clinic = Organization.objects.get(name="Lakeside Physiotherapy", kind=Organization.Kind.CLINIC)
    assert set(clinic.gym_partnerships.filter(active=True).values_list("gym__name", flat=True)) == {
        "Iron Works Gym",
        "Riverside Fitness",
    }
    assert Organization.objects.filter(kind=Organization.Kind.GYM).count() == 2
    assert Patient.objects.filter(clinic=clinic).count() == 12
    for plan in TreatmentPlan.objects.all():
        assert 2 <= plan.exercises.count() <= 4
        assert plan.precautions.exists()
        assert plan.red_flags.exists()
        assert plan.patient.consents.filter(withdrawn_at__isnull=True).exists()
    assert (
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE, handoffs__isnull=True).count() >= 2
    )
    admin = User.objects.get(email="admin@handoff.demo")
    assert admin.is_staff
    assert admin.is_superuser


def test_handoffs_exist_in_every_demo_status(seeded: str) -> None:
    statuses = set(TrainerHandoff.objects.values_list("status", flat=True))
    assert statuses >= {
        S.REQUESTED,
        S.ACCEPTED,
        S.IN_PROGRESS,
        S.ON_HOLD,
        S.COMPLETED,
        S.REJECTED,
        S.CANCELLED,
        S.DRAFT,
    }
    assert HandoffEvent.objects.filter(kind=HandoffEvent.Kind.CONCERN, urgent=True).exists()
    held = TrainerHandoff.objects.get(status=S.ON_HOLD)
    assert held.status_reason


def test_a_declined_referral_was_offered_to_the_other_trainer_who_accepted(seeded: str) -> None:
    declined = TrainerHandoff.objects.select_related("trainer").get(status=S.REJECTED)
    handoffs = list(declined.plan.handoffs.order_by("created_at", "id").select_related("trainer"))
    assert [h.status for h in handoffs] == [S.REJECTED, S.ACCEPTED]
    assert handoffs[0].trainer.email == "full@ironworks.demo"
    assert handoffs[1].trainer.email == "trainer@ironworks.demo"


def test_the_demo_physio_logs_in_with_the_demo_password(seeded: str, client: Client) -> None:
    response = client.post("/login/", {"username": "pt@lakeside.demo", "password": PASSWORD})
    assert response.status_code == 302

    home = client.get("/")

    assert home.status_code == 200
    assert "Maya Chen" in home.content.decode()


def test_the_password_defaults_to_the_demo_password_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, client: Client
) -> None:
    monkeypatch.delenv("HANDOFF_DEMO_PASSWORD", raising=False)

    output = seed(django_capture_on_commit_callbacks)

    assert "handoff-demo-2026" in output
    assert "demo-only" in output
    # django-axes needs the request an authentication comes with
    request = HttpRequest()
    assert client.login(request=request, username="trainer@ironworks.demo", password="handoff-demo-2026")


def test_a_second_run_keeps_the_password_the_users_were_created_with(
    seeded: str, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, client: Client
) -> None:
    monkeypatch.setenv("HANDOFF_DEMO_PASSWORD", "another-password")

    output = seed(django_capture_on_commit_callbacks)

    assert "already existed with another password" in output
    assert client.login(request=HttpRequest(), username="pt@lakeside.demo", password=PASSWORD)


def test_the_not_accepting_trainer_is_blocked_only_for_not_accepting(seeded: str) -> None:
    trainer = User.objects.get(email="full@ironworks.demo")
    gym = Organization.objects.get(name="Iron Works Gym")

    blockers = handoff_send_blockers(plan=active_plan_of("James Carter"), trainer=trainer, gym=gym)

    assert [b.code for b in blockers] == ["trainer_not_accepting"]


def test_the_expired_trainer_is_blocked_only_for_the_expired_certification(seeded: str) -> None:
    trainer = User.objects.get(email="expired@riverside.demo")
    gym = Organization.objects.get(name="Riverside Fitness")

    blockers = handoff_send_blockers(plan=active_plan_of("James Carter"), trainer=trainer, gym=gym)

    assert [b.code for b in blockers] == ["certification_expired"]


def test_the_normal_trainer_can_be_sent_an_active_plan(seeded: str) -> None:
    trainer = User.objects.get(email="trainer@ironworks.demo")
    gym = Organization.objects.get(name="Iron Works Gym")

    assert handoff_send_blockers(plan=active_plan_of("Sofia Rossi"), trainer=trainer, gym=gym) == []


def test_the_output_lists_every_login_and_the_url(seeded: str) -> None:
    for email in (
        "pt@lakeside.demo",
        "pt2@lakeside.demo",
        "trainer@ironworks.demo",
        "full@ironworks.demo",
        "expired@riverside.demo",
        "admin@handoff.demo",
    ):
        assert email in seeded
    assert PASSWORD in seeded
    assert "http://127.0.0.1:8000/" in seeded
    assert "Demo data created" in seeded


def test_it_refuses_to_run_with_the_production_settings(settings: Any) -> None:
    settings.SETTINGS_MODULE = "config.settings.production"

    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())

    assert not User.objects.exists()


def test_three_referrals_have_weeks_of_sessions_with_a_missed_week_a_pain_spike_and_a_report(
    seeded: str,
) -> None:
    """The charts show on the first run: weeks of logs written on their days through the services."""
    with_history = TrainerHandoff.objects.filter(sessions__isnull=False).distinct()
    assert with_history.count() == 3
    for handoff in with_history:
        days = list(handoff.sessions.values_list("session_date", flat=True))
        assert days == sorted(days)
        accepted = handoff.events.get(to_status=S.ACCEPTED).created_at
        assert min(days) > timezone.localtime(accepted).date()  # logged after the acceptance, weeks ago
        assert (timezone.localdate() - min(days)).days >= 28
        # the first attended session started it, through the service (its event on the session's day)
        started = handoff.events.get(to_status=S.IN_PROGRESS)
        first = handoff.sessions.filter(attendance=SessionLog.Attendance.ATTENDED).earliest("session_date")
        assert timezone.localtime(started.created_at).date() == first.session_date
    missed = SessionLog.objects.filter(attendance=SessionLog.Attendance.NO_SHOW)
    assert missed.values("handoff").distinct().count() == 2  # Ethan and Chloe each missed a week
    # the pain spike went above Grace's pain rule (3/10) and the fast lane raised the urgent concern
    spike = SessionLog.objects.get(concern__isnull=False)
    assert spike.pain_after is not None and spike.pain_after > 3
    assert spike.handoff.plan.patient.full_name == "Grace Liu"
    assert spike.concern is not None and spike.concern.event.urgent
    # a report acknowledged by the physiotherapist, its figures frozen from the logs
    acknowledged = ProgressReport.objects.filter(acknowledged_at__isnull=False)
    assert acknowledged.exists()
    report = acknowledged.first()
    assert report is not None and report.figures
    assert report.acknowledged_at is not None and report.acknowledged_at > report.submitted_at
    # loads progressed: Grace's eccentric wrist extension (2 kg prescribed) went up 10% every two weeks
    loads = [
        load
        for load in SessionExercise.objects.filter(session__handoff=spike.handoff, load_unit="kg")
        .order_by("session__session_date", "id")
        .values_list("load_value", flat=True)
        if load is not None
    ]
    assert loads and loads[0] == 2 and loads[-1] > loads[0]
