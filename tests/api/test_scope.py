"""The persona x endpoint matrix: who gets the object, who gets a 404 (its existence is not disclosed),
and the anonymous 401, for every object endpoint. Nothing changes for those refused."""

from __future__ import annotations

from typing import Any

import pytest

from referrals.care.models import Consent
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification
from tests.api.conftest import API, assert_error

OUTSIDERS = ["other_trainer", "unpartnered_trainer", "other_clinic_physio"]


@pytest.fixture
def persona(request: pytest.FixtureRequest) -> Any:
    def get(name: str) -> Any:
        return None if name == "anonymous" else request.getfixturevalue(name)

    return get


def refused(api_for: Any, persona: Any, name: str, method: str, url: str, body: Any = None) -> None:
    client = api_for(persona(name))
    response = getattr(client, method)(url, body, format="json") if method != "get" else client.get(url)
    if name == "anonymous":
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        assert_error(response, 404, "not_found")


# --- patients, plans, consents: the clinic's physiotherapists only ---------------------------------------


@pytest.mark.parametrize("who", [*OUTSIDERS, "trainer", "anonymous"])
def test_only_the_clinic_sees_and_edits_its_patient(api_for: Any, persona: Any, who: str, world: Any) -> None:
    patient = world.plan.patient
    url = f"{API}/patients/{patient.public_id}/"
    refused(api_for, persona, who, "get", url)
    refused(api_for, persona, who, "patch", url, {"full_name": "Changed"})
    patient.refresh_from_db()
    assert patient.full_name == "Jamie Patient"
    owner = api_for(world.physio)
    assert owner.get(url).json()["full_name"] == "Jamie Patient"
    response = owner.patch(url, {"phone": "555-0100"}, format="json")
    assert response.status_code == 200 and response.json()["phone"] == "555-0100"


@pytest.mark.parametrize("who", [*OUTSIDERS, "trainer", "anonymous"])
def test_only_the_clinic_sees_and_edits_its_plan(api_for: Any, persona: Any, who: str, world: Any) -> None:
    url = f"{API}/plans/{world.plan.public_id}/"
    refused(api_for, persona, who, "get", url)
    refused(api_for, persona, who, "patch", url, {"goals": "Changed"})
    world.plan.refresh_from_db()
    assert world.plan.goals != "Changed"
    body = api_for(world.physio).get(url).json()
    assert body["id"] == str(world.plan.public_id)
    assert len(body["exercises"]) == 2 and len(body["precautions"]) == 1 and len(body["red_flags"]) == 1


@pytest.mark.parametrize("who", [*OUTSIDERS, "trainer", "anonymous"])
def test_only_the_clinic_sees_and_withdraws_a_consent(
    api_for: Any, persona: Any, who: str, world: Any
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient)
    refused(api_for, persona, who, "get", f"{API}/consents/{consent.public_id}/")
    refused(api_for, persona, who, "post", f"{API}/consents/{consent.public_id}/withdraw/", {"reason": "x"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    assert api_for(world.physio).get(f"{API}/consents/{consent.public_id}/").json()["active"] is True


@pytest.mark.parametrize("who", [*OUTSIDERS, "trainer"])
def test_lists_show_nothing_of_another_clinic(api_for: Any, persona: Any, who: str, world: Any) -> None:
    client = api_for(persona(who))
    for resource in ("patients", "plans", "consents"):
        response = client.get(f"{API}/{resource}/")
        assert response.status_code == 200
        assert response.json()["results"] == [], resource


# --- handoffs: the clinic and the handoff's own trainer ------------------------------------------------


ACTIONS = [
    "send", "accept", "reject", "start", "hold", "resume", "complete", "fail", "cancel", "enter-in-error",
]  # fmt: skip


@pytest.mark.parametrize("who", [*OUTSIDERS, "anonymous"])
def test_outsiders_get_a_404_for_every_handoff_endpoint(
    api_for: Any, persona: Any, who: str, requested: TrainerHandoff
) -> None:
    base = f"{API}/handoffs/{requested.public_id}"
    refused(api_for, persona, who, "get", f"{base}/")
    refused(api_for, persona, who, "get", f"{base}/events/")
    for action in ACTIONS:
        refused(api_for, persona, who, "post", f"{base}/{action}/", {"reason": "Because."})
    refused(api_for, persona, who, "post", f"{base}/concern/", {"text": "Knee pain."})
    requested.refresh_from_db()
    assert requested.status == "requested"
    assert not HandoffEvent.objects.filter(handoff=requested, kind=HandoffEvent.Kind.CONCERN).exists()


def test_owner_and_trainer_see_the_handoff_and_its_timeline(api_for: Any, world: Any, requested: Any) -> None:
    for user, role in ((world.physio, "clinic"), (world.trainer, "trainer")):
        client = api_for(user)
        body = client.get(f"{API}/handoffs/{requested.public_id}/").json()
        assert body["role"] == role and body["status"] == "requested"
        events = client.get(f"{API}/handoffs/{requested.public_id}/events/").json()["results"]
        assert [(e["from_status"], e["to_status"]) for e in events] == [("", "draft"), ("draft", "requested")]


def test_a_draft_is_the_clinics_business_the_trainer_gets_a_404(api_for: Any, world: Any, draft: Any) -> None:
    assert_error(api_for(world.trainer).get(f"{API}/handoffs/{draft.public_id}/"), 404, "not_found")
    assert api_for(world.trainer).get(f"{API}/handoffs/").json()["results"] == []
    assert api_for(world.physio).get(f"{API}/handoffs/{draft.public_id}/").status_code == 200


def test_the_wrong_side_gets_a_403_for_a_handoff_it_can_see(api_for: Any, world: Any, requested: Any) -> None:
    body = assert_error(api_for(world.physio).post(f"{API}/handoffs/{requested.public_id}/accept/"), 403)
    assert body["code"] == "not_permitted"
    response = api_for(world.trainer).post(
        f"{API}/handoffs/{requested.public_id}/cancel/", {"reason": "No."}, format="json"
    )
    assert_error(response, 403, "not_permitted")
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_the_trainer_is_served_the_snapshot_never_the_live_plan(
    api_for: Any, world: Any, requested: Any
) -> None:
    world.plan.goals = "Edited after sending"
    world.plan.save(update_fields=["goals"])
    body = api_for(world.trainer).get(f"{API}/handoffs/{requested.public_id}/").json()
    assert body["plan"] is None and body["patient"] is None
    assert body["guidelines"]["goals"] == "Lift a 10 kg box to shoulder height without pain."
    assert body["guidelines"]["diagnosis"] is None  # consent covers the guidelines only
    assert "rotator cuff" not in str(body)
    clinic_view = api_for(world.physio).get(f"{API}/handoffs/{requested.public_id}/").json()
    assert clinic_view["plan"] == str(world.plan.public_id)


def test_a_trainer_loses_the_guidelines_when_consent_is_withdrawn(
    api_for: Any, world: Any, requested: Any
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient)
    response = api_for(world.physio).post(
        f"{API}/consents/{consent.public_id}/withdraw/", {"reason": "Patient asked."}, format="json"
    )
    assert response.status_code == 200 and response.json()["active"] is False
    body = api_for(world.trainer).get(f"{API}/handoffs/{requested.public_id}/").json()
    assert body["status"] == "cancelled"
    assert body["guidelines"] is None and body["patient_name"] == ""


# --- notifications: the recipient only -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["physio", *OUTSIDERS, "anonymous"])
def test_only_the_recipient_marks_a_notification_read(
    api_for: Any, persona: Any, who: str, world: Any, requested: Any
) -> None:
    notification = Notification.objects.get(recipient=world.trainer)
    refused(api_for, persona, who, "post", f"{API}/notifications/{notification.public_id}/read/")
    notification.refresh_from_db()
    assert notification.read_at is None
    response = api_for(world.trainer).post(f"{API}/notifications/{notification.public_id}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
