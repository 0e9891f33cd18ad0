"""Back to the physiotherapist (handoffs.refer_back): the trainer or a physiotherapist sends the client back;
the referral goes on hold or fails with the reason, the plan is the physiotherapist's again, the other side
is told (the physiotherapist urgently), and a later move gives the plan back to the trainer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from referrals.care.models import TreatmentPlan
from referrals.errors import InvalidTransition, NotPermitted
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import REASON_MAX_LENGTH, HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.refer_back import NOTE_MAX_LENGTH, REASON_PREFIX, handoff_refer_back
from referrals.notify.models import Notification, OutboxMessage
from tests.conftest import World, login, make_physio, make_trainer
from tests.progress import factories_reports as fr

S = HandoffStatus
P = TreatmentPlan.Status
pytestmark = pytest.mark.django_db


def _to(handoff: TrainerHandoff, world: World, status: str) -> TrainerHandoff:
    """A requested referral brought to `status` by the trainer's actions."""
    steps: list[str] = {
        S.REQUESTED: [],
        S.ACCEPTED: ["accept"],
        S.IN_PROGRESS: ["accept", "start"],
        S.ON_HOLD: ["accept", "start", "hold"],
    }[S(status)]
    for step in steps:
        kwargs = {"reason": "Away for a week"} if step == "hold" else {}
        handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=world.trainer, **kwargs)
    handoff.refresh_from_db()
    return handoff


def _plan_status(world: World) -> tuple[str, bool]:
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    return plan.status, plan.discharged_at is not None


@pytest.mark.parametrize("side", ["trainer", "physio"])
@pytest.mark.parametrize(
    ("source", "end", "target"),
    [
        (S.IN_PROGRESS, False, S.ON_HOLD),
        (S.IN_PROGRESS, True, S.FAILED),
        (S.ACCEPTED, False, S.FAILED),
        (S.ON_HOLD, False, S.FAILED),
    ],
)
def test_each_side_refers_back_from_each_source_and_the_plan_is_active_again(
    world: World,
    requested: TrainerHandoff,
    django_capture_on_commit_callbacks: Any,
    side: str,
    source: str,
    end: bool,
    target: str,
) -> None:
    handoff = _to(requested, world, source)
    assert _plan_status(world) == (P.DISCHARGED, True)
    actor = world.trainer if side == "trainer" else world.physio
    with django_capture_on_commit_callbacks(execute=True):
        handoff_refer_back(handoff=handoff, actor=actor, note="Knee swelling after squats", end=end)
    handoff.refresh_from_db()
    assert handoff.status == target
    assert handoff.status_reason == "Referred back to the physiotherapist: Knee swelling after squats"
    assert handoff.business_status == "referred-back" and handoff.is_referred_back
    # active again, still dated by its discharge (the plan's constraint allows it)
    assert _plan_status(world) == (P.ACTIVE, True)
    assert handoffs_lifecycle.plan_status_from_referrals(world.plan.pk)[0] == P.ACTIVE
    referred, moved = HandoffEvent.objects.filter(handoff=handoff).order_by("-created_at", "-id")[:2][::-1]
    assert referred.kind == HandoffEvent.Kind.REFERRED_BACK and referred.text == "Knee swelling after squats"
    assert (moved.from_status, moved.to_status) == (source, target)
    # one notification, for the other side; none for the status change beside it; never the actor
    told = Notification.objects.filter(handoff=handoff, event__in=[referred, moved])
    assert [n.event_id for n in told] == [referred.pk]
    other = world.physio if side == "trainer" else world.trainer
    (note,) = told
    assert note.recipient == other
    assert note.urgent is (side == "trainer")
    assert "Jamie" not in note.title and "Knee" not in note.title
    if side == "trainer":
        assert note.title.startswith("Urgent: ")
    assert not Notification.objects.filter(recipient=actor, event=referred).exists()
    assert OutboxMessage.objects.filter(event=referred, recipient=other).exists()


def test_resuming_a_referral_referred_back_makes_the_plan_discharged_again(
    world: World, requested: TrainerHandoff
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    handoff_refer_back(handoff=handoff, actor=world.trainer, note="Needs a review of the knee")
    assert _plan_status(world) == (P.ACTIVE, True)
    handoffs_services.handoff_resume(handoff=handoff, actor=world.trainer)
    handoff.refresh_from_db()
    assert (handoff.status, handoff.business_status) == (S.IN_PROGRESS, "")
    assert _plan_status(world) == (P.DISCHARGED, True)


def test_a_referral_referred_back_then_cancelled_awaits_a_new_trainer(
    world: World, requested: TrainerHandoff
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    handoff_refer_back(handoff=handoff, actor=world.physio, note="Reassessment first")
    handoffs_services.handoff_cancel(handoff=handoff, actor=world.physio, reason="Another trainer")
    handoff.refresh_from_db()
    assert handoff.business_status == ""
    assert _plan_status(world) == (P.AWAITING_TRAINER, True)


def test_a_failed_referral_referred_back_keeps_the_plan_active_until_the_next_one_is_sent(
    world: World, requested: TrainerHandoff, gym: Any
) -> None:
    handoff = _to(requested, world, S.ACCEPTED)
    handoff_refer_back(handoff=handoff, actor=world.trainer, note="Not ready for the gym")
    assert _plan_status(world) == (P.ACTIVE, True)
    other = make_trainer(gym)
    again = handoffs_sending.plan_discharge(plan=world.plan, trainer=other, gym=gym, actor=world.physio)
    assert _plan_status(world) == (P.DISCHARGED, True)
    # sent in error: as if never sent, the plan is the physiotherapist's again
    handoffs_services.handoff_enter_in_error(handoff=again, actor=world.physio)
    assert _plan_status(world) == (P.ACTIVE, True)
    third = handoffs_sending.plan_discharge(plan=world.plan, trainer=other, gym=gym, actor=world.physio)
    handoffs_services.handoff_reject(handoff=third, actor=other, reason="Fully booked")
    # the last one sent was declined: the plan awaits a new trainer (the old referral back is history)
    assert _plan_status(world) == (P.AWAITING_TRAINER, True)
    assert handoffs_lifecycle.plan_status_from_referrals(world.plan.pk)[0] == P.AWAITING_TRAINER


def test_sending_a_plan_whose_referral_is_referred_back_on_hold_says_why_it_cannot(
    world: World, requested: TrainerHandoff, gym: Any
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    handoff_refer_back(handoff=handoff, actor=world.trainer, note="Pain at rest")
    other = make_trainer(gym)
    for send in (handoffs_sending.plan_discharge, handoffs_sending.handoff_create):
        with pytest.raises(InvalidTransition) as raised:
            send(plan=world.plan, trainer=other, gym=gym, actor=world.physio)
        assert raised.value.code == "plan_has_open_handoff"
        assert "referred back to you" in raised.value.message
        assert "resumes it" in raised.value.message
    # ended, the plan can be sent again
    handoff_refer_back(handoff=handoff, actor=world.physio, note="Not coming back")
    handoff.refresh_from_db()
    assert handoff.status == S.FAILED
    sent = handoffs_sending.plan_discharge(plan=world.plan, trainer=other, gym=gym, actor=world.physio)
    assert sent.status == S.REQUESTED and _plan_status(world) == (P.DISCHARGED, True)


@pytest.mark.parametrize("status", [S.REQUESTED, S.COMPLETED, S.REJECTED])
def test_a_referral_not_taken_on_cannot_be_referred_back(
    world: World, requested: TrainerHandoff, status: str
) -> None:
    if status == S.COMPLETED:
        _to(requested, world, S.ACCEPTED)
        fr.submit_final_report(requested, world.trainer)  # completing needs it (progress.reports)
        handoffs_services.handoff_complete(handoff=requested, actor=world.trainer)
    elif status == S.REJECTED:
        handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Full")
    with pytest.raises(InvalidTransition) as raised:
        handoff_refer_back(handoff=requested, actor=world.trainer, note="Back")
    assert raised.value.current_status == status
    requested.refresh_from_db()
    assert requested.business_status == ""
    assert not HandoffEvent.objects.filter(kind=HandoffEvent.Kind.REFERRED_BACK).exists()


def test_nobody_else_may_refer_back(
    world: World,
    requested: TrainerHandoff,
    other_trainer: User,
    other_clinic_physio: User,
    clinic_admin: User,
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    for outsider in (other_trainer, other_clinic_physio, clinic_admin):
        with pytest.raises(NotPermitted):
            handoff_refer_back(handoff=handoff, actor=outsider, note="Back")
    handoff.refresh_from_db()
    assert (handoff.status, handoff.business_status) == (S.IN_PROGRESS, "")


def test_the_note_is_required_and_fits_the_status_reason(world: World, requested: TrainerHandoff) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    assert len(REASON_PREFIX) + NOTE_MAX_LENGTH == REASON_MAX_LENGTH
    for bad in ("   ", "x" * (NOTE_MAX_LENGTH + 1)):
        with pytest.raises(ValidationError) as raised:
            handoff_refer_back(handoff=handoff, actor=world.trainer, note=bad)
        assert "note" in raised.value.message_dict
    handoff_refer_back(handoff=handoff, actor=world.trainer, note="x" * NOTE_MAX_LENGTH)
    handoff.refresh_from_db()
    assert len(handoff.status_reason) == REASON_MAX_LENGTH


def test_a_second_physiotherapist_hears_when_a_colleague_refers_back(
    world: World, requested: TrainerHandoff, clinic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    colleague = make_physio(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        handoff_refer_back(handoff=handoff, actor=colleague, note="Seen in clinic today")
    event = HandoffEvent.objects.get(kind=HandoffEvent.Kind.REFERRED_BACK)
    told = {n.recipient for n in Notification.objects.filter(event=event)}
    assert told == {world.trainer, world.physio}  # the treating physiotherapist and the trainer
    assert all(not n.urgent for n in Notification.objects.filter(event=event))


# --- the page ------------------------------------------------------------------------------------------


def test_the_referral_page_offers_both_sides_the_button_and_it_works(
    client: Client, world: World, requested: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    page_url = reverse("handoff_detail", kwargs={"public_id": handoff.public_id})
    target = reverse("handoff_refer_back", kwargs={"public_id": handoff.public_id})
    for user in (world.physio, world.trainer):
        login(client, user)
        page = client.get(page_url)
        assert page.context["can_refer_back"] and b'data-testid="refer-back"' in page.content
    # a field error, nothing stored
    response = client.post(target, {"refer_back-note": ""})
    assert response.status_code == 400 and response.context["refer_back_form"].errors["note"]
    handoff.refresh_from_db()
    assert handoff.status == S.IN_PROGRESS
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(target, {"refer_back-note": "Swelling"})
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert (handoff.status, handoff.business_status) == (S.ON_HOLD, "referred-back")
    page = client.get(page_url)
    assert b'data-testid="business-status"' in page.content and b'data-testid="referred-back"' in page.content
    # the patient page keeps the referral, marked referred back
    login(client, world.physio)
    patient = client.get(reverse("patient_detail", kwargs={"public_id": world.plan.patient.public_id}))
    assert b'data-testid="referred-back"' in patient.content
    # on hold, it can still be ended (failed) from the page, by the physiotherapist
    with django_capture_on_commit_callbacks(execute=True):
        client.post(target, {"refer_back-note": "Not coming back"})
    handoff.refresh_from_db()
    assert handoff.status == S.FAILED
    assert not client.get(page_url).context["can_refer_back"]


def test_the_discharge_page_says_why_a_referred_back_plan_cannot_be_sent(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    handoff_refer_back(handoff=handoff, actor=world.trainer, note="Pain")
    login(client, world.physio)
    page = client.get(reverse("plan_discharge", kwargs={"public_id": world.plan.public_id}))
    assert b'data-testid="open-referred-back"' in page.content


def test_a_wrong_user_gets_404_or_403_on_the_page(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User, other_clinic_physio: User
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    target = reverse("handoff_refer_back", kwargs={"public_id": handoff.public_id})
    for outsider in (other_trainer, other_clinic_physio):
        login(client, outsider)
        assert client.post(target, {"refer_back-note": "Back"}).status_code == 404
    handoff.refresh_from_db()
    assert handoff.status == S.IN_PROGRESS


# --- the API -------------------------------------------------------------------------------------------


def test_the_api_refers_back_and_answers_403_404_409_and_400(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User, clinic_admin: User
) -> None:
    handoff = _to(requested, world, S.IN_PROGRESS)
    url = f"/api/v1/handoffs/{handoff.public_id}/refer-back/"
    assert reverse("api:handoff_refer_back", args=[handoff.public_id]) == url
    login(client, other_trainer)
    assert client.post(url, {"note": "x"}, content_type="application/json").status_code == 404
    login(client, clinic_admin)  # sees the clinic's referrals, is neither side of this action
    forbidden = client.post(url, {"note": "x"}, content_type="application/json")
    assert forbidden.status_code in (403, 404)
    login(client, world.trainer)
    bad = client.post(url, {"note": ""}, content_type="application/json")
    assert bad.status_code == 400 and "note" in bad.json()["fields"]
    done = client.post(url, {"note": "Swelling", "end": True}, content_type="application/json")
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["business_status"]) == (S.FAILED, "referred-back")
    assert body["status_reason"] == "Referred back to the physiotherapist: Swelling"
    again = client.post(url, {"note": "Again"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
