"""Bad input gets a clear, field-level error and leaves stored data as it was."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from referrals.care import services as care_services
from referrals.care.models import Patient, PlanExercise, Precaution, TreatmentPlan
from referrals.library.models import Exercise
from tests.conftest import World

pytestmark = pytest.mark.django_db


def exercise() -> Exercise:
    found = Exercise.objects.filter(name="Goblet squat").first() or Exercise.objects.first()
    assert found is not None
    return found


def test_the_exercise_library_ships_at_least_60_exercises_with_rehab_categories() -> None:
    assert Exercise.objects.count() >= 60
    for category in ("mobility", "balance", "stretching", "strength", "cardio", "functional"):
        assert Exercise.objects.filter(category=category).count() >= 5, category


@pytest.mark.parametrize(
    ("dose", "field"),
    [
        ({"sets": -1, "reps": 10}, "sets"),
        ({"sets": 0, "reps": 10}, "sets"),
        ({"sets": 21, "reps": 10}, "sets"),
        ({"sets": 3, "reps": 10000}, "reps"),
        ({"sets": 3, "hold_seconds": 0}, "hold_seconds"),
        ({"sets": 3, "duration_minutes": 600}, "duration_minutes"),
        ({"sets": 3}, "reps"),
        ({"sets": 3, "reps": 10, "hold_seconds": 30}, "hold_seconds"),
        ({"sets": 3, "reps": 10, "frequency_per_week": 15}, "frequency_per_week"),
        ({"sets": 3, "reps": 10, "load_unit": "kg"}, "load_value"),
        ({"sets": 3, "reps": 10, "load_unit": "kg", "load_value": 900}, "load_value"),
        ({"sets": 3, "reps": 10, "load_unit": "rpe", "load_value": 11}, "load_value"),
        ({"sets": 3, "reps": 10, "load_unit": "pct_1rm", "load_value": 120}, "load_value"),
        ({"sets": 3, "reps": 10, "load_unit": "bodyweight", "load_value": 5}, "load_value"),
        ({"sets": 3, "reps": 10, "load_value": 5}, "load_unit"),
        ({"sets": 3, "reps": 10, "load_unit": "tons", "load_value": 5}, "load_unit"),
        ({"sets": 3, "reps": 10, "tempo": "fast"}, "tempo"),
        ({"sets": 3, "reps": 10, "rest_seconds": 5000}, "rest_seconds"),
        ({"sets": 3, "reps": 10, "notes": "x" * 2001}, "notes"),
        ({"sets": 3, "reps": 10, "colour": "red"}, "colour"),
    ],
)
def test_absurd_doses_are_refused_with_a_field_error_and_nothing_is_stored(
    world: World, dose: dict[str, Any], field: str
) -> None:
    plans_before = TreatmentPlan.objects.count()
    with pytest.raises(ValidationError) as err:
        care_services.plan_create(
            patient=world.plan.patient,
            actor=world.physio,
            diagnosis="Ankle sprain",
            goals="Run 5 km",
            exercises=[{"exercise": exercise(), "sets": 3, "reps": 10}, {"exercise": exercise(), **dose}],
        )
    assert f"exercises.1.{field}" in err.value.message_dict, err.value.message_dict
    assert TreatmentPlan.objects.count() == plans_before


def test_a_sane_dose_is_stored_with_its_text(world: World) -> None:
    plan = care_services.plan_create(
        patient=world.plan.patient,
        actor=world.physio,
        diagnosis="Ankle sprain",
        goals="Run 5 km",
        exercises=[
            {
                "exercise": exercise(),
                "sets": 3,
                "reps": 8,
                "load_unit": "kg",
                "load_value": "12.5",
                "tempo": "3-1-1-0",
            },
            {"exercise": exercise().pk, "sets": 2, "hold_seconds": 30, "load_unit": "band"},
        ],
    )
    doses = [pe.dose_text for pe in PlanExercise.objects.filter(plan=plan)]
    assert doses == ["3 x 8 reps, 12.5 kg, 3x/week", "2 x 30 s hold, band, 3x/week"]


@pytest.mark.parametrize(
    ("precaution", "field"),
    [
        ({"kind": "avoid_movement"}, "detail"),
        (
            {"kind": "avoid_movement", "detail": "No deep squats", "limit_value": 5, "limit_unit": "kg"},
            "limit_value",
        ),
        ({"kind": "load_limit", "body_region": "knee"}, "limit_value"),
        ({"kind": "load_limit", "limit_value": 10, "limit_unit": "kg"}, "body_region"),
        ({"kind": "load_limit", "body_region": "knee", "limit_value": 10, "limit_unit": "deg"}, "limit_unit"),
        (
            {"kind": "rom_limit", "body_region": "knee", "limit_value": 400, "limit_unit": "deg"},
            "limit_value",
        ),
        ({"kind": "effort_cap", "limit_value": 300, "limit_unit": "bpm"}, "limit_value"),
        ({"kind": "effort_cap", "limit_value": 11, "limit_unit": "rpe"}, "limit_value"),
        ({"kind": "pain_rule", "limit_value": 12, "limit_unit": "pain"}, "limit_value"),
        ({"kind": "weight_bearing"}, "weight_bearing"),
        (
            {"kind": "pain_rule", "limit_value": 3, "limit_unit": "pain", "weight_bearing": "nwb"},
            "weight_bearing",
        ),
        ({"kind": "teleport", "detail": "x"}, "kind"),
    ],
)
def test_precautions_are_checked_by_kind(world: World, precaution: dict[str, Any], field: str) -> None:
    before = Precaution.objects.count()
    with pytest.raises(ValidationError) as err:
        care_services.plan_update(plan=world.plan, actor=world.physio, precautions=[precaution])
    assert f"precautions.0.{field}" in err.value.message_dict, err.value.message_dict
    assert Precaution.objects.count() == before


def test_valid_precautions_of_every_kind_are_stored(world: World) -> None:
    rows: list[dict[str, Any]] = [
        {"kind": "avoid_movement", "body_region": "lumbar_spine", "detail": "No loaded spinal flexion"},
        {"kind": "load_limit", "body_region": "knee", "limit_value": 20, "limit_unit": "kg"},
        {"kind": "rom_limit", "body_region": "knee", "limit_value": 90, "limit_unit": "deg"},
        {"kind": "weight_bearing", "weight_bearing": "pwb", "valid_until": datetime.date(2027, 1, 31)},
        {"kind": "effort_cap", "limit_value": 140, "limit_unit": "bpm"},
        {
            "kind": "pain_rule",
            "limit_value": 3,
            "limit_unit": "pain",
            "detail": "Stop if pain rises above 3/10",
        },
    ]
    care_services.plan_update(plan=world.plan, actor=world.physio, precautions=rows)
    summaries = [p.summary for p in world.plan.precautions.all()]
    assert "Range-of-motion limit (Knee): 90 degrees" in summaries
    assert "Weight-bearing status: Partial weight-bearing, until 2027-01-31" in summaries


def test_plan_fields_are_validated(world: World) -> None:
    with pytest.raises(ValidationError) as err:
        care_services.plan_create(
            patient=world.plan.patient, actor=world.physio, diagnosis="", goals="", icd10_code="not-a-code"
        )
    assert {"diagnosis", "goals", "icd10_code"} <= set(err.value.message_dict)


def test_patient_date_of_birth_in_the_future_is_refused(world: World, clinic: Any) -> None:
    before = Patient.objects.count()
    with pytest.raises(ValidationError) as err:
        care_services.patient_create(
            clinic=clinic, actor=world.physio, full_name="Future Kid", date_of_birth=datetime.date(2999, 1, 1)
        )
    assert "date_of_birth" in err.value.message_dict
    assert Patient.objects.count() == before


def test_plan_edit_by_another_clinic_is_refused_and_changes_nothing(
    world: World, other_clinic_physio: Any
) -> None:
    from referrals.errors import NotPermitted

    with pytest.raises(NotPermitted):
        care_services.plan_update(plan=world.plan, actor=other_clinic_physio, goals="hijacked")
    world.plan.refresh_from_db()
    assert world.plan.goals != "hijacked"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"exercises": [{"exercise": "abc", "sets": 3, "reps": 10}]}, "exercises.0.exercise"),
        ({"exercises": [{"exercise": None, "sets": 3, "reps": 10}]}, "exercises.0.exercise"),
        ({"exercises": [{"exercise": 1, "sets": "many", "reps": 10}]}, "exercises.0.sets"),
        (
            {"exercises": [{"exercise": 1, "sets": 3, "reps": 10, "load_unit": "kg", "load_value": "heavy"}]},
            "exercises.0.load_value",
        ),
        (
            {"precautions": [{"kind": "pain_rule", "limit_value": "lots", "limit_unit": "pain"}]},
            "precautions.0.limit_value",
        ),
        ({"precautions": [{"kind": "avoid_movement", "detail": None}]}, "precautions.0.detail"),
        ({"red_flags": [5]}, "red_flags.0"),
        ({"red_flags": ["   "]}, "red_flags.0"),
    ],
)
def test_mistyped_input_is_a_field_error_not_a_crash(
    world: World, kwargs: dict[str, Any], field: str
) -> None:
    before = (PlanExercise.objects.count(), Precaution.objects.count(), TreatmentPlan.objects.count())
    with pytest.raises(ValidationError) as err:
        care_services.plan_create(
            patient=world.plan.patient, actor=world.physio, diagnosis="d", goals="g", **kwargs
        )
    assert field in err.value.message_dict, err.value.message_dict
    assert (PlanExercise.objects.count(), Precaution.objects.count(), TreatmentPlan.objects.count()) == before


def test_a_date_of_birth_that_is_not_a_date_is_a_field_error(world: World, clinic: Any) -> None:
    with pytest.raises(ValidationError) as err:
        care_services.patient_create(
            clinic=clinic,
            actor=world.physio,
            full_name="X",
            date_of_birth="yesterday",  # type: ignore[arg-type]
        )
    assert "date_of_birth" in err.value.message_dict


def test_a_plan_s_physiotherapist_must_be_a_physio_of_the_patient_s_clinic(
    world: World, other_clinic_physio: Any
) -> None:
    for wrong in (world.trainer, other_clinic_physio):
        world.plan.physiotherapist = wrong
        with pytest.raises(ValidationError) as err:
            world.plan.full_clean()
        assert "physiotherapist" in err.value.message_dict
