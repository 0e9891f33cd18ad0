"""A system actor and an outbox for any domain event (issue 14).

- An event without an actor is the system's: "Handoff (automatic)" on the timeline, in the API, in the
  audit trail, in the admin and in the notification's wording; the daily eligibility review records so.
- `services.notify` owes notifications of any kind, with or without a referral event, with the outbox's
  guarantees: one row per source, recipient and channel (a second call owes nothing again), delivered by
  the real delivery path, failed after 8 attempts and visible in the admin.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import TrainerProfile, User
from referrals import tasks
from referrals.audit import selectors as audit_selectors
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import SYSTEM_ACTOR_NAME, HandoffEvent, TrainerHandoff
from referrals.notify import services as notify_services
from referrals.notify import wording as notify_wording
from referrals.notify.models import Notification, OutboxMessage, event_source_key
from tests.api.conftest import API, token_client
from tests.conftest import World, login, login_with_second_factor
from tests.mail_backends import set_failures

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
FLAKY = "tests.mail_backends.FlakyBackend"
REMINDER = "test-reminder"


@pytest.fixture
def reminder_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[notify_wording.NotificationKind]:
    """A kind that is not a referral event (as a certification reminder will be): its own wording, the
    referral's page when it has one."""
    kind = notify_wording.NotificationKind(
        name=REMINDER,
        title=lambda handoff, event: "Your certification expires soon",
        link=notify_wording.handoff_link,
        told="the trainer whose certification expires",
    )
    monkeypatch.setitem(notify_wording.NOTIFICATION_KINDS, REMINDER, kind)
    yield kind


def remind(user: User, key: str = "reminder:1", handoff: TrainerHandoff | None = None) -> list[int]:
    return notify_services.notify(kind=REMINDER, recipients=[user], source_key=key, handoff=handoff)


def lapse_and_review(world: World, handoff: TrainerHandoff) -> HandoffEvent:
    TrainerProfile.objects.filter(user=world.trainer).update(
        cpr_aed_expiry=timezone.localdate() - datetime.timedelta(days=1)
    )
    handoffs_services.handoff_review_eligibility()
    return HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.REFUSAL)


# --- the system actor ----------------------------------------------------------------------------------


def test_the_daily_review_records_its_refusal_as_the_systems_and_says_so(
    world: World, requested: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        refusal = lapse_and_review(world, requested)
    assert refusal.actor is None and refusal.actor_display == SYSTEM_ACTOR_NAME
    notification = Notification.objects.get(event=refusal)
    assert notification.recipient == world.physio
    assert notification.title.startswith(f"{SYSTEM_ACTOR_NAME}: a referral to ")
    assert "no longer eligible" in notification.title
    assert mail.outbox[-1].subject == f"[Handoff] {notification.title}"


def test_a_system_event_is_handoff_automatic_on_the_timeline_in_the_api_and_in_the_audit_trail(
    world: World, requested: TrainerHandoff, client: Client
) -> None:
    refusal = lapse_and_review(world, requested)
    for user in (world.physio, world.trainer):
        page = login(client, user).get(f"/handoffs/{requested.public_id}/").content.decode()
        assert f"{SYSTEM_ACTOR_NAME}:" in page
        events = token_client(user).get(f"{API}/handoffs/{requested.public_id}/events/").json()["results"]
        row = next(e for e in events if e["id"] == str(refusal.public_id))
        assert row["actor"] == {"id": None, "full_name": SYSTEM_ACTOR_NAME}
    trail = audit_selectors.trail_list_for_patient(patient=requested.plan.patient)
    change = next(entry for entry in trail if entry.action == "changed" and "refusal" in entry.what)
    assert change.user is None and change.who == SYSTEM_ACTOR_NAME


def test_a_system_move_is_made_on_behalf_and_tells_both_sides_without_naming_either_as_the_doer(
    world: World, requested: TrainerHandoff
) -> None:
    with transaction.atomic():
        locked = handoffs_lifecycle.handoff_lock(requested)
        with pytest.raises(ValueError, match="on behalf"):
            handoffs_lifecycle.handoff_transition(
                handoff=locked, to="cancelled", actor=None, reason="Timed out."
            )
        event = handoffs_lifecycle.handoff_transition(
            handoff=locked, to="cancelled", actor=None, reason="Timed out.", on_behalf=True
        )
    assert event.actor is None
    told = Notification.objects.filter(event=event)
    assert {n.recipient for n in told} == {world.trainer, world.physio}
    assert {n.title for n in told} == {
        f"{SYSTEM_ACTOR_NAME}: a referral of Lakeside Physio to {world.trainer.full_name} at "
        f"{world.gym.name} is now cancelled"
    }


def test_the_admin_names_the_system_on_the_audit_trail(
    world: World, requested: TrainerHandoff, client: Client, superuser: User
) -> None:
    refusal = lapse_and_review(world, requested)
    login_with_second_factor(client, superuser)
    listing = client.get("/admin/referrals/handoffevent/?kind=refusal").content.decode()
    assert SYSTEM_ACTOR_NAME in listing
    detail = client.get(f"/admin/referrals/handoffevent/{refusal.pk}/change/").content.decode()
    assert SYSTEM_ACTOR_NAME in detail


# --- rows of a referral event keep their shape -------------------------------------------------------


def test_a_referral_events_rows_carry_its_kind_source_and_referral(
    world: World, requested: TrainerHandoff
) -> None:
    event = HandoffEvent.objects.get(handoff=requested, to_status="requested")
    for row in (Notification.objects.get(), OutboxMessage.objects.get()):
        assert row.kind == "handoff-event" and row.source_key == event_source_key(event.pk)
        assert row.event_id == event.pk and row.handoff_id == requested.pk


def test_one_row_per_source_recipient_and_channel_is_the_databases_rule(
    world: World, requested: TrainerHandoff
) -> None:
    row = OutboxMessage.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            kind="other", source_key=row.source_key, recipient=row.recipient, channel=row.channel
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(kind="other", source_key="", recipient=row.recipient)


# --- any other kind: no referral event ---------------------------------------------------------------


def test_a_notification_of_another_kind_is_delivered_by_the_outbox_and_owed_once(
    world: World, reminder_kind: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ids = remind(world.trainer)
    row = OutboxMessage.objects.get(pk__in=ids)
    assert (row.kind, row.source_key, row.event_id, row.handoff_id) == (REMINDER, "reminder:1", None, None)
    assert row.status == Status.SENT and row.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[Handoff] Your certification expires soon"
    assert mail.outbox[0].to == [world.trainer.email]
    notification = Notification.objects.get(source_key="reminder:1")
    assert notification.kind == REMINDER and notification.recipient == world.trainer
    # the timer runs again: nothing more is owed, nobody is told twice
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert remind(world.trainer) == []
    assert callbacks == []
    assert OutboxMessage.objects.filter(source_key="reminder:1").count() == 1
    assert Notification.objects.filter(source_key="reminder:1").count() == 1
    assert len(mail.outbox) == 1


def test_a_second_call_before_delivery_publishes_the_same_row_and_writes_none(
    world: World, reminder_kind: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first = remind(world.trainer)
        second = remind(world.trainer)
    assert first == second and len(first) == 1
    assert tasks.deliver_outbox_message(first[0]) == "sent"
    assert tasks.deliver_outbox_message(first[0]) == "skipped"
    assert len(mail.outbox) == 1


def test_a_kind_with_a_referral_links_to_it_and_opens_it(
    world: World,
    requested: TrainerHandoff,
    reminder_kind: Any,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        remind(world.trainer, key="reminder:2", handoff=requested)
    assert f"/handoffs/{requested.public_id}/" in mail.outbox[0].body
    rendered = notify_wording.render_email(OutboxMessage.objects.get(source_key="reminder:2"))
    assert (rendered.subject, rendered.body) == (mail.outbox[0].subject, mail.outbox[0].body)
    notification = Notification.objects.get(source_key="reminder:2")
    response = login(client, world.trainer).get(f"/notifications/{notification.public_id}/")
    assert response.status_code == 302 and response["Location"] == f"/handoffs/{requested.public_id}/"
    listed = token_client(world.trainer).get(f"{API}/notifications/").json()["results"]
    mine = next(n for n in listed if n["id"] == str(notification.public_id))
    assert (mine["kind"], mine["handoff"], mine["event"]) == (REMINDER, str(requested.public_id), None)


def test_a_row_without_its_notification_is_worded_by_its_kind(world: World, reminder_kind: Any) -> None:
    ids = remind(world.trainer)
    Notification.objects.filter(source_key="reminder:1").delete()
    assert tasks.deliver_outbox_message(ids[0]) == "sent"
    assert mail.outbox[0].subject == "[Handoff] Your certification expires soon"


@override_settings(EMAIL_BACKEND=FLAKY)
def test_another_kind_fails_after_8_attempts_and_shows_in_the_admin(
    world: World, reminder_kind: Any, client: Client, superuser: User
) -> None:
    (row_id,) = remind(world.trainer)
    set_failures(1000)
    try:
        outcomes = []
        for _ in range(10):
            OutboxMessage.objects.filter(pk=row_id).update(next_attempt_at=timezone.now())
            outcomes.append(tasks.deliver_outbox_message(row_id))
    finally:
        set_failures(0)
    assert outcomes == ["retry"] * 7 + ["failed", "skipped", "skipped"]
    row = OutboxMessage.objects.get(pk=row_id)
    assert row.status == Status.FAILED and row.attempts == 8 and mail.outbox == []
    login_with_second_factor(client, superuser)
    listing = client.get("/admin/referrals/outboxmessage/?problem=failed").content.decode()
    assert f"/admin/referrals/outboxmessage/{row_id}/change/" in listing and REMINDER in listing


def test_an_unknown_kind_or_a_missing_source_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="Unknown notification kind"):
        notify_services.notify(kind="nope", recipients=[world.trainer], source_key="x:1")
    with pytest.raises(ValueError, match="source key"):
        notify_services.notify(kind="handoff-event", recipients=[world.trainer], source_key="")


# --- the migration: existing rows get their kind, source and referral; reversible ------------------------

BEFORE = [("referrals", "0008_plan_status_follows_referrals")]
AFTER: list[tuple[str, str]] = []  # the latest migrations (leaf nodes): this one and any merged beside it


def _migrate(targets: list[tuple[str, str]]) -> Any:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_existing_rows_from_their_event_and_reverses(world: World) -> None:
    handoff = handoffs_sending.handoff_create(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    try:
        old = _migrate(BEFORE)
        event = old.get_model("referrals", "HandoffEvent").objects.get(handoff_id=handoff.pk)
        old.get_model("referrals", "Notification").objects.create(
            event_id=event.pk, recipient_id=world.trainer.pk, title="Old title"
        )
        old.get_model("referrals", "OutboxMessage").objects.create(
            event_id=event.pk, recipient_id=world.trainer.pk
        )
        new = _migrate(AFTER)
        for name in ("Notification", "OutboxMessage"):
            row = new.get_model("referrals", name).objects.get()
            assert (row.kind, row.source_key, row.handoff_id) == (
                "handoff-event",
                f"handoff-event:{event.pk}",
                handoff.pk,
            )
        # what cannot exist before 0009: a system event, a row without an event
        new.get_model("referrals", "HandoffEvent").objects.filter(pk=event.pk).update(actor=None)
        new.get_model("referrals", "OutboxMessage").objects.create(
            kind="test-reminder", source_key="reminder:1", recipient_id=world.trainer.pk
        )
        old = _migrate(BEFORE)
        assert (
            old.get_model("referrals", "HandoffEvent").objects.get(pk=event.pk).actor_id == world.trainer.pk
        )
        assert list(
            old.get_model("referrals", "OutboxMessage").objects.values_list("event_id", flat=True)
        ) == [event.pk]
    finally:
        _migrate(AFTER)
