"""Lists: cursor pages that walk every row once, filters (status, updated_since), ordering, search."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from tests import factories as f
from tests.api.conftest import API


def walk(client: Any, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        body = client.get(url).json()
        assert "count" not in body
        rows.extend(body["results"])
        url = body["next"]
    return rows


def test_cursor_pages_walk_every_row_once(api_for: Any, world: Any) -> None:
    for i in range(7):
        f.PatientFactory(clinic=world.plan.patient.clinic, full_name=f"Same Name {i % 2}")
    rows = walk(api_for(world.physio), f"{API}/patients/?page_size=3")
    assert len(rows) == 8
    assert len({r["id"] for r in rows}) == 8
    assert [r["full_name"] for r in rows] == sorted(r["full_name"] for r in rows)


def test_handoffs_filter_by_status_and_updated_since(api_for: Any, world: Any, requested: Any) -> None:
    client = api_for(world.trainer)
    assert [h["id"] for h in client.get(f"{API}/handoffs/?status=requested").json()["results"]] == [
        str(requested.public_id)
    ]
    assert client.get(f"{API}/handoffs/?status=accepted").json()["results"] == []
    both = client.get(f"{API}/handoffs/?status=accepted&status=requested").json()["results"]
    assert len(both) == 1
    # polling: nothing changed since the last look, then the accept shows up
    since = (requested.updated_at + datetime.timedelta(microseconds=1)).isoformat()
    assert client.get(f"{API}/handoffs/", {"updated_since": since}).json()["results"] == []
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    changed = client.get(f"{API}/handoffs/", {"updated_since": since}).json()["results"]
    assert [h["status"] for h in changed] == ["accepted"]


def test_handoffs_ordering(api_for: Any, world: Any, requested: Any) -> None:
    patient = f.PatientFactory(clinic=world.plan.patient.clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    newer = handoffs_sending.handoff_create(
        plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    client = api_for(world.physio)
    ids = [h["id"] for h in client.get(f"{API}/handoffs/?ordering=created_at").json()["results"]]
    assert ids == [str(requested.public_id), str(newer.public_id)]
    ids = [h["id"] for h in client.get(f"{API}/handoffs/?ordering=-created_at").json()["results"]]
    assert ids == [str(newer.public_id), str(requested.public_id)]
    assert TrainerHandoff.objects.count() == 2


def test_notifications_poll_unread_and_mark_all_read(api_for: Any, world: Any, requested: Any) -> None:
    client = api_for(world.trainer)
    before = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    unread = client.get(f"{API}/notifications/?unread=true").json()["results"]
    assert len(unread) == 1 and unread[0]["handoff"] == str(requested.public_id)
    later = (timezone.now() + datetime.timedelta(seconds=1)).isoformat()
    assert client.get(f"{API}/notifications/", {"updated_since": later}).json()["results"] == []
    assert client.post(f"{API}/notifications/read-all/").json() == {"marked": 1}
    assert client.get(f"{API}/notifications/?unread=true").json()["results"] == []
    assert len(client.get(f"{API}/notifications/", {"updated_since": before}).json()["results"]) == 1


def test_the_exercise_library_is_searchable(api_for: Any, trainer: Any) -> None:
    client = api_for(trainer)
    rows = client.get(f"{API}/exercises/?search=squat&page_size=100").json()["results"]
    assert rows and all("squat" in r["name"].lower() for r in rows)
    rows = client.get(f"{API}/exercises/?category=balance&page_size=100").json()["results"]
    assert rows and {r["category"] for r in rows} == {"balance"}


def test_the_trainers_directory_filters(
    api_for: Any, world: Any, other_trainer: Any, unpartnered_trainer: Any
) -> None:
    f.TrainerSpecializationFactory(profile=other_trainer.trainer_profile, specialization="senior_fitness")
    profile = world.trainer.trainer_profile
    profile.accepting_new_clients = False
    profile.save()
    client = api_for(world.physio)
    everyone = {r["id"] for r in client.get(f"{API}/trainers/").json()["results"]}
    assert everyone == {str(world.trainer.public_id), str(other_trainer.public_id)}  # partner gyms only
    seniors = client.get(f"{API}/trainers/?specialization=senior_fitness").json()["results"]
    assert [r["id"] for r in seniors] == [str(other_trainer.public_id)]
    assert seniors[0]["specializations"] == ["senior_fitness"]
    accepting = client.get(f"{API}/trainers/?accepting=true").json()["results"]
    assert [r["id"] for r in accepting] == [str(other_trainer.public_id)]
    by_gym = client.get(f"{API}/trainers/", {"gym": str(world.gym.public_id)}).json()["results"]
    assert len(by_gym) == 2
