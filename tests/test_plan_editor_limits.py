"""The plan editor never answers 500 to malformed form data, and never builds more rows than a plan may
hold: 60 exercises, 30 precautions, 30 red flags (referrals.models.PLAN_MAX_*). Malformed management
data is a 400 with a form error and the editor starts again from what is stored; nothing is saved."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals.care.models import (
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    PlanExercise,
    TreatmentPlan,
)
from referrals.library.models import Exercise
from referrals.web import forms as web_forms
from tests.conftest import World, login

pytestmark = pytest.mark.django_db


def edit_url(world: World) -> str:
    return reverse("plan_edit", args=[world.plan.public_id])


def post_data(**extra: str) -> dict[str, str]:
    exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    data = {
        "diagnosis": "Changed diagnosis",
        "goals": "Changed goals",
        "exercises-TOTAL_FORMS": "1",
        "exercises-INITIAL_FORMS": "0",
        "exercises-0-exercise": str(exercise.pk),
        "exercises-0-sets": "3",
        "exercises-0-frequency_per_week": "3",
        "precautions-TOTAL_FORMS": "0",
        "precautions-INITIAL_FORMS": "0",
        "red_flags-TOTAL_FORMS": "0",
        "red_flags-INITIAL_FORMS": "0",
        "save": "1",
    }
    return data | extra


def stored(world: World) -> tuple[Any, ...]:
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    rows = list(PlanExercise.objects.filter(plan=plan).values_list("exercise_id", "sets", "position"))
    return (
        plan.diagnosis,
        plan.goals,
        plan.updated_at,
        rows,
        plan.precautions.count(),
        plan.red_flags.count(),
    )


def test_the_row_formsets_are_capped_at_the_plan_limits() -> None:
    for formset, cap in (
        (web_forms.PlanExerciseFormSet, PLAN_MAX_EXERCISES),
        (web_forms.PrecautionFormSet, PLAN_MAX_PRECAUTIONS),
        (web_forms.RedFlagFormSet, PLAN_MAX_RED_FLAGS),
    ):
        assert (formset.max_num, formset.absolute_max, formset.validate_max) == (cap, cap, True)
    assert (PLAN_MAX_EXERCISES, PLAN_MAX_PRECAUTIONS, PLAN_MAX_RED_FLAGS) == (60, 30, 30)


def test_a_post_of_2000_empty_rows_is_refused_at_once_and_stores_nothing(
    client: Client, world: World
) -> None:
    """Before the cap this POST built 2,000 forms: 48 s and 22.5 MB on this machine."""
    before = stored(world)
    login(client, world.physio)
    started = time.perf_counter()
    response = client.post(edit_url(world), post_data(**{"exercises-TOTAL_FORMS": "2000"}))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert "At most 60 exercises per plan." in response.content.decode()
    assert elapsed < 3.0, elapsed
    assert len(response.content) < 200_000, len(response.content)
    assert stored(world) == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("exercises-TOTAL_FORMS", "abc"),
        ("exercises-TOTAL_FORMS", ""),
        ("exercises-TOTAL_FORMS", "-1"),
        ("exercises-TOTAL_FORMS", str(10**30)),
        ("exercises-TOTAL_FORMS", "1.5"),
        ("exercises-TOTAL_FORMS", "²"),  # str.isdigit() says yes, int() says no
        ("exercises-TOTAL_FORMS", "61"),
        ("precautions-TOTAL_FORMS", "31"),
        ("red_flags-TOTAL_FORMS", "31"),
        ("exercises-INITIAL_FORMS", "abc"),
        ("exercises-INITIAL_FORMS", "5"),  # more initial rows than rows
        ("red_flags-INITIAL_FORMS", str(10**30)),
        ("exercises-MIN_NUM_FORMS", "abc"),
        ("exercises-MAX_NUM_FORMS", str(10**30)),
        ("precautions-MAX_NUM_FORMS", "-3"),
    ],
)
@pytest.mark.parametrize("button", ["save", "add", "remove"])
def test_malformed_management_counts_are_a_form_error_and_nothing_is_stored(
    client: Client, world: World, key: str, value: str, button: str
) -> None:
    before = stored(world)
    data = post_data(**{key: value})
    if button != "save":
        del data["save"]
        data[button] = "exercises" if button == "add" else "exercises-0"
    response = login(client, world.physio).post(edit_url(world), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="refused"' in body and "Nothing was saved" in body
    # the editor starts again from the stored plan
    assert response.context["form"]["diagnosis"].value() == world.plan.diagnosis
    assert stored(world) == before


@pytest.mark.parametrize("prefix", ["exercises", "precautions", "red_flags"])
def test_a_missing_management_form_is_a_form_error(client: Client, world: World, prefix: str) -> None:
    before = stored(world)
    data = {k: v for k, v in post_data().items() if not k.startswith(f"{prefix}-") or "_FORMS" not in k}
    response = login(client, world.physio).post(edit_url(world), data)
    assert response.status_code == 400 and "Nothing was saved" in response.content.decode()
    assert stored(world) == before


@pytest.mark.parametrize("exercise_id", [str(10**30), "abc", "-5", "0", "²", "99999999"])
def test_an_exercise_id_that_is_no_exercise_is_an_error_on_its_row(
    client: Client, world: World, exercise_id: str
) -> None:
    before = stored(world)
    response = login(client, world.physio).post(
        edit_url(world), post_data(**{"exercises-0-exercise": exercise_id})
    )
    assert response.status_code == 400
    assert response.context["exercise_rows"].forms[0].errors["exercise"]
    assert stored(world) == before


@pytest.mark.parametrize("remove", ["exercises-²", "exercises-99999999999", "nope-0", "exercises-", "-0"])
def test_a_remove_button_with_an_odd_row_changes_nothing(client: Client, world: World, remove: str) -> None:
    before = stored(world)
    data = post_data(remove=remove)
    del data["save"]
    response = login(client, world.physio).post(edit_url(world), data)
    assert response.status_code == 200
    assert len(response.context["exercise_rows"].forms) == 1
    assert stored(world) == before


@pytest.mark.parametrize(
    ("prefix", "cap"),
    [
        ("exercises", PLAN_MAX_EXERCISES),
        ("precautions", PLAN_MAX_PRECAUTIONS),
        ("red_flags", PLAN_MAX_RED_FLAGS),
    ],
)
def test_add_stops_at_the_cap(client: Client, world: World, prefix: str, cap: int) -> None:
    login(client, world.physio)
    data = post_data(**{f"{prefix}-TOTAL_FORMS": str(cap - 1)}, add=prefix)
    del data["save"]
    almost = client.post(edit_url(world), data)
    rows = {"exercises": "exercise_rows", "precautions": "precaution_rows", "red_flags": "red_flag_rows"}[
        prefix
    ]
    assert almost.status_code == 200 and len(almost.context[rows].forms) == cap
    body = almost.content.decode()
    assert f'name="add" value="{prefix}"' not in body and f'data-testid="{prefix}-full"' in body
    data[f"{prefix}-TOTAL_FORMS"] = str(cap)  # "Add" posted anyway at the cap
    full = client.post(edit_url(world), data)
    assert full.status_code == 200 and len(full.context[rows].forms) == cap
    assert "A plan has at most" in full.content.decode()


def test_the_fresh_editor_shows_the_add_buttons(client: Client, world: World) -> None:
    body = login(client, world.physio).get(edit_url(world)).content.decode()
    for prefix in ("exercises", "precautions", "red_flags"):
        assert f'name="add" value="{prefix}"' in body


def test_a_diagnosis_longer_than_the_api_allows_is_a_field_error(client: Client, world: World) -> None:
    before = stored(world)
    response = login(client, world.physio).post(edit_url(world), post_data(diagnosis="x" * 4001))
    assert response.status_code == 400 and response.context["form"].errors["diagnosis"]
    assert stored(world) == before
