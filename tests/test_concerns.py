"""Issue 13, "Concerns have a life cycle": raised by the trainer, acknowledged by a physiotherapist of the
clinic (who, when), resolved with a note (who, when, the note). Events stay append-only: each answer is an
event of its own, on both sides' timeline; the trainer is told; an unresolved concern stays on the PT home
whatever becomes of the referral; a concern that also holds the referral is one notification, one email."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from referrals.concerns import services as concerns_services
from referrals.concerns.models import Concern
from referrals.errors import ConcernAlreadyResolved, NotPermitted
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from tests import factories as f
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import World, login
from tests.progress.factories_reports import submit_final_report
from tests.test_views import url

pytestmark = pytest.mark.django_db

Kind = HandoffEvent.Kind


@pytest.fixture
def in_progress(world: World, requested: TrainerHandoff) -> TrainerHandoff:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    return handoffs_services.handoff_start(handoff=requested, actor=world.trainer)


def raise_concern(
    world: World, handoff: TrainerHandoff, *, hold: bool = False, text: str = "Knee pain 7/10"
) -> Concern:
    event = concerns_services.handoff_raise_concern(
        handoff=handoff, actor=world.trainer, text=text, hold=hold
    )
    return Concern.objects.get(event=event)


def concern_url(concern: Concern, action: str) -> str:
    return url(f"concern_{action}", concern.handoff, concern_id=concern.public_id)


def api_url(concern: Concern, action: str) -> str:
    return f"{API}/handoffs/{concern.handoff.public_id}/concerns/{concern.public_id}/{action}/"


# --- the services ---------------------------------------------------------------------------------------


def test_a_raised_concern_has_a_row_in_the_raised_state(world: World, in_progress: TrainerHandoff) -> None:
    concern = raise_concern(world, in_progress)
    assert concern.state == Concern.State.RAISED
    assert concern.handoff == in_progress and concern.event.kind == Kind.CONCERN and not concern.put_on_hold
    assert concern.acknowledged_at is None and concern.resolved_at is None


def test_acknowledging_records_who_and_when_appends_an_event_and_tells_the_trainer(
    world: World, in_progress: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    concern = raise_concern(world, in_progress)
    events_before = list(in_progress.events.values_list("pk", "kind", "text"))
    with django_capture_on_commit_callbacks(execute=True):
        done = concerns_services.concern_acknowledge(concern=concern, actor=world.physio)
    assert done.state == Concern.State.ACKNOWLEDGED
    assert done.acknowledged_by == world.physio and done.acknowledged_at is not None
    event = in_progress.events.get(kind=Kind.CONCERN_ACKNOWLEDGED)
    assert event.actor == world.physio and event.regarding == done
    # the earlier events are untouched (append-only)
    assert list(in_progress.events.exclude(pk=event.pk).values_list("pk", "kind", "text")) == events_before
    told = Notification.objects.get(event=event)
    assert told.recipient == world.trainer and "acknowledged your concern" in told.title
    assert [m.to for m in mail.outbox if "acknowledged" in m.subject] == [[world.trainer.email]]


def test_acknowledging_twice_is_idempotent(world: World, in_progress: TrainerHandoff) -> None:
    concern = raise_concern(world, in_progress)
    first = concerns_services.concern_acknowledge(concern=concern, actor=world.physio)
    other_physio = User.objects.get(pk=world.physio.pk)
    again = concerns_services.concern_acknowledge(concern=concern, actor=other_physio)
    assert again.acknowledged_at == first.acknowledged_at
    assert in_progress.events.filter(kind=Kind.CONCERN_ACKNOWLEDGED).count() == 1
    assert Notification.objects.filter(event__kind=Kind.CONCERN_ACKNOWLEDGED).count() == 1


def test_resolving_needs_a_note_and_records_who_when_and_the_note(
    world: World, in_progress: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    concern = raise_concern(world, in_progress)
    for empty in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            concerns_services.concern_resolve(concern=concern, actor=world.physio, note=empty)
        assert list(caught.value.message_dict) == ["note"]
    concern.refresh_from_db()
    assert concern.state == Concern.State.RAISED
    with django_capture_on_commit_callbacks(execute=True):
        done = concerns_services.concern_resolve(
            concern=concern, actor=world.physio, note="Seen in clinic; keep going."
        )
    assert done.state == Concern.State.RESOLVED
    assert done.resolved_by == world.physio and done.resolution_note == "Seen in clinic; keep going."
    # resolving an unacknowledged concern acknowledges it by the same act
    assert done.acknowledged_by == world.physio and done.acknowledged_at == done.resolved_at
    event = in_progress.events.get(kind=Kind.CONCERN_RESOLVED)
    assert event.regarding == done and event.text == "Seen in clinic; keep going."
    assert Notification.objects.get(event=event).recipient == world.trainer
    assert len([m for m in mail.outbox if "resolved your concern" in m.subject]) == 1
    with pytest.raises(ConcernAlreadyResolved):
        concerns_services.concern_resolve(concern=concern, actor=world.physio, note="Again")
    with pytest.raises(ConcernAlreadyResolved):
        concerns_services.concern_acknowledge(concern=concern, actor=world.physio)
    concern.refresh_from_db()
    assert concern.resolution_note == "Seen in clinic; keep going."


def test_only_a_physiotherapist_of_the_clinic_may_answer_a_concern(
    world: World, in_progress: TrainerHandoff, other_clinic_physio: User, clinic_admin: User
) -> None:
    concern = raise_concern(world, in_progress)
    for who in (world.trainer, other_clinic_physio, clinic_admin):
        with pytest.raises(NotPermitted):
            concerns_services.concern_acknowledge(concern=concern, actor=who)
        with pytest.raises(NotPermitted):
            concerns_services.concern_resolve(concern=concern, actor=who, note="Done")
    concern.refresh_from_db()
    assert concern.state == Concern.State.RAISED
    assert not in_progress.events.exclude(kind__in=[Kind.TRANSITION, Kind.CONCERN]).exists()


def test_a_concern_that_holds_the_referral_is_one_notification_and_one_email_per_recipient(
    world: World, in_progress: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    before = set(Notification.objects.values_list("pk", flat=True))
    owed_before = set(OutboxMessage.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        concern = raise_concern(world, in_progress, hold=True)
    in_progress.refresh_from_db()
    assert in_progress.status == "on-hold"
    assert list(in_progress.events.order_by("created_at", "id").values_list("kind", "to_status"))[-2:] == [
        (Kind.CONCERN, ""),
        (Kind.TRANSITION, "on-hold"),
    ]
    new = Notification.objects.exclude(pk__in=before)
    assert [n.recipient for n in new] == [world.physio]
    assert new.get().urgent and new.get().event == concern.event
    assert "put a referral on hold" in new.get().title
    owed = OutboxMessage.objects.exclude(pk__in=owed_before)
    assert [(m.recipient, m.event) for m in owed] == [(world.physio, concern.event)]
    assert [m.to for m in mail.outbox] == [[world.physio.email]]


# --- the PT home ----------------------------------------------------------------------------------------


def _home_concerns(client: Client) -> list[Concern]:
    response = client.get("/")
    assert response.status_code == 200
    return list(response.context["concerns"])


@pytest.mark.parametrize("then", ["complete", "fail", "cancel", "enter_in_error"])
def test_an_unresolved_concern_stays_on_the_pt_home_whatever_happens_to_the_referral(
    client: Client, world: World, in_progress: TrainerHandoff, then: str
) -> None:
    concern = raise_concern(world, in_progress)
    if then in ("cancel", "enter_in_error"):
        handoffs_services.HANDOFF_ACTIONS[then](handoff=in_progress, actor=world.physio, reason="Moved away")
    elif then == "fail":
        handoffs_services.handoff_fail(handoff=in_progress, actor=world.trainer, reason="Stopped coming")
    else:
        submit_final_report(in_progress, world.trainer)
        handoffs_services.handoff_complete(handoff=in_progress, actor=world.trainer)
    home = login(client, world.physio)
    assert _home_concerns(home) == [concern]
    concerns_services.concern_acknowledge(concern=concern, actor=world.physio)
    assert _home_concerns(home) == [concern]  # acknowledged is not resolved
    concerns_services.concern_resolve(concern=concern, actor=world.physio, note="Called the patient.")
    assert _home_concerns(home) == []


def test_the_pt_home_runs_as_many_queries_with_one_concern_as_with_six(
    client: Client, world: World, in_progress: TrainerHandoff
) -> None:
    raise_concern(world, in_progress)
    home = login(client, world.physio)
    home.get("/account/profile/")
    with CaptureQueriesContext(connection) as one:
        assert len(_home_concerns(home)) == 1
    for i in range(5):
        raise_concern(world, in_progress, text=f"Concern {i}")
    with CaptureQueriesContext(connection) as six:
        assert len(_home_concerns(home)) == 6
    assert len(one.captured_queries) == len(six.captured_queries)


# --- the pages ------------------------------------------------------------------------------------------


def test_the_pt_acknowledges_and_resolves_on_the_handoff_page_and_the_trainer_sees_it_on_the_timeline(
    client: Client, world: World, in_progress: TrainerHandoff
) -> None:
    concern = raise_concern(world, in_progress)
    pt = login(client, world.physio)
    page = pt.get(url("handoff_detail", in_progress)).content.decode()
    assert concern_url(concern, "acknowledge") in page and concern_url(concern, "resolve") in page
    response = pt.post(concern_url(concern, "acknowledge"))
    assert response.status_code == 302 and response["Location"] == url("handoff_detail", in_progress)
    concern.refresh_from_db()
    assert concern.acknowledged_by == world.physio
    refused = pt.post(concern_url(concern, "resolve"), {"note": ""})
    assert refused.status_code == 400
    assert refused.context["open_concerns"][0][1].errors["note"]
    concern.refresh_from_db()
    assert concern.resolved_at is None
    done = pt.post(concern_url(concern, "resolve"), {"note": "Ice and rest, back next week."})
    assert done.status_code == 302
    concern.refresh_from_db()
    assert concern.state == Concern.State.RESOLVED
    assert concern_url(concern, "resolve") not in pt.get(url("handoff_detail", in_progress)).content.decode()
    trainer = Client()
    trainer.force_login(world.trainer)
    timeline = trainer.get(url("handoff_detail", in_progress)).content.decode()
    assert "acknowledged the concern" in timeline
    assert "resolved the concern" in timeline and "Ice and rest, back next week." in timeline
    assert concern_url(concern, "acknowledge") not in timeline


def test_the_trainer_gets_403_and_another_clinic_404_on_the_concern_pages(
    client: Client, world: World, in_progress: TrainerHandoff, other_clinic_physio: User
) -> None:
    concern = raise_concern(world, in_progress)
    trainer = login(client, world.trainer)
    assert trainer.post(concern_url(concern, "acknowledge")).status_code == 403
    assert trainer.post(concern_url(concern, "resolve"), {"note": "x"}).status_code == 403
    outsider = Client()
    outsider.force_login(other_clinic_physio)
    assert outsider.post(concern_url(concern, "acknowledge")).status_code == 404
    assert outsider.post(concern_url(concern, "resolve"), {"note": "x"}).status_code == 404
    concern.refresh_from_db()
    assert concern.state == Concern.State.RAISED


def test_a_concern_of_another_handoff_is_a_404_under_this_one(
    client: Client, world: World, in_progress: TrainerHandoff
) -> None:
    concern = raise_concern(world, in_progress)
    patient = f.PatientFactory(clinic=world.plan.patient.clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=world.physio)
    other = handoffs_sending.plan_discharge(
        plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    wrong = url("concern_acknowledge", other, concern_id=concern.public_id)
    assert login(client, world.physio).post(wrong).status_code == 404
    assert_error(
        token_client(world.physio).post(
            f"{API}/handoffs/{other.public_id}/concerns/{concern.public_id}/acknowledge/", {}, format="json"
        ),
        404,
    )
    concern.refresh_from_db()
    assert concern.state == Concern.State.RAISED


def test_the_handoff_page_runs_as_many_queries_with_answered_concerns(
    client: Client, world: World, in_progress: TrainerHandoff
) -> None:
    trainer = login(client, world.trainer)
    trainer.get("/account/profile/")
    with CaptureQueriesContext(connection) as before:
        assert trainer.get(url("handoff_detail", in_progress)).status_code == 200
    for i in range(3):
        concern = raise_concern(world, in_progress, text=f"Concern {i}")
        concerns_services.concern_resolve(concern=concern, actor=world.physio, note=f"Note {i}")
    with CaptureQueriesContext(connection) as after:
        assert trainer.get(url("handoff_detail", in_progress)).status_code == 200
    assert len(before.captured_queries) == len(after.captured_queries)


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_acknowledges_and_resolves_and_lists_the_state_on_the_events(
    world: World, in_progress: TrainerHandoff
) -> None:
    raised = token_client(world.trainer).post(
        f"{API}/handoffs/{in_progress.public_id}/concern/", {"text": "Dizzy after intervals"}, format="json"
    )
    assert raised.status_code == 201
    concern_body = raised.json()["concern"]
    assert concern_body["state"] == "raised" and concern_body["acknowledged_by"] is None
    concern = Concern.objects.get(public_id=concern_body["id"])
    pt = token_client(world.physio)
    acknowledged = pt.post(api_url(concern, "acknowledge"), {}, format="json")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"]["id"] == str(world.physio.public_id)
    assert pt.post(api_url(concern, "acknowledge"), {}, format="json").status_code == 200  # idempotent
    assert list(assert_error(pt.post(api_url(concern, "resolve"), {}, format="json"), 400)["fields"]) == [
        "note"
    ]
    resolved = pt.post(api_url(concern, "resolve"), {"note": "BP checked: fine."}, format="json")
    assert resolved.status_code == 200
    assert (
        resolved.json()["state"] == "resolved" and resolved.json()["resolution_note"] == "BP checked: fine."
    )
    assert_error(
        pt.post(api_url(concern, "resolve"), {"note": "again"}, format="json"),
        409,
        "concern_already_resolved",
    )
    events = (
        token_client(world.trainer).get(f"{API}/handoffs/{in_progress.public_id}/events/").json()["results"]
    )
    kinds = [e["kind"] for e in events]
    assert kinds[-3:] == ["concern", "concern_acknowledged", "concern_resolved"]
    assert events[-3]["concern"]["state"] == "resolved"
    assert events[-2]["regarding"] == events[-1]["regarding"] == str(concern.public_id)
    assert events[-1]["text"] == "BP checked: fine." and events[-1]["concern"] is None


def test_the_api_gives_the_trainer_403_and_another_clinic_404(
    world: World, in_progress: TrainerHandoff, other_clinic_physio: User
) -> None:
    concern = raise_concern(world, in_progress)
    trainer = token_client(world.trainer)
    assert_error(trainer.post(api_url(concern, "acknowledge"), {}, format="json"), 403, "not_permitted")
    assert_error(
        trainer.post(api_url(concern, "resolve"), {"note": "x"}, format="json"), 403, "not_permitted"
    )
    outsider = token_client(other_clinic_physio)
    assert_error(outsider.post(api_url(concern, "acknowledge"), {}, format="json"), 404)
    assert_error(outsider.post(api_url(concern, "resolve"), {"note": "x"}, format="json"), 404)
    assert_error(
        token_client(world.physio).post(
            f"{API}/handoffs/{in_progress.public_id}/concerns/not-a-uuid/acknowledge/", {}, format="json"
        ),
        404,
    )
    concern.refresh_from_db()
    assert concern.state == Concern.State.RAISED
