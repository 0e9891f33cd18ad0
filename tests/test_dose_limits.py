"""Dose limits are stated once (referrals.models.DOSE_LIMITS): the model's validators, the database's
check constraints and the API's inputs all read them, so none can drift from another."""

from __future__ import annotations

import pytest
from django import forms as django_forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from rest_framework import serializers

from referrals.api.serializers import care as serializers_care
from referrals.care.models import DOSE_LIMITS, PlanExercise, Precaution, decimal_shape, dose_bounds
from referrals.web import forms as web_forms
from tests import factories as f
from tests.conftest import World

# The dose fields the database checks too, by constraint name (rest_seconds is checked by the model only).
CONSTRAINED = {
    "sets": "planexercise_sets_range",
    "reps": "planexercise_reps_range",
    "hold_seconds": "planexercise_hold_range",
    "duration_minutes": "planexercise_duration_range",
    "frequency_per_week": "planexercise_frequency_range",
}


@pytest.mark.parametrize("name", sorted(DOSE_LIMITS))
def test_the_model_and_the_api_read_the_one_dose_range(name: str) -> None:
    low, high = dose_bounds(name)
    assert (low, high) == tuple(int(v) for v in DOSE_LIMITS[name])
    field = PlanExercise._meta.get_field(name)
    assert isinstance(field, models.Field)
    validators = field.validators
    assert [v.limit_value for v in validators if isinstance(v, MinValueValidator)] == [low]
    assert [v.limit_value for v in validators if isinstance(v, MaxValueValidator)] == [high]
    api_field = serializers_care.PlanExerciseInputSerializer().fields[name]
    assert isinstance(api_field, serializers.IntegerField)
    assert (api_field.min_value, api_field.max_value) == (low, high)


def test_every_database_dose_constraint_reads_the_one_range() -> None:
    constraints = {c.name: c for c in PlanExercise._meta.constraints}
    for name, constraint_name in CONSTRAINED.items():
        low, high = dose_bounds(name)
        text = str(getattr(constraints[constraint_name], "condition", ""))
        assert f"('{name}__gte', {low})" in text and f"('{name}__lte', {high})" in text, text


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CONSTRAINED))
def test_the_database_refuses_a_dose_one_over_its_range(world: World, name: str) -> None:
    row = f.PlanExerciseFactory(plan=world.plan)
    _, high = dose_bounds(name)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanExercise.objects.filter(pk=row.pk).update(**{name: high + 1})
    PlanExercise.objects.filter(pk=row.pk).update(**{name: high})  # the limit itself is a dose


def test_the_decimal_inputs_take_the_models_digits() -> None:
    for model, name, form_field, api_field in (
        (
            PlanExercise,
            "load_value",
            web_forms.PlanExerciseForm.base_fields["load_value"],
            serializers_care.PlanExerciseInputSerializer().fields["load_value"],
        ),
        (
            Precaution,
            "limit_value",
            web_forms.PrecautionForm.base_fields["limit_value"],
            serializers_care.PrecautionInputSerializer().fields["limit_value"],
        ),
    ):
        shape = decimal_shape(model, name)
        assert isinstance(form_field, django_forms.DecimalField)
        assert isinstance(api_field, serializers.DecimalField)
        assert (form_field.max_digits, form_field.decimal_places) == (
            shape["max_digits"],
            shape["decimal_places"],
        )
        assert (api_field.max_digits, api_field.decimal_places) == (
            shape["max_digits"],
            shape["decimal_places"],
        )
