"""The one-click re-offer of a referral still waiting for its trainer (issue 16): from the referral page,
to one of the trainers the clinic could choose; one transaction, so a refused send changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.handoffs.reoffer import REOFFER_REASON
from referrals.notify.models import Notification
from referrals.timers import services as timers_services
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import World, login, login_with_second_factor

pytestmark = pytest.mark.django_db


def _post(client: Client, handoff: TrainerHandoff, trainer: User, gym: Organization) -> Any:
    return client.post(
        reverse("handoff_reoffer", args=[handoff.public_id]),
        {"trainer": str(trainer.public_id), "gym": str(gym.public_id)},
    )


def _escalate(handoff: TrainerHandoff) -> None:
    """Five days without an answer: the timers tell the clinic (timers.services)."""
    assert handoff.sent_at is not None
    with time_machine.travel(handoff.sent_at + datetime.timedelta(days=5), tick=False):
        timers_services.requested_sweep()


def _unchanged(handoff: TrainerHandoff) -> bool:
    handoff.refresh_from_db()
    return handoff.status == HandoffStatus.REQUESTED and TrainerHandoff.objects.count() == 1


def test_the_pt_offers_a_waiting_referral_to_a_suggested_trainer_in_one_click(
    client: Client,
    world: World,
    requested: TrainerHandoff,
    other_trainer: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    login_with_second_factor(client, world.physio)
    url = reverse("handoff_detail", args=[requested.public_id])
    assert "Offer to" not in client.get(url).content.decode()  # until the clinic is told of no answer
    _escalate(requested)
    page = client.get(url).content.decode()
    assert f"Offer to {other_trainer.full_name} at {world.gym.name}" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, requested, other_trainer, world.gym)
    new = TrainerHandoff.objects.get(trainer=other_trainer)
    assert response.status_code == 302 and response["Location"] == reverse(
        "handoff_detail", args=[new.public_id]
    )
    assert new.status == HandoffStatus.REQUESTED and new.plan_id == requested.plan_id
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.CANCELLED and requested.status_reason == REOFFER_REASON
    assert (
        Notification.objects.filter(recipient=world.trainer, handoff=requested).count() == 3
    )  # sent, reminded, cancelled
    assert Notification.objects.filter(recipient=other_trainer, handoff=new).count() == 1


def test_the_trainer_never_sees_nor_uses_the_reoffer(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    _escalate(requested)
    login(client, world.trainer)
    assert (
        "Offer to" not in client.get(reverse("handoff_detail", args=[requested.public_id])).content.decode()
    )
    assert _post(client, requested, other_trainer, world.gym).status_code in (403, 404)
    assert _unchanged(requested)


def test_a_trainer_outside_the_clinics_partner_gyms_is_refused(
    client: Client,
    world: World,
    requested: TrainerHandoff,
    unpartnered_trainer: User,
    unpartnered_gym: Organization,
) -> None:
    login_with_second_factor(client, world.physio)
    assert _post(client, requested, unpartnered_trainer, unpartnered_gym).status_code == 404
    assert _unchanged(requested)


def test_a_refused_send_leaves_the_waiting_referral_as_it_was(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    other_trainer.trainer_profile.accepting_new_clients = False
    other_trainer.trainer_profile.save()
    login_with_second_factor(client, world.physio)
    response = _post(client, requested, other_trainer, world.gym)
    assert response.status_code == 302 and response["Location"] == reverse(
        "handoff_detail", args=[requested.public_id]
    )
    assert _unchanged(requested)  # the cancel rolled back with the refused send


def test_an_answered_referral_is_not_reoffered(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    login_with_second_factor(client, world.physio)
    assert (
        "Offer to" not in client.get(reverse("handoff_detail", args=[requested.public_id])).content.decode()
    )
    _post(client, requested, other_trainer, world.gym)
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.ACCEPTED and TrainerHandoff.objects.count() == 1


def test_bad_input_is_a_404_and_changes_nothing(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login_with_second_factor(client, world.physio)
    url = reverse("handoff_reoffer", args=[requested.public_id])
    for data in ({}, {"trainer": "nope", "gym": "x"}, {"trainer": str(world.trainer.public_id)}):
        assert client.post(url, data).status_code == 404
    assert (
        client.post(
            url, {"trainer": str(world.trainer.public_id), "gym": str(world.gym.public_id)}
        ).status_code
        == 302
    )
    assert _unchanged(requested)  # offered to its own trainer: refused with a message


def test_the_api_reoffers_through_the_same_service(
    world: World,
    requested: TrainerHandoff,
    other_trainer: User,
    unpartnered_trainer: User,
    unpartnered_gym: Organization,
) -> None:
    url = f"{API}/handoffs/{requested.public_id}/reoffer/"
    body = {"trainer": str(other_trainer.public_id), "gym": str(world.gym.public_id)}
    assert token_client(world.trainer).post(url, body, format="json").status_code == 403
    foreign = {"trainer": str(unpartnered_trainer.public_id), "gym": str(unpartnered_gym.public_id)}
    outside = token_client(world.physio).post(url, foreign, format="json")
    assert "trainer" in assert_error(outside, 400)["fields"]
    assert _unchanged(requested)
    response = token_client(world.physio).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["trainer"]["id"] == str(other_trainer.public_id)
    again = token_client(world.physio).post(url, body, format="json")  # no longer waiting
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
