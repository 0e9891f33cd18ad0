"""The registry of referral actions is the single source: the transition table, the services, the page's
buttons, the API's endpoints and URLs, the notification titles and who is told all follow from it, and an
entry added to it appears in each of them with nothing else written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from referrals import notifications, registry, services, views
from referrals.api import serializers as s
from referrals.api import urls as api_urls
from referrals.api import views as api_views
from referrals.models import HandoffEvent, HandoffStatus, Notification, TrainerHandoff
from referrals.registry import HandoffAction, Recipients
from tests.conftest import World, login

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
    assert list(registry.ACTIONS) == NAMES
    assert registry.problems() == []


def test_transitions_is_what_the_registry_says() -> None:
    expected: dict[str, tuple[str, set[str]]] = {}
    for action in registry.ACTIONS.values():
        side, sources = expected.setdefault(action.to, (action.side, set()))
        assert side == action.side
        sources |= action.sources
    assert {to: (side, set(sources)) for to, (side, sources) in services.TRANSITIONS.items()} == expected


def test_every_action_has_a_service_an_api_endpoint_and_url_and_its_page_button() -> None:
    assert list(services.HANDOFF_ACTIONS) == NAMES
    assert list(api_views.ACTION_APIS) == NAMES
    assert list(views.ACTIONS) == PAGE_BUTTONS
    some_id = uuid.uuid4()
    for name, action in registry.ACTIONS.items():
        assert services.HANDOFF_ACTIONS[name] is getattr(services, f"handoff_{name}")
        path = reverse(f"api:handoff_{name}", args=[some_id])
        assert path == f"/api/v1/handoffs/{some_id}/{action.slug}/"
        view = resolve(path).func.view_class  # type: ignore[attr-defined]
        assert view is api_views.ACTION_APIS[name] and view.action is action
        assert view.__name__ == "Handoff" + name.title().replace("_", "") + "Api"
        if action.on_page:
            assert views.ACTIONS[name] is action
            assert reverse("handoff_action", kwargs={"public_id": some_id, "action": name})


def test_each_recorded_move_names_one_action() -> None:
    for action in registry.ACTIONS.values():
        for source in action.sources:
            assert registry.action_for_move(source, action.to) is action
    assert registry.action_for_move("", S.DRAFT) is None  # a draft created is no action


def test_the_api_body_follows_from_the_text_an_action_takes() -> None:
    bodies = {name: view.input_serializer for name, view in api_views.ACTION_APIS.items()}
    assert bodies == {
        "send": None,
        "accept": None,
        "reject": s.ReasonInputSerializer,
        "start": None,
        "hold": s.ReasonInputSerializer,
        "resume": None,
        "complete": s.CompleteInputSerializer,
        "fail": s.ReasonInputSerializer,
        "cancel": s.ReasonInputSerializer,
        "enter_in_error": s.OptionalReasonInputSerializer,
    }
    assert api_views.ACTION_APIS["send"].api_conflicts == ("invalid_transition", "send_blocked")
    assert api_views.ACTION_APIS["accept"].api_conflicts == ("invalid_transition", "no_longer_eligible")


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
        action = registry.ACTIONS[step]
        actor = world.physio if action.side == "clinic" else world.trainer
        with django_capture_on_commit_callbacks(execute=True):
            handoff = services.HANDOFF_ACTIONS[step](
                handoff=handoff, actor=actor, **action.text_kwargs(f"text for {step}")
            )
    action = registry.ACTIONS[name]
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
WITH_PAUSE = [*registry.ACTIONS.values(), PAUSE]


def test_an_added_entry_appears_in_every_derived_table() -> None:
    assert registry.problems(WITH_PAUSE) == []
    assert registry.transitions(WITH_PAUSE)[S.ON_HOLD] == ("trainer", frozenset({S.IN_PROGRESS, S.ACCEPTED}))
    assert registry.action_for_move(S.ACCEPTED, S.ON_HOLD, WITH_PAUSE) is PAUSE
    service = services.action_services(WITH_PAUSE)["pause_before_start"]
    assert service.__name__ == "handoff_pause_before_start"  # the generic move: no function was written
    assert views.page_actions(WITH_PAUSE)["pause_before_start"] is PAUSE
    api = api_views.action_apis(WITH_PAUSE)["pause_before_start"]
    assert api.__name__ == "HandoffPauseBeforeStartApi" and api.input_serializer is s.ReasonInputSerializer
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
    found = registry.problems([*registry.ACTIONS.values(), clash])
    assert any("two sides" in p for p in found) and any("the same move" in p for p in found)


@pytest.mark.django_db
def test_an_added_entry_works_end_to_end_from_the_page(
    client: Client,
    world: World,
    requested: TrainerHandoff,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(registry, "ACTIONS", {a.name: a for a in WITH_PAUSE})
    monkeypatch.setattr(services, "TRANSITIONS", registry.transitions())
    monkeypatch.setattr(services, "HANDOFF_ACTIONS", services.action_services(WITH_PAUSE))
    monkeypatch.setattr(views, "ACTIONS", views.page_actions(WITH_PAUSE))
    services.handoff_accept(handoff=requested, actor=world.trainer)
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
    assert notifications.notification_title(note.event) == note.title
