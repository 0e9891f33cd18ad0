"""The HTML adapter's form helpers: rows added and removed without losing input, service errors mapped."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import QueryDict

from referrals.web import forms as web_forms


def posted(**pairs: str) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in pairs.items():
        data[key.replace("__", "-")] = value
    return data


def rows_data() -> QueryDict:
    return posted(
        diagnosis="Knee pain",
        exercises__TOTAL_FORMS="3",
        exercises__INITIAL_FORMS="2",
        exercises__0__reps="5",
        exercises__1__reps="6",
        exercises__2__reps="7",
        red_flags__TOTAL_FORMS="1",
        red_flags__0__description="Swelling",
    )


def test_removing_a_row_renumbers_the_rows_after_it_and_keeps_the_rest() -> None:
    data = web_forms.formset_data_with_row_removed(rows_data(), "exercises", 1)
    assert data["exercises-TOTAL_FORMS"] == "2" and data["exercises-INITIAL_FORMS"] == "1"
    assert data["exercises-0-reps"] == "5" and data["exercises-1-reps"] == "7"
    assert "exercises-2-reps" not in data
    assert data["diagnosis"] == "Knee pain" and data["red_flags-0-description"] == "Swelling"


def test_removing_a_new_row_keeps_the_initial_count() -> None:
    data = web_forms.formset_data_with_row_removed(rows_data(), "exercises", 2)
    assert data["exercises-TOTAL_FORMS"] == "2" and data["exercises-INITIAL_FORMS"] == "2"


def test_removing_a_row_that_does_not_exist_changes_nothing() -> None:
    data = web_forms.formset_data_with_row_removed(rows_data(), "exercises", 9)
    assert data.dict() == rows_data().dict()


def test_adding_a_row_fills_it_with_the_usual_dose() -> None:
    data = web_forms.formset_data_with_row_added(rows_data(), "exercises", web_forms.PlanExerciseForm)
    assert data["exercises-TOTAL_FORMS"] == "4"
    assert data["exercises-3-sets"] == "3" and data["exercises-3-frequency_per_week"] == "3"
    assert data["exercises-0-reps"] == "5"


def test_service_errors_land_on_the_row_that_was_sent() -> None:
    form = web_forms.PlanForm({"diagnosis": "x", "goals": "y"})
    rowset = web_forms.RedFlagFormSet(
        posted(
            red_flags__TOTAL_FORMS="3",
            red_flags__INITIAL_FORMS="0",
            red_flags__0__description="a",
            red_flags__2__description="c",
        ),
        prefix="red_flags",
    )
    assert form.is_valid() and rowset.is_valid()
    sent = [i for i, _ in web_forms.filled_rows(rowset)]
    assert sent == [0, 2]  # the blank middle row is not sent
    error = ValidationError({"red_flags.1": ["Too vague."], "diagnosis": ["Say more."], "plan.x": ["Odd."]})
    web_forms.apply_service_errors(error, form, {"red_flags": (rowset, sent)})
    assert rowset.forms[2].errors == {"description": ["Too vague."]}
    assert rowset.forms[0].errors == {}
    assert form.errors["diagnosis"] == ["Say more."]
    assert "Odd." in form.non_field_errors()


def test_a_plain_service_error_becomes_a_form_wide_error() -> None:
    form = web_forms.PatientForm({"full_name": "A", "date_of_birth": "1990-01-01"})
    assert form.is_valid()
    web_forms.apply_service_errors(ValidationError("Something is off."), form)
    assert form.non_field_errors() == ["Something is off."]


def test_reason_form_requires_text_only_when_asked() -> None:
    assert web_forms.ReasonForm({"x-text": ""}, prefix="x").is_valid()
    required = web_forms.ReasonForm({"x-text": ""}, prefix="x", required=True, label="Why")
    assert not required.is_valid() and required.fields["text"].label == "Why"
