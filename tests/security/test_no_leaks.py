"""No patient data outside the application: a whole referral, driven through the pages and the API, with
every log record captured at DEBUG, every Celery task call recorded, every email kept and every link of
every page collected. The patient's name, email, phone, diagnosis, ICD code and the trainer's concern
appear in none of them; task arguments are integer ids; links carry public UUIDs, never an integer key."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from celery.app.task import Task
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from referrals.care.models import Consent, Patient
from referrals.handoffs.models import TrainerHandoff
from tests import factories as f
from tests.conftest import login

NAME = "Zelda Quixote-Marsh"
EMAIL = "zelda.qm@patients.test"
PHONE = "+1 555 0199 321"
DIAGNOSIS = "Patellofemoral pain syndrome of the left knee"
ICD = "M22.2"
CONCERN = "Swelling behind the kneecap after lunges"
SECRETS = (NAME, EMAIL, PHONE, DIAGNOSIS, ICD, CONCERN)
LINK = re.compile(r"""(?:href|src|action)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
URL_IN_TEXT = re.compile(r"https?://\S+")


class Recorder:
    def __init__(self) -> None:
        self.task_calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.links: set[str] = set()
        self.pages = 0

    def collect(self, response: Any) -> None:
        if response.get("Location"):
            self.links.add(response["Location"])
        if "text/html" in response.get("Content-Type", ""):
            self.pages += 1
            self.links.update(LINK.findall(response.content.decode()))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorded = Recorder()
    original = Task.apply_async

    def apply_async(self: Task, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:  # type: ignore[type-arg]
        recorded.task_calls.append((self.name, tuple(args or ()), dict(kwargs or {})))
        return original(self, args, kwargs, *rest, **options)

    monkeypatch.setattr(Task, "apply_async", apply_async)
    return recorded


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in ("", "django", "django.request", "django.db.backends", "celery", "referrals", "accounts"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def test_a_whole_referral_leaks_no_patient_data(
    client: Client,
    physio: User,
    trainer: User,
    gym: Organization,
    recorder: Recorder,
    debug_logs: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def go(user: User, method: str, url: str, data: Any = None, **extra: Any) -> Any:
        login(client, user)
        with django_capture_on_commit_callbacks(execute=True):
            response = (
                getattr(client, method)(url, data, **extra)
                if data is not None
                else getattr(client, method)(url, **extra)
            )
        assert response.status_code < 400, (method, url, response.status_code)
        recorder.collect(response)
        return response

    # The physio adds the patient, records consent with the diagnosis, writes a plan and sends it.
    go(physio, "get", reverse("patient_create"))
    created = go(
        physio,
        "post",
        reverse("patient_create"),
        {"full_name": NAME, "date_of_birth": "1979-04-02", "email": EMAIL, "phone": PHONE},
    )
    patient = Patient.objects.get(full_name=NAME)
    assert created["Location"] == reverse("patient_detail", args=[patient.public_id])
    go(
        physio,
        "post",
        reverse("consent_record", args=[patient.public_id]),
        {"gym": str(gym.public_id), "scope": Consent.Scope.WITH_DIAGNOSIS},
    )
    plan = f.PlanFactory(patient=patient, physiotherapist=physio, diagnosis=DIAGNOSIS, icd10_code=ICD)
    f.PlanExerciseFactory(plan=plan)
    f.PrecautionFactory(plan=plan)
    f.RedFlagFactory(plan=plan)
    choice = {"trainer": str(trainer.public_id), "gym": str(gym.public_id)}
    for name in ("home", "patient_list", "notification_list", "profile"):
        go(physio, "get", reverse(name))
    for name in ("patient_detail", "plan_create", "patient_edit"):
        go(physio, "get", reverse(name, args=[patient.public_id]))
    for name in ("plan_detail", "plan_edit", "plan_discharge"):
        go(physio, "get", reverse(name, args=[plan.public_id]))
    go(physio, "get", reverse("plan_discharge_review", args=[plan.public_id]), choice)
    go(physio, "post", reverse("plan_discharge_send", args=[plan.public_id]), choice)
    handoff = TrainerHandoff.objects.get(plan=plan)

    # The trainer reads it, accepts, starts, raises a concern; the physio reads everything and cancels.
    detail = reverse("handoff_detail", args=[handoff.public_id])
    for name in ("home", "notification_list", "profile"):
        go(trainer, "get", reverse(name))
    go(trainer, "get", detail)
    go(trainer, "get", reverse("handoff_handout", args=[handoff.public_id]))
    go(trainer, "post", reverse("handoff_action", args=[handoff.public_id, "accept"]), {})
    go(trainer, "post", reverse("handoff_action", args=[handoff.public_id, "start"]), {})
    go(trainer, "post", reverse("handoff_concern", args=[handoff.public_id]), {"concern-text": CONCERN})
    go(trainer, "get", f"/api/v1/handoffs/{handoff.public_id}/")
    go(trainer, "get", "/api/v1/notifications/")
    for name in ("home", "notification_list"):
        go(physio, "get", reverse(name))
    go(physio, "get", detail)
    for path in (
        f"patients/{patient.public_id}/",
        f"plans/{plan.public_id}/",
        f"handoffs/{handoff.public_id}/events/",
    ):
        go(physio, "get", f"/api/v1/{path}")
    go(
        physio,
        "post",
        reverse("handoff_action", args=[handoff.public_id, "cancel"]),
        {"cancel-text": "Moved away"},
    )
    go(trainer, "get", detail)

    # What left the application, or could: emails, task arguments, log lines, URLs.
    assert len(mail.outbox) >= 5  # requested, accepted, started, concern, cancelled
    emails = [
        f"{m.subject}\n{m.body}\n" + "".join(str(c) for c, _ in getattr(m, "alternatives", []))
        for m in mail.outbox
    ]
    for text in emails:
        recorder.links.update(URL_IN_TEXT.findall(text))
    assert recorder.task_calls, "the flow published Celery tasks"
    for name, args, kwargs in recorder.task_calls:
        assert all(type(arg) is int for arg in args), (name, args)
        assert all(type(value) is int for value in kwargs.values()), (name, kwargs)
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in debug_logs.records)
    assert recorder.pages >= 20 and len(recorder.links) > 20 and debug_logs.records

    for secret in SECRETS:
        for number, text in enumerate(emails):
            assert secret not in text, (secret, f"email {number}", text)
        assert secret not in logs, (secret, "logs")
        for link in recorder.links:
            assert secret not in link, (secret, link)
        assert secret not in repr(recorder.task_calls)
    # Links name objects by public UUID: no path segment is a bare integer key (pages, API, emails).
    for link in recorder.links:
        path = re.sub(r"^https?://[^/]+", "", link).split("?")[0].split("#")[0]
        if path.startswith("/static/"):
            continue
        assert not any(segment.isdigit() for segment in path.split("/")), link


def test_the_recorder_would_catch_a_task_called_with_patient_data(recorder: Recorder) -> None:
    """The patch is live: a task published with a name instead of an id is seen."""
    from referrals.tasks import deliver_outbox_message

    deliver_outbox_message.apply_async(args=(NAME,))  # eager; the failure is not propagated
    assert recorder.task_calls == [("referrals.tasks.deliver_outbox_message", (NAME,), {})]
