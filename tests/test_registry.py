"""The registry of referral actions is the single source: the transition table, the services, the page's
buttons, the API's endpoints and URLs, the notification titles and who is told all follow from it, and an
entry added to it appears in each of them with nothing else written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from referrals.api import handoffs as api_handoffs
from referrals.api import urls as api_urls
from referrals.api.serializers import handoffs as serializers_handoffs
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import refer_back
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.registry import HandoffAction, Recipients
from referrals.notify import wording as notify_wording
from referrals.notify.models import Notification
from referrals.web import handoffs as web_handoffs
from tests.conftest import World, login
from tests.progress.factories_reports import submit_final_report

S = HandoffStatus
NAMES = [
    "send",
    "accept",
    "reject",
    "start",
    "hold",
    "resume",
    "complete",
    "fail",
    "cancel",
    "enter_in_error",
]
# The actions the handoff page had a button for before the registry (sending has its own review page).
PAGE_BUTTONS = ["accept", "reject", "start", "hold", "resume", "complete", "fail", "cancel", "enter_in_error"]


def test_the_registry_lists_every_action_once_and_is_consistent() -> None:
    assert list(handoffs_registry.ACTIONS) == NAMES
    assert handoffs_registry.problems() == []


def test_referring_back_is_a_business_status_on_moves_the_table_has_not_an_entry() -> None:
    """handoffs.refer_back moves on behalf of either side (registry.REFERRED_BACK says why it is not an
    entry): every move it makes is one TRANSITIONS allows, and its business status is the registry's."""
    assert "refer_back" not in handoffs_registry.ACTIONS
    assert handoffs_registry.BUSINESS_STATUSES["referred-back"] is handoffs_registry.REFERRED_BACK
    assert handoffs_registry.REFERRED_BACK.text
    for source in refer_back.REFER_BACK_SOURCES:
        for end in (False, True):
            target = refer_back.refer_back_target(source, end=end)
            assert source in handoffs_lifecycle.TRANSITIONS[target][1]
    assert refer_back.refer_back_target(S.IN_PROGRESS) == S.ON_HOLD


def test_transitions_is_what_the_registry_says() -> None:
    expected: dict[str, tuple[str, set[str]]] = {}
    for action in handoffs_registry.ACTIONS.values():
        side, sources = expected.setdefault(action.to, (action.side, set()))
        assert side == action.side
        sources |= action.sources
    assert {
        to: (side, set(sources)) for to, (side, sources) in handoffs_lifecycle.TRANSITIONS.items()
    } == expected


def test_every_action_has_a_service_an_api_endpoint_and_url_and_its_page_button() -> None:
    assert list(handoffs_services.HANDOFF_ACTIONS) == NAMES
    assert list(api_handoffs.ACTION_APIS) == NAMES
    assert list(web_handoffs.ACTIONS) == PAGE_BUTTONS
    some_id = uuid.uuid4()
    for name, action in handoffs_registry.ACTIONS.items():
        assert handoffs_services.HANDOFF_ACTIONS[name] is getattr(handoffs_services, f"handoff_{name}")
        path = reverse(f"api:handoff_{name}", args=[some_id])
        assert path == f"/api/v1/handoffs/{some_id}/{action.slug}/"
        view = resolve(path).func.view_class  # type: ignore[attr-defined]
        assert view is api_handoffs.ACTION_APIS[name] and view.action is action
        assert view.__name__ == "Handoff" + name.title().replace("_", "") + "Api"
        if action.on_page:
            assert web_handoffs.ACTIONS[name] is action
            assert reverse("handoff_action", kwargs={"public_id": some_id, "action": name})


def test_each_recorded_move_names_one_action() -> None:
    for action in handoffs_registry.ACTIONS.values():
        for source in action.sources:
            assert handoffs_registry.action_for_move(source, action.to) is action
    assert handoffs_registry.action_for_move("", S.DRAFT) is None  # a draft created is no action


def test_the_api_body_follows_from_the_text_an_action_takes() -> None:
    bodies = {name: view.input_serializer for name, view in api_handoffs.ACTION_APIS.items()}
    assert bodies == {
        "send": None,
        "accept": None,
        "reject": serializers_handoffs.ReasonInputSerializer,
        "start": None,
        "hold": serializers_handoffs.HoldInputSerializer,  # a reason and the review date
        "resume": None,
        "complete": serializers_handoffs.CompleteInputSerializer,
        "fail": serializers_handoffs.ReasonInputSerializer,
        "cancel": serializers_handoffs.ReasonInputSerializer,
        "enter_in_error": serializers_handoffs.OptionalReasonInputSerializer,
    }
    assert api_handoffs.ACTION_APIS["send"].api_conflicts == ("invalid_transition", "send_blocked")
    assert api_handoffs.ACTION_APIS["accept"].api_conflicts == ("invalid_transition", "no_longer_eligible")


PATHS = {
    "send": ["send"],
    "accept": ["send", "accept"],
    "reject": ["send", "reject"],
    "start": ["send", "accept", "start"],
    "hold": ["send", "accept", "start", "hold"],
    "resume": ["send", "accept", "start", "hold", "resume"],
    "complete": ["send", "accept", "complete"],
    "fail": ["send", "accept", "fail"],
    "cancel": ["send", "cancel"],
    "enter_in_error": ["send", "enter_in_error"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES)
def test_the_notification_of_each_action_is_titled_and_addressed_by_its_entry(
    world: World, draft: TrainerHandoff, django_capture_on_commit_callbacks: Any, name: str
) -> None:
    assert list(PATHS) == NAMES
    handoff = draft
    for step in PATHS[name]:
        action = handoffs_registry.ACTIONS[step]
        actor = world.physio if action.side == "clinic" else world.trainer
        if step == "complete":  # completing needs the final progress report first
            submit_final_report(handoff, world.trainer)
        with django_capture_on_commit_callbacks(execute=True):
            handoff = handoffs_services.HANDOFF_ACTIONS[step](
                handoff=handoff, actor=actor, **action.text_kwargs(f"text for {step}")
            )
    action = handoffs_registry.ACTIONS[name]
    event = HandoffEvent.objects.filter(handoff=handoff).latest("created_at", "id")
    assert event.to_status == action.to
    told = Notification.objects.filter(event=event)
    trainer = f"{world.trainer.full_name} at {world.gym.name}"
    assert {n.title for n in told} == {
        action.title.format(clinic=world.plan.patient.clinic.name, trainer=trainer)
    }
    # the acting side is never told; the other side is, as the entry says
    expected = {world.trainer} if action.recipients.trainer else {world.physio}
    assert {n.recipient for n in told} == expected


# --- an action added to the registry appears everywhere ------------------------------------------------

PAUSE = HandoffAction(
    name="pause_before_start",
    to=S.ON_HOLD,
    side="trainer",
    sources=frozenset({S.ACCEPTED}),
    label="Pause before the first session",
    summary="pause an accepted handoff before the first session, with a reason",
    title="{trainer} paused a referral before starting",
    recipients=Recipients(clinic="always"),
    text_arg="reason",
    reason_required=True,
)
WITH_PAUSE = [*handoffs_registry.ACTIONS.values(), PAUSE]


def test_an_added_entry_appears_in_every_derived_table() -> None:
    assert handoffs_registry.problems(WITH_PAUSE) == []
    assert handoffs_registry.transitions(WITH_PAUSE)[S.ON_HOLD] == (
        "trainer",
        frozenset({S.IN_PROGRESS, S.ACCEPTED}),
    )
    assert handoffs_registry.action_for_move(S.ACCEPTED, S.ON_HOLD, WITH_PAUSE) is PAUSE
    service = handoffs_services.action_services(WITH_PAUSE)["pause_before_start"]
    assert service.__name__ == "handoff_pause_before_start"  # the generic move: no function was written
    assert web_handoffs.page_actions(WITH_PAUSE)["pause_before_start"] is PAUSE
    api = api_handoffs.action_apis(WITH_PAUSE)["pause_before_start"]
    assert (
        api.__name__ == "HandoffPauseBeforeStartApi"
        and api.input_serializer is serializers_handoffs.ReasonInputSerializer
    )
    (pattern,) = [p for p in api_urls.action_urls({"pause_before_start": api})]
    assert str(pattern.pattern) == "handoffs/<str:id>/pause-before-start/"
    assert pattern.name == "handoff_pause_before_start"


def test_a_bad_entry_is_reported() -> None:
    clash = HandoffAction(
        name="restart",
        to=S.IN_PROGRESS,
        side="clinic",
        sources=frozenset({S.ON_HOLD}),
        label="Restart",
        summary="restart",
        title="{clinic} restarted a referral",
        recipients=Recipients(trainer=True),
        text_arg="reason",
    )
    found = handoffs_registry.problems([*handoffs_registry.ACTIONS.values(), clash])
    assert any("two sides" in p for p in found) and any("the same move" in p for p in found)


@pytest.mark.django_db
def test_an_added_entry_works_end_to_end_from_the_page(
    client: Client,
    world: World,
    requested: TrainerHandoff,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(handoffs_registry, "ACTIONS", {a.name: a for a in WITH_PAUSE})
    monkeypatch.setattr(handoffs_lifecycle, "TRANSITIONS", handoffs_registry.transitions())
    monkeypatch.setattr(handoffs_services, "HANDOFF_ACTIONS", handoffs_services.action_services(WITH_PAUSE))
    monkeypatch.setattr(web_handoffs, "ACTIONS", web_handoffs.page_actions(WITH_PAUSE))
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    login(client, world.trainer)
    page = client.get(reverse("handoff_detail", kwargs={"public_id": requested.public_id}))
    assert [name for name, _, _ in page.context["actions"]] == [
        "start",
        "complete",
        "fail",
        "pause_before_start",
    ]
    target = reverse(
        "handoff_action", kwargs={"public_id": requested.public_id, "action": "pause_before_start"}
    )
    assert client.post(target, {"pause_before_start-text": ""}).status_code == 400  # its reason is required
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(target, {"pause_before_start-text": "Travelling for two weeks"})
    assert response.status_code == 302
    requested.refresh_from_db()
    assert (requested.status, requested.status_reason) == (S.ON_HOLD, "Travelling for two weeks")
    note = Notification.objects.filter(recipient=world.physio).latest("created_at", "id")
    assert note.title == f"{world.trainer.full_name} at {world.gym.name} paused a referral before starting"
    assert note.event is not None
    assert notify_wording.notification_title(note.event) == note.title
