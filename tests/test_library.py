"""The versioned exercise library: `manage.py library_load` adds, updates, retires (never deletes), and
running it twice changes nothing; migrations never read the live library."""

from __future__ import annotations

import importlib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Value
from django.db.models.functions import Concat

from referrals.care import services as care_services
from referrals.care.models import PlanExercise
from referrals.handoffs.models import TrainerHandoff
from referrals.library import data as library_data
from referrals.library import selectors as library_selectors
from referrals.library import services as library_services
from referrals.library.data import LIBRARY, ExerciseSeed
from referrals.library.models import Exercise
from referrals.migrations import _library_0002
from tests.conftest import World

pytestmark = pytest.mark.django_db

NEW: ExerciseSeed = {
    "slug": "step-down-tap",
    "name": "Step-Down Tap",
    "category": "strength",
    "body_region": "knee",
    "equipment": "step",
    "instructions": "Stand on a low step and slowly lower one heel to tap the floor, then rise.",
}


def load(monkeypatch: pytest.MonkeyPatch, entries: dict[str, ExerciseSeed], version: str) -> str:
    """Run the command against `entries` as the shipped library `version`; its output."""
    monkeypatch.setattr(library_services, "LIBRARY", entries)
    monkeypatch.setattr(library_services, "LIBRARY_VERSION", version)
    out = StringIO()
    call_command("library_load", stdout=out)
    return out.getvalue()


def snapshot_of_everything() -> list[Any]:
    return [
        list(Exercise.objects.order_by("pk").values()),
        list(PlanExercise.objects.order_by("pk").values()),
        list(TrainerHandoff.objects.order_by("pk").values("pk", "snapshot")),
    ]


def test_a_migrated_database_has_the_shipped_library_with_slugs_and_the_load_changes_nothing() -> None:
    assert set(Exercise.objects.values_list("slug", flat=True)) == set(LIBRARY)
    assert not Exercise.objects.filter(library_version="").exists()
    before = snapshot_of_everything()
    out = StringIO()
    call_command("library_load", stdout=out)
    assert f"version {library_data.LIBRARY_VERSION}: already loaded, nothing changed" in out.getvalue()
    assert snapshot_of_everything() == before


def test_a_new_entry_is_added_and_a_second_run_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = {**LIBRARY, NEW["slug"]: NEW}
    out = load(monkeypatch, entries, "3")
    assert "1 added, 0 updated, 0 retired" in out and "added: step-down-tap" in out
    added = Exercise.objects.get(slug="step-down-tap")
    assert added.name == "Step-Down Tap" and added.library_version == "3" and added.retired_at is None
    assert added in library_selectors.exercise_list(search="step-down")
    before = snapshot_of_everything()
    assert "already loaded, nothing changed" in load(monkeypatch, entries, "3")
    assert snapshot_of_everything() == before


def test_a_changed_entry_is_updated_in_place_and_the_others_are_left_alone(
    monkeypatch: pytest.MonkeyPatch, world: World, requested: TrainerHandoff
) -> None:
    used = world.plan.exercises.first()
    assert used is not None
    slug = used.exercise.slug
    entries = dict(LIBRARY)
    entries[slug] = {**entries[slug], "name": "Renamed Exercise", "instructions": "New words."}
    others = list(Exercise.objects.exclude(slug=slug).order_by("pk").values())
    sent = requested.snapshot
    out = load(monkeypatch, entries, "3")
    assert "0 added, 1 updated, 0 retired" in out and f"updated: {slug}" in out
    row = Exercise.objects.get(slug=slug)
    assert (row.pk, row.name, row.instructions, row.library_version) == (
        used.exercise_id,
        "Renamed Exercise",
        "New words.",
        "3",
    )
    assert list(Exercise.objects.exclude(slug=slug).order_by("pk").values()) == others
    requested.refresh_from_db()
    assert requested.snapshot == sent  # what the trainer was sent is history: unchanged
    assert "already loaded, nothing changed" in load(monkeypatch, entries, "3")


def test_an_entry_gone_from_the_library_is_retired_not_deleted_and_the_plan_keeps_it(
    monkeypatch: pytest.MonkeyPatch, world: World, requested: TrainerHandoff
) -> None:
    used = world.plan.exercises.first()
    assert used is not None
    slug = used.exercise.slug
    entries = {k: v for k, v in LIBRARY.items() if k != slug}
    count, rows, sent = Exercise.objects.count(), PlanExercise.objects.count(), requested.snapshot
    out = load(monkeypatch, entries, "3")
    assert "0 added, 0 updated, 1 retired" in out and f"{slug} (in use)" in out
    retired = Exercise.objects.get(slug=slug)
    assert retired.retired_at is not None and Exercise.objects.count() == count
    assert PlanExercise.objects.count() == rows and world.plan.exercises.filter(exercise=retired).exists()
    requested.refresh_from_db()
    assert requested.snapshot == sent
    assert retired not in library_selectors.exercise_list()  # no longer offered
    assert retired in library_selectors.exercise_list_by_ids(
        ids=[retired.pk]
    )  # the plan editor still shows it
    before = snapshot_of_everything()
    assert "already loaded, nothing changed" in load(monkeypatch, entries, "3")
    assert snapshot_of_everything() == before
    # Back in the shipped data: offered again.
    assert f"updated: {slug}" in load(monkeypatch, dict(LIBRARY), "4")
    assert Exercise.objects.get(slug=slug).retired_at is None


def test_an_entry_added_in_the_admin_is_never_retired(monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    local = Exercise.objects.create(
        name="Clinic Special", category="mobility", body_region="knee", instructions="."
    )
    assert local.slug == "clinic-special" and local.library_version == ""
    care_services.plan_update(
        plan=world.plan, actor=world.physio, exercises=[{"exercise": local, "sets": 2, "reps": 5}]
    )
    assert "already loaded, nothing changed" in load(monkeypatch, dict(LIBRARY), "3")
    local.refresh_from_db()
    assert local.retired_at is None


def test_a_new_entry_with_a_name_already_taken_is_refused_and_nothing_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = next(iter(LIBRARY.values()))
    before = snapshot_of_everything()
    with pytest.raises(CommandError, match="already in the database"):
        load(monkeypatch, {**LIBRARY, NEW["slug"]: {**NEW, "name": taken["name"]}}, "3")
    assert snapshot_of_everything() == before


def test_slugs_of_entries_added_here_are_unique() -> None:
    first = Exercise.objects.create(
        name="Hip Hinge!", category="mobility", body_region="hip", instructions="."
    )
    second = Exercise.objects.create(
        name="Hip hinge?", category="mobility", body_region="hip", instructions="."
    )
    assert (first.slug, second.slug) == ("hip-hinge", "hip-hinge-2")


def test_migrations_never_read_the_live_library() -> None:
    folder = Path(_library_0002.__file__).parent
    for path in folder.glob("*.py"):
        assert "referrals.library.data" not in path.read_text(encoding="utf-8"), path.name
    # The frozen copy is what 0002 loaded: version 1, the same names the shipped library started from.
    assert _library_0002.LIBRARY_VERSION == "1" and len(_library_0002.EXERCISES) == 99


def test_the_api_lists_slugs_and_leaves_retired_entries_out(
    monkeypatch: pytest.MonkeyPatch, trainer: Any
) -> None:
    from tests.api.conftest import token_client

    gone = Exercise.objects.get(slug="wall-slides")
    load(monkeypatch, {k: v for k, v in LIBRARY.items() if k != gone.slug}, "3")
    rows = token_client(trainer).get("/api/v1/exercises/?search=wall&page_size=100").json()["results"]
    assert rows and all(r["slug"] == Exercise.objects.get(pk=r["id"]).slug for r in rows)
    assert gone.pk not in {r["id"] for r in rows}


def test_the_migration_names_existing_entries_by_their_names_in_id_order() -> None:
    from django.apps import apps

    fill_slugs = importlib.import_module("referrals.migrations.0010_library_slugs").fill_slugs
    first = Exercise.objects.create(
        name="Hip Hinge!", category="mobility", body_region="hip", instructions="."
    )
    second = Exercise.objects.create(
        name="Hip hinge?", category="mobility", body_region="hip", instructions="."
    )
    Exercise.objects.update(slug=Concat(F("pk"), Value("-temporary")))  # as if they had none yet
    fill_slugs(apps, None)
    slugs = dict(Exercise.objects.values_list("name", "slug"))
    assert (slugs["Hip Hinge!"], slugs["Hip hinge?"]) == ("hip-hinge", "hip-hinge-2")
    assert all(slugs[e["name"]] == e["slug"] for e in LIBRARY.values())  # the shipped slugs, exactly
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.library_version == second.library_version == ""  # not shipped: never retired
    assert set(
        Exercise.objects.exclude(pk__in=[first.pk, second.pk]).values_list("library_version", flat=True)
    ) == {"1"}
