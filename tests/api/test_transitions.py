"""Every transition through the API, by the side allowed to make it; an illegal one is a 409 that names
the current status; a blocked send is a 409 with one code per unmet condition."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification
from tests.api.conftest import API, assert_error


def post(client: Any, handoff: Any, action: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}/handoffs/{handoff.public_id}/{action}/", body or {}, format="json")


@pytest.fixture
def clients(api_for: Any, world: Any) -> tuple[Any, Any]:
    return api_for(world.physio), api_for(world.trainer)


def test_a_draft_created_and_sent_through_the_api(
    clients: Any, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pt, _ = clients
    body = {
        "plan": str(world.plan.public_id),
        "trainer": str(world.trainer.public_id),
        "gym": str(world.gym.public_id),
    }
    response = pt.post(f"{API}/handoffs/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft" and response.json()["guidelines"] is None
    handoff = TrainerHandoff.objects.get(public_id=response.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(pt, handoff, "send")
    assert response.status_code == 200
    assert response.json()["status"] == "requested"
    assert response.json()["guidelines"]["exercises"]
    assert Notification.objects.filter(recipient=world.trainer).count() == 1
    # a second open handoff for the same plan is a conflict
    response = pt.post(f"{API}/handoffs/", body, format="json")
    assert assert_error(response, 409, "plan_has_open_handoff")["current_status"] == "requested"


def test_the_happy_path_accept_start_hold_resume_complete(clients: Any, requested: Any) -> None:
    _, trainer = clients
    steps = [
        ("accept", None, "accepted"),
        ("start", None, "in-progress"),
        ("hold", {"reason": "Knee flared up."}, "on-hold"),
        ("resume", None, "in-progress"),
    ]
    for action, body, status in steps:
        response = post(trainer, requested, action, body)
        assert response.status_code == 200, (action, response.content)
        assert response.json()["status"] == status
    # completing needs the final progress report: a 409 until the trainer sent one
    summary = {"summary": "12 sessions, goals met."}
    assert_error(post(trainer, requested, "complete", summary), 409, "report_required")
    report = {
        "period_start": timezone.localdate().isoformat(),
        "period_end": timezone.localdate().isoformat(),
        "impressions": "Goals met.",
        "goals": ["met"],
        "final": True,
    }
    created = trainer.post(f"{API}/handoffs/{requested.public_id}/reports/", report, format="json")
    assert created.status_code == 201, created.content
    response = post(trainer, requested, "complete", summary)
    assert response.status_code == 200 and response.json()["status"] == "completed"
    events = HandoffEvent.objects.filter(handoff=requested, kind="transition").order_by("created_at", "id")
    assert [e.to_status for e in events] == [
        "draft", "requested", "accepted", "in-progress", "on-hold", "in-progress", "completed",
    ]  # fmt: skip
    assert events.last().text == "12 sessions, goals met."  # type: ignore[union-attr]


def test_reject_needs_a_reason_and_then_ends_the_handoff(clients: Any, requested: Any) -> None:
    _, trainer = clients
    body = assert_error(post(trainer, requested, "reject", {}), 400, "invalid")
    assert "reason" in body["fields"]
    response = post(trainer, requested, "reject", {"reason": "Fully booked."})
    assert response.json()["status"] == "rejected"
    assert response.json()["guidelines"] is None  # a trainer who declined keeps nothing
    body = assert_error(post(trainer, requested, "accept"), 409, "invalid_transition")
    assert body["current_status"] == "rejected"


def test_fail_from_in_progress(clients: Any, requested: Any) -> None:
    _, trainer = clients
    post(trainer, requested, "accept")
    post(trainer, requested, "start")
    response = post(trainer, requested, "fail", {"reason": "Client stopped coming."})
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert response.json()["status_reason"] == "Client stopped coming."


def test_the_clinic_cancels_or_marks_entered_in_error(clients: Any, world: Any, requested: Any) -> None:
    pt, _ = clients
    assert_error(post(pt, requested, "cancel", {"reason": ""}), 400, "invalid")
    response = post(pt, requested, "cancel", {"reason": "Patient moved away."})
    assert response.json()["status"] == "cancelled"
    assert assert_error(post(pt, requested, "enter-in-error"), 409)["current_status"] == "cancelled"


def test_enter_in_error_from_a_draft(clients: Any, draft: Any) -> None:
    pt, _ = clients
    response = post(pt, draft, "enter-in-error", {})
    assert response.status_code == 200 and response.json()["status"] == "entered-in-error"


def test_illegal_moves_are_409_with_the_current_status(clients: Any, requested: Any) -> None:
    pt, trainer = clients
    for client, action, body in (
        (trainer, "start", None),
        (trainer, "resume", None),
        (trainer, "hold", {"reason": "x"}),
        (trainer, "complete", None),
        (pt, "send", None),
    ):
        error = assert_error(post(client, requested, action, body), 409, "invalid_transition")
        assert error["current_status"] == "requested", action
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_a_concern_reaches_the_clinic_and_can_put_the_handoff_on_hold(
    clients: Any, world: Any, requested: Any
) -> None:
    pt, trainer = clients
    post(trainer, requested, "accept")
    post(trainer, requested, "start")
    response = trainer.post(
        f"{API}/handoffs/{requested.public_id}/concern/",
        {"text": "Sharp knee pain.", "hold": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "concern" and response.json()["urgent"] is True
    requested.refresh_from_db()
    assert requested.status == "on-hold"
    assert Notification.objects.filter(recipient=world.physio, urgent=True).exists()
    body = assert_error(
        pt.post(f"{API}/handoffs/{requested.public_id}/concern/", {"text": "x"}, format="json"), 403
    )
    assert body["code"] == "not_permitted"


def test_a_blocked_send_names_every_blocker(clients: Any, world: Any, draft: Any) -> None:
    pt, _ = clients
    profile = world.trainer.trainer_profile
    profile.accepting_new_clients = False
    profile.cpr_aed_expiry = None
    profile.save()
    body = assert_error(post(pt, draft, "send"), 409, "send_blocked")
    assert {b["code"] for b in body["blockers"]} == {"trainer_not_accepting", "cpr_aed_expired"}
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.snapshot is None


def test_send_at_once_discharges_the_plan(clients: Any, world: Any) -> None:
    pt, _ = clients
    body = {
        "plan": str(world.plan.public_id),
        "trainer": str(world.trainer.public_id),
        "gym": str(world.gym.public_id),
        "send": True,
    }
    response = pt.post(f"{API}/handoffs/", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "requested"
    world.plan.refresh_from_db()
    assert world.plan.status == "discharged"


def test_a_trainer_outside_the_partner_gyms_cannot_be_chosen(
    clients: Any, world: Any, unpartnered_trainer: Any, unpartnered_gym: Any
) -> None:
    pt, _ = clients
    body = {
        "plan": str(world.plan.public_id),
        "trainer": str(unpartnered_trainer.public_id),
        "gym": str(unpartnered_gym.public_id),
    }
    error = assert_error(pt.post(f"{API}/handoffs/", body, format="json"), 400, "invalid")
    assert "trainer" in error["fields"]
    assert not TrainerHandoff.objects.exists()
