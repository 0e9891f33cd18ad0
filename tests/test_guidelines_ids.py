"""Addressable guidelines: the snapshot's schema version, stable ids, and old snapshots still readable."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals.care import services as care_services
from referrals.care.models import Consent
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import TrainerHandoff
from tests.api.conftest import token_client
from tests.conftest import World, login

pytestmark = pytest.mark.django_db

# A snapshot as stored before the schema had ids (schema 1): red flags were plain strings.
OLD_EXERCISE = {
    "name": "Wall Slides",
    "category": "Mobility",
    "body_region": "Shoulder",
    "equipment": "wall",
    "instructions": "Slide the forearms up the wall.",
    "sets": 3,
    "reps": 12,
    "hold_seconds": None,
    "duration_minutes": None,
    "load_unit": "",
    "load_value": None,
    "frequency_per_week": 3,
    "tempo": "",
    "rest_seconds": None,
    "notes": "Slowly",
    "progression_note": "",
    "dose": "3 x 12 reps, 3x/week",
}
OLD_PRECAUTION = {
    "kind": "load_limit",
    "kind_label": "Load limit",
    "body_region": "Shoulder",
    "limit_value": "5.0",
    "limit_unit": "kg",
    "weight_bearing": "",
    "valid_until": None,
    "detail": "Nothing overhead",
    "summary": "Load limit (Shoulder): 5 kg",
}


def old_snapshot(handoff: TrainerHandoff) -> dict[str, Any]:
    snap = copy.deepcopy(handoff.snapshot)
    assert snap is not None
    snap.pop("schema", None)
    snap["exercises"] = [dict(OLD_EXERCISE), {**OLD_EXERCISE, "name": "Chin Tucks"}]
    snap["precautions"] = [dict(OLD_PRECAUTION)]
    snap["red_flags"] = ["Old night pain", "Old numbness"]
    return dict(snap)


def ids(guidelines: dict[str, Any]) -> list[str]:
    return [x["id"] for key in ("exercises", "precautions", "red_flags") for x in guidelines[key]]


def test_a_new_snapshot_has_the_schema_version_and_the_rows_public_ids(
    world: World, requested: TrainerHandoff
) -> None:
    snap = requested.snapshot
    assert snap is not None and snap["schema"] == handoffs_snapshot.GUIDELINES_SCHEMA == 2
    plan = world.plan
    assert [x["id"] for x in snap["exercises"]] == [str(x.public_id) for x in plan.exercises.all()]
    assert [x["library_slug"] for x in snap["exercises"]] == [x.exercise.slug for x in plan.exercises.all()]
    assert [p["id"] for p in snap["precautions"]] == [str(p.public_id) for p in plan.precautions.all()]
    assert snap["red_flags"] == [
        {"id": str(r.public_id), "description": r.description} for r in plan.red_flags.all()
    ]


def test_ids_are_the_same_in_every_snapshot_of_the_same_rows(world: World, requested: TrainerHandoff) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    preview = handoffs_snapshot.guidelines_preview(plan=world.plan, consent=consent)
    assert requested.snapshot is not None and ids(preview) == ids(requested.snapshot)
    handoffs_services.handoff_cancel(handoff=requested, actor=world.physio, reason="another trainer")
    again = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    assert again.snapshot is not None and ids(again.snapshot) == ids(requested.snapshot)


def test_an_edit_that_keeps_a_row_keeps_its_id_and_a_new_row_gets_a_new_one(world: World) -> None:
    plan = world.plan
    kept, dropped = list(plan.exercises.all())
    precaution = plan.precautions.get()
    flag = plan.red_flags.get()
    care_services.plan_update(
        plan=plan,
        actor=world.physio,
        exercises=[
            {"exercise": kept.exercise, "sets": 5, "reps": 8},  # the dose changes: still the same row
            {"exercise": dropped.exercise, "sets": 2, "reps": 10},
        ],
        precautions=[
            {
                "kind": precaution.kind,
                "body_region": precaution.body_region,
                "limit_value": "4",
                "limit_unit": precaution.limit_unit,
                "detail": "Lighter now",
            }
        ],
        red_flags=[flag.description, "Dizziness"],
    )
    rows = list(plan.exercises.all())
    assert [r.public_id for r in rows] == [kept.public_id, dropped.public_id] and rows[0].sets == 5
    assert plan.precautions.get().public_id == precaution.public_id
    flags = list(plan.red_flags.all())
    assert flags[0].public_id == flag.public_id and flags[1].public_id != flag.public_id
    care_services.plan_update(plan=plan, actor=world.physio, red_flags=["Dizziness"])
    assert plan.red_flags.get().public_id == flags[1].public_id


def test_an_old_snapshot_is_read_in_the_current_shape_with_ids_derived_from_the_handoff(
    world: World, requested: TrainerHandoff
) -> None:
    stored = old_snapshot(requested)
    read = handoffs_snapshot.guidelines_read(stored, handoff_public_id=requested.public_id)
    assert read is not None and read["schema"] == 2
    assert read == handoffs_snapshot.guidelines_read(
        copy.deepcopy(stored), handoff_public_id=requested.public_id
    )
    assert [f["description"] for f in read["red_flags"]] == ["Old night pain", "Old numbness"]
    assert [x["name"] for x in read["exercises"]] == ["Wall Slides", "Chin Tucks"]
    assert all(x["library_slug"] == "" for x in read["exercises"])
    every = ids(read)
    assert len(set(every)) == 5 and all(uuid.UUID(i) for i in every)
    other = handoffs_snapshot.guidelines_read(stored, handoff_public_id=uuid.uuid4())
    assert other is not None and not set(ids(other)) & set(every)  # another handoff, other ids
    assert "schema" not in stored and stored["red_flags"] == ["Old night pain", "Old numbness"]  # untouched


def test_an_old_snapshot_is_readable_on_the_pages_and_in_the_api(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    TrainerHandoff.objects.filter(pk=requested.pk).update(snapshot=old_snapshot(requested))
    expected = handoffs_snapshot.guidelines_read(
        old_snapshot(requested), handoff_public_id=requested.public_id
    )
    assert expected is not None
    page = login(client, world.trainer).get(reverse("handoff_detail", args=[requested.public_id]))
    body = page.content.decode()
    assert page.status_code == 200 and "Old night pain" in body and "Chin Tucks" in body
    assert f'data-id="{expected["red_flags"][0]["id"]}"' in body
    handout = client.get(reverse("handoff_handout", args=[requested.public_id]))
    assert handout.status_code == 200 and "Old numbness" in handout.content.decode()

    response = token_client(world.trainer).get(reverse("api:handoff_detail", args=[str(requested.public_id)]))
    assert response.status_code == 200
    guidelines = response.json()["guidelines"]
    assert guidelines["red_flags"] == ["Old night pain", "Old numbness"]
    assert guidelines["red_flag_items"] == expected["red_flags"]
    assert [x["id"] for x in guidelines["exercises"]] == [x["id"] for x in expected["exercises"]]
    assert [p["id"] for p in guidelines["precautions"]] == [p["id"] for p in expected["precautions"]]


def test_the_api_gives_the_ids_of_a_new_snapshot(world: World, requested: TrainerHandoff) -> None:
    response = token_client(world.trainer).get(reverse("api:handoff_detail", args=[str(requested.public_id)]))
    guidelines = response.json()["guidelines"]
    plan = world.plan
    assert [x["id"] for x in guidelines["exercises"]] == [str(x.public_id) for x in plan.exercises.all()]
    assert [p["id"] for p in guidelines["precautions"]] == [str(p.public_id) for p in plan.precautions.all()]
    flag = plan.red_flags.get()
    assert guidelines["red_flags"] == [flag.description]
    assert guidelines["red_flag_items"] == [{"id": str(flag.public_id), "description": flag.description}]
