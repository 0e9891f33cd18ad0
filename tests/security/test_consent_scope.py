"""Consent scope, everywhere the trainer looks: the diagnosis reaches the trainer only when the patient's
consent includes it, and only on the referral itself (page, handout, API detail and list); never in the
inbox, notifications, the timeline or an email. Withdrawing consent cancels the open referrals to that gym
with a reason, takes the guidelines away from the trainer on the page, the handout and the API alike (the
referral stays visible as cancelled, without clinical detail), and tells the trainer without clinical
detail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse

from accounts.models import User
from referrals.care.models import Consent
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from tests import factories as f
from tests.conftest import World, login, make_trainer
from tests.progress.factories_reports import submit_final_report

DIAGNOSIS = "Right rotator cuff tendinopathy"
ICD = "M75.1"
SCOPES = [Consent.Scope.GUIDELINES, Consent.Scope.WITH_DIAGNOSIS]


@dataclass
class Sent:
    handoff: TrainerHandoff
    trainer: User
    with_diagnosis: bool


@pytest.fixture(params=SCOPES)
def sent(request: Any, world: World, django_capture_on_commit_callbacks: Any) -> Sent:
    Consent.objects.filter(patient=world.plan.patient, gym=world.gym).update(scope=request.param)
    assert world.plan.diagnosis == DIAGNOSIS and world.plan.icd10_code == ICD
    with django_capture_on_commit_callbacks(execute=True):
        handoff = handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
    return Sent(handoff, world.trainer, request.param == Consent.Scope.WITH_DIAGNOSIS)


def page(client: Client, name: str, *args: Any) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


def api(client: Client, path: str) -> str:
    response = client.get(f"/api/v1/{path}")
    assert response.status_code == 200, (path, response.status_code)
    return json.dumps(response.json())


def test_the_referral_page_and_handout_show_the_diagnosis_only_with_consent(
    client: Client, sent: Sent
) -> None:
    login(client, sent.trainer)
    detail = page(client, "handoff_detail", sent.handoff.public_id)
    handout = page(client, "handoff_handout", sent.handoff.public_id)
    assert (DIAGNOSIS in detail) is sent.with_diagnosis
    assert (ICD in detail) is sent.with_diagnosis
    assert (DIAGNOSIS in handout) is sent.with_diagnosis
    assert (
        "Night pain or numbness down the arm" in detail and "Night pain or numbness down the arm" in handout
    )


def test_the_api_detail_and_list_carry_the_diagnosis_only_with_consent(client: Client, sent: Sent) -> None:
    login(client, sent.trainer)
    detail = client.get(f"/api/v1/handoffs/{sent.handoff.public_id}/").json()
    listed = client.get("/api/v1/handoffs/").json()["results"]
    assert [row["id"] for row in listed] == [str(sent.handoff.public_id)]
    # a list row is a summary: no guidelines, so never the diagnosis, whatever the consent
    assert "guidelines" not in listed[0]
    assert DIAGNOSIS not in json.dumps(listed[0]) and ICD not in json.dumps(listed[0])
    diagnosis = detail["guidelines"]["diagnosis"]
    if sent.with_diagnosis:
        assert diagnosis == {"text": DIAGNOSIS, "icd10_code": ICD}
    else:
        assert diagnosis is None
        assert DIAGNOSIS not in json.dumps(detail) and ICD not in json.dumps(detail)


def test_inbox_notifications_timeline_and_emails_never_carry_the_diagnosis(
    client: Client, sent: Sent
) -> None:
    login(client, sent.trainer)
    surfaces = {
        "home page": page(client, "home"),
        "notifications page": page(client, "notification_list"),
        "API timeline": api(client, f"handoffs/{sent.handoff.public_id}/events/"),
        "API notifications": api(client, "notifications/"),
        "in-app titles": " ".join(
            Notification.objects.filter(recipient=sent.trainer).values_list("title", flat=True)
        ),
    }
    emails = [m for m in mail.outbox if sent.trainer.email in m.to]
    assert emails, "the trainer was emailed about the referral"
    for number, message in enumerate(emails):
        html = "".join(str(content) for content, _ in getattr(message, "alternatives", []))
        surfaces[f"email {number}"] = f"{message.subject}\n{message.body}\n{html}"
    for surface, text in surfaces.items():
        assert DIAGNOSIS not in text and ICD not in text, surface
        assert "rotator cuff" not in text.lower(), surface


# --- withdrawal ----------------------------------------------------------------------------------------


def withdraw(client: Client, world: World, capture: Any) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym, withdrawn_at__isnull=True)
    with capture(execute=True):
        response = login(client, world.physio).post(
            reverse("consent_withdraw", args=[consent.public_id]),
            {"reason": "The patient changed their mind."},
        )
    assert response.status_code == 302


@pytest.mark.parametrize("status", ["requested", "accepted", "in-progress", "on-hold"])
def test_withdrawing_consent_cancels_every_open_referral_to_that_gym_with_a_reason(
    client: Client, sent: Sent, world: World, django_capture_on_commit_callbacks: Any, status: str
) -> None:
    handoff = sent.handoff
    if status != "requested":
        handoff = handoffs_services.handoff_accept(handoff=handoff, actor=sent.trainer)
    if status in ("in-progress", "on-hold"):
        handoff = handoffs_services.handoff_start(handoff=handoff, actor=sent.trainer)
    if status == "on-hold":
        handoff = handoffs_services.handoff_hold(handoff=handoff, actor=sent.trainer, reason="Travelling")
    assert handoff.status == status
    withdraw(client, world, django_capture_on_commit_callbacks)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.CANCELLED
    assert "withdrew their consent" in handoff.status_reason
    event = handoff.events.order_by("-created_at", "-id").first()
    assert event is not None and event.to_status == HandoffStatus.CANCELLED and event.actor == world.physio


def test_withdrawal_leaves_referrals_to_other_gyms_alone(
    client: Client, sent: Sent, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    clinic = world.plan.patient.clinic
    second_gym = f.GymFactory(name="Second Gym")
    f.PartnershipFactory(clinic=clinic, gym=second_gym)
    f.ConsentFactory(patient=world.plan.patient, gym=second_gym, recorded_by=world.physio)
    second_plan = f.PlanFactory(patient=world.plan.patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=second_plan)
    elsewhere = handoffs_sending.plan_discharge(
        plan=second_plan, trainer=make_trainer(second_gym), gym=second_gym, actor=world.physio
    )
    withdraw(client, world, django_capture_on_commit_callbacks)
    elsewhere.refresh_from_db()
    assert elsewhere.status == HandoffStatus.REQUESTED


def test_after_withdrawal_the_trainer_keeps_the_referral_but_loses_every_clinical_detail(
    client: Client, sent: Sent, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    exercise = world.plan.exercises.first()
    assert exercise is not None
    patient_name = world.plan.patient.full_name
    clinical = [DIAGNOSIS, ICD, patient_name, exercise.exercise.name, "Night pain", "No overhead load"]
    login(client, sent.trainer)
    assert patient_name in page(client, "handoff_detail", sent.handoff.public_id)  # before: shared

    mail.outbox.clear()
    withdraw(client, world, django_capture_on_commit_callbacks)
    login(client, sent.trainer)
    detail = page(client, "handoff_detail", sent.handoff.public_id)
    assert "Cancelled" in detail and "no longer shared" in detail
    assert client.get(reverse("handoff_handout", args=[sent.handoff.public_id])).status_code == 404
    api_detail = client.get(f"/api/v1/handoffs/{sent.handoff.public_id}/").json()
    assert api_detail["status"] == "cancelled" and api_detail["guidelines"] is None
    assert api_detail["patient_name"] == ""
    api_list = api(client, "handoffs/")
    for surface, text in {"page": detail, "API detail": json.dumps(api_detail), "API list": api_list}.items():
        for detail_text in clinical:
            assert detail_text not in text, (surface, detail_text)

    # The trainer is told, in the app and by email, without clinical detail.
    note = Notification.objects.filter(recipient=sent.trainer, event__to_status=HandoffStatus.CANCELLED).get()
    assert note.title == f"{world.plan.patient.clinic.name} cancelled a referral"
    emails = [m for m in mail.outbox if sent.trainer.email in m.to]
    assert len(emails) == 1
    email = emails[0]
    assert isinstance(email, EmailMultiAlternatives)
    text = str(email.subject) + str(email.body) + "".join(str(c) for c, _ in email.alternatives)
    assert "cancelled a referral" in text
    for detail_text in clinical:
        assert detail_text not in text and detail_text not in note.title, detail_text


def test_withdrawal_after_completion_takes_the_guidelines_away_too(
    client: Client, sent: Sent, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A closed referral is not cancelled (it stays completed) but the trainer no longer sees its snapshot."""
    for move in ("accept", "start", "complete"):
        if move == "complete":
            submit_final_report(sent.handoff, sent.trainer)
        getattr(handoffs_services, f"handoff_{move}")(handoff=sent.handoff, actor=sent.trainer)
    withdraw(client, world, django_capture_on_commit_callbacks)
    sent.handoff.refresh_from_db()
    assert sent.handoff.status == HandoffStatus.COMPLETED
    login(client, sent.trainer)
    detail = page(client, "handoff_detail", sent.handoff.public_id)
    assert "no longer shared" in detail and world.plan.patient.full_name not in detail
    assert client.get(reverse("handoff_handout", args=[sent.handoff.public_id])).status_code == 404
    assert client.get(f"/api/v1/handoffs/{sent.handoff.public_id}/").json()["guidelines"] is None
