"""The pages' forms: parse and validate input; limits come from the models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.forms import formset_factory
from django.http import QueryDict

from accounts.models import Specialization
from referrals.care.models import (
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    REPORT_INTERVAL_DEFAULT,
    REPORT_INTERVAL_WEEKS,
    Consent,
    LoadUnit,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TreatmentPlan,
    decimal_shape,
)
from referrals.care.services import ROW_CAPS, row_cap_message
from referrals.common import text_limit
from referrals.concerns.models import CONCERN_MAX_LENGTH, CONCERN_NOTE_MAX_LENGTH
from referrals.handoffs.models import REASON_MAX_LENGTH
from referrals.handoffs.refer_back import NOTE_MAX_LENGTH as REFER_BACK_NOTE_MAX_LENGTH
from referrals.library.models import BodyRegion, Exercise

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices: Iterable[tuple[str, Any]], label: str = "---------") -> list[tuple[str, Any]]:
    return [("", label), *choices]


# Every text limit is the model's (text_limit) or one constant of referrals.models: the API and the admin
# read the same, and the services enforce it.


class PatientForm(forms.Form):
    full_name = forms.CharField(max_length=text_limit(Patient, "full_name"), label="Full name")
    date_of_birth = forms.DateField(label="Date of birth", widget=DATE)
    email = forms.EmailField(required=False, max_length=text_limit(Patient, "email"))
    phone = forms.CharField(max_length=text_limit(Patient, "phone"), required=False)


class PatientCreateForm(PatientForm):
    """Adding a patient: with a choice of clinic, as in the API, only for a physiotherapist of several
    (`clinics`: their (public id, name) pairs; a clinic outside them is not a choice), and
    `confirm_distinct`, shown (and needed) only once the clinic turned out to have a patient with the same
    name and date of birth."""

    clinic = forms.ChoiceField(label="Clinic", choices=())
    confirm_distinct = forms.BooleanField(
        required=False, label="This is a different person: add them as a new patient"
    )

    field_order = ["clinic"]

    def __init__(self, *args: Any, clinics: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(clinics) > 1:
            field = self.fields["clinic"]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
            field.choices = _blank(clinics, "Choose the clinic")
        else:
            del self.fields["clinic"]


class PlanForm(forms.Form):
    diagnosis = forms.CharField(
        max_length=text_limit(TreatmentPlan, "diagnosis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The condition, in words.",
    )
    icd10_code = forms.CharField(
        max_length=text_limit(TreatmentPlan, "icd10_code"),
        required=False,
        label="ICD-10 code",
        help_text="e.g. M75.1",
    )
    goals = forms.CharField(
        max_length=text_limit(TreatmentPlan, "goals"), widget=forms.Textarea(attrs={"rows": 3})
    )
    start_date = forms.DateField(required=False, widget=DATE, label="Start date")
    report_interval_weeks = forms.IntegerField(
        min_value=REPORT_INTERVAL_WEEKS[0],
        max_value=REPORT_INTERVAL_WEEKS[1],
        initial=REPORT_INTERVAL_DEFAULT,
        # left empty: a new plan gets the default, an edited one keeps its interval
        required=False,
        label="Progress report every (weeks)",
        help_text=f"How often the trainer sends a progress report: {REPORT_INTERVAL_WEEKS[0]} to "
        f"{REPORT_INTERVAL_WEEKS[1]} weeks.",
    )


class ExerciseFilterForm(forms.Form):
    """The library search shown above the exercise rows (its fields ride along in the plan form)."""

    q = forms.CharField(required=False, label="Exercise name", max_length=100)
    category = forms.ChoiceField(required=False, choices=_blank(Exercise.Category.choices, "Any category"))
    body_region = forms.ChoiceField(required=False, choices=_blank(BodyRegion.choices, "Any body region"))


class PlanExerciseForm(forms.Form):
    exercise = forms.TypedChoiceField(coerce=int, choices=())
    sets = forms.IntegerField(initial=3)
    reps = forms.IntegerField(required=False)
    hold_seconds = forms.IntegerField(required=False, label="Hold (s)")
    duration_minutes = forms.IntegerField(required=False, label="Duration (min)")
    load_unit = forms.ChoiceField(required=False, choices=_blank(LoadUnit.choices, "No load"), label="Load")
    load_value = forms.DecimalField(
        required=False, **decimal_shape(PlanExercise, "load_value"), label="Load value"
    )
    frequency_per_week = forms.IntegerField(initial=3, label="Times a week")
    tempo = forms.CharField(
        required=False, max_length=text_limit(PlanExercise, "tempo"), help_text="e.g. 3-1-1-0"
    )
    rest_seconds = forms.IntegerField(required=False, label="Rest (s)")
    notes = forms.CharField(
        required=False, max_length=text_limit(PlanExercise, "notes"), widget=forms.Textarea(attrs={"rows": 2})
    )
    progression_note = forms.CharField(
        required=False,
        max_length=text_limit(PlanExercise, "progression_note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Progression",
        help_text="When and how the trainer may progress it.",
    )

    def __init__(self, *args: Any, exercise_choices: Sequence[tuple[Any, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exercise"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = _blank(exercise_choices, "Choose an exercise")


class PrecautionForm(forms.Form):
    kind = forms.ChoiceField(choices=_blank(Precaution.Kind.choices))
    body_region = forms.ChoiceField(required=False, choices=_blank(BodyRegion.choices), label="Body region")
    limit_value = forms.DecimalField(
        required=False, **decimal_shape(Precaution, "limit_value"), label="Limit"
    )
    limit_unit = forms.ChoiceField(required=False, choices=_blank(Precaution.Unit.choices), label="Unit")
    weight_bearing = forms.ChoiceField(
        required=False, choices=_blank(Precaution.WeightBearing.choices), label="Weight-bearing"
    )
    valid_until = forms.DateField(required=False, widget=DATE, label="Until")
    detail = forms.CharField(
        required=False, max_length=text_limit(Precaution, "detail"), widget=forms.Textarea(attrs={"rows": 2})
    )


class RedFlagForm(forms.Form):
    description = forms.CharField(max_length=text_limit(RedFlag, "description"), label="Red flag")


# Capped: never more forms built than a plan may hold, whatever TOTAL_FORMS says (absolute_max), and
# more rows than that posted are a formset error (validate_max).
PlanExerciseFormSet = formset_factory(
    PlanExerciseForm,
    extra=1,
    max_num=PLAN_MAX_EXERCISES,
    validate_max=True,
    absolute_max=PLAN_MAX_EXERCISES,
)


PrecautionFormSet = formset_factory(
    PrecautionForm,
    extra=0,
    max_num=PLAN_MAX_PRECAUTIONS,
    validate_max=True,
    absolute_max=PLAN_MAX_PRECAUTIONS,
)


RedFlagFormSet = formset_factory(
    RedFlagForm, extra=0, max_num=PLAN_MAX_RED_FLAGS, validate_max=True, absolute_max=PLAN_MAX_RED_FLAGS
)


class ConsentForm(forms.Form):
    gym = forms.ChoiceField(label="Partner gym", choices=())
    scope = forms.ChoiceField(choices=Consent.Scope.choices, label="What may be shared")

    def __init__(self, *args: Any, gyms: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["gym"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = _blank(gyms, "Choose a partner gym")


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=text_limit(Consent, "withdrawal_reason"), label="Reason (optional)"
    )


class TrainerFilterForm(forms.Form):
    specialization = forms.ChoiceField(
        required=False, choices=_blank(Specialization.choices, "Any specialization")
    )
    accepting = forms.BooleanField(required=False, label="Only trainers accepting new clients")


class DischargeForm(forms.Form):
    trainer = forms.UUIDField(widget=forms.HiddenInput)
    gym = forms.UUIDField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    """The text of a handoff action: a reason or a completion summary (REASON_MAX_LENGTH), or a concern
    (`max_length=CONCERN_MAX_LENGTH`)."""

    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    hold = forms.BooleanField(required=False, label="Also put the referral on hold")

    def __init__(
        self,
        *args: Any,
        label: str = "Reason",
        required: bool = False,
        max_length: int = REASON_MAX_LENGTH,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["text"]
        assert isinstance(field, forms.CharField)  # noqa: S101 - declared above
        field.label = label
        field.required = required
        field.max_length = max_length
        field.validators.append(MaxLengthValidator(max_length))
        field.widget.attrs["maxlength"] = str(max_length)


def concern_form(data: Any = None) -> ReasonForm:
    """The trainer's concern: its text and whether to hold the referral too."""
    return ReasonForm(
        data, prefix="concern", label="What did you notice?", required=True, max_length=CONCERN_MAX_LENGTH
    )


def _review_on_field(required: bool) -> forms.DateField:
    return forms.DateField(
        required=required,
        widget=DATE,
        label="Review the hold on",
        help_text="After today, within 180 days; that day you are asked to resume or close the referral.",
    )


class HoldForm(ReasonForm):
    """Put a referral on hold: why, and the day to review it (empty: the clinic's default)."""

    def __init__(self, *args: Any, default_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review_on"] = _review_on_field(required=False)
        self.fields[
            "review_on"
        ].help_text = (
            f"Empty: in {default_days} days. That day you are asked to resume or close the referral."
        )


class HoldReviewForm(forms.Form):
    """A new review date for a referral on hold (handoffs.services.handoff_hold_review_set)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "hold_review")
        super().__init__(*args, **kwargs)
        self.fields["review_on"] = _review_on_field(required=True)


class ReferBackForm(forms.Form):
    """Send the client back to the physiotherapist (handoffs.refer_back): why, and whether the referral
    ends (a referral in progress otherwise goes on hold: the client may come back)."""

    note = forms.CharField(
        max_length=REFER_BACK_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why the client goes back to the physiotherapist",
    )
    end = forms.BooleanField(
        required=False,
        label="End the referral (otherwise it goes on hold and the trainer can resume it)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "refer_back")
        super().__init__(*args, **kwargs)


class ConcernResolveForm(forms.Form):
    note = forms.CharField(
        max_length=CONCERN_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="How it was resolved",
        help_text="The trainer reads this note.",
    )


# --- rows: add and remove without losing what was typed ------------------------------------------------

_COUNT = re.compile(r"[0-9]{1,4}")  # ASCII digits only: str.isdigit() also takes "²", which int() refuses


_ROW_KEY = re.compile(r"([0-9]{1,4})-(.+)")


def management_problem(data: QueryDict, prefix: str, max_num: int) -> str | None:
    """Why the posted management data of formset `prefix` cannot be used, or None: the counts must be
    there, small whole numbers, with INITIAL_FORMS <= TOTAL_FORMS <= `max_num`. Checked before any form
    is built, so hostile counts cost nothing and never reach int()."""
    counts = {}
    for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        values = data.getlist(f"{prefix}-{key}")
        if not values and key in ("MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            continue  # Django renders them but never reads them back
        if len(values) != 1 or not _COUNT.fullmatch(str(values[0])):
            return "The rows sent were incomplete or malformed."
        counts[key] = int(values[0])
    if counts["TOTAL_FORMS"] > max_num:
        # a plan's own row sets say it as the service does ("At most 30 red flags per plan.")
        return row_cap_message(prefix) if prefix in ROW_CAPS else f"At most {max_num} rows can be sent."
    if counts["INITIAL_FORMS"] > counts["TOTAL_FORMS"]:
        return "The rows sent were incomplete or malformed."
    return None


def row_count(data: QueryDict, prefix: str, key: str = "TOTAL_FORMS") -> int:
    """A count of data that passed `management_problem` (0 for anything else)."""
    value = str(data.get(f"{prefix}-{key}", ""))
    return int(value) if _COUNT.fullmatch(value) else 0


def formset_data_with_row_added(data: QueryDict, prefix: str, form_class: type[forms.Form]) -> QueryDict:
    """The posted data with one more row, filled with the fields' initial values (3 sets, 3 a week)."""
    copy = data.copy()
    total = row_count(data, prefix)
    copy[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    for name, field in form_class.base_fields.items():
        if field.initial is not None:
            copy[f"{prefix}-{total}-{name}"] = str(field.initial)
    return copy


def formset_data_with_row_removed(data: QueryDict, prefix: str, index: int) -> QueryDict:
    """The posted data with row `index` of the formset taken out and the rows after it renumbered."""
    total = row_count(data, prefix)
    initial = min(total, row_count(data, prefix, "INITIAL_FORMS"))
    if not 0 <= index < total:
        return data.copy()
    copy = QueryDict(mutable=True)
    row_prefix = f"{prefix}-"
    for key, values in data.lists():
        if not key.startswith(row_prefix):
            copy.setlist(key, values)
            continue
        match = _ROW_KEY.fullmatch(key[len(row_prefix) :])
        if match is None:
            continue  # management fields (set below), or no row of this formset
        row, name = int(match[1]), match[2]
        if row == index:
            continue
        copy.setlist(f"{prefix}-{row - 1 if row > index else row}-{name}", values)
    copy[f"{prefix}-TOTAL_FORMS"] = str(total - 1)
    copy[f"{prefix}-INITIAL_FORMS"] = str(max(0, initial - 1) if index < initial else initial)
    for key in ("MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        if f"{prefix}-{key}" in data:
            copy.setlist(f"{prefix}-{key}", data.getlist(f"{prefix}-{key}"))
    return copy


def filled_rows(formset: forms.BaseFormSet[Any]) -> list[tuple[int, dict[str, Any]]]:
    """(form index, cleaned data) of the rows that were filled in; blank new rows are skipped."""
    return [(i, dict(form.cleaned_data)) for i, form in enumerate(formset.forms) if form.cleaned_data]


# --- mapping a service's ValidationError back onto the forms -------------------------------------------


def apply_service_errors(
    exc: ValidationError,
    form: forms.Form,
    rows: Mapping[str, tuple[forms.BaseFormSet[Any], Sequence[int]]] | None = None,
) -> None:
    """Put each message next to the field it names: `field` on the main form, `exercises.2.sets` on the
    formset row that was the third row sent to the service. Anything else becomes a form-wide error."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    rows = rows or {}
    for key, messages in exc.message_dict.items():
        parts = key.split(".")
        if parts[0] in rows and len(parts) >= 2 and parts[1].isdigit():
            formset, index_map = rows[parts[0]]
            sent = int(parts[1])
            if sent < len(index_map):
                target = formset.forms[index_map[sent]]
                name = parts[2] if len(parts) > 2 else _only_field(target)
                target.add_error(name if name in target.fields else None, messages)
                continue
        name = parts[-1] if len(parts) <= 2 else key
        if name in form.fields:
            form.add_error(name, messages)
        elif key == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            form.add_error(None, [f"{m}" for m in messages])


def _only_field(form: forms.Form) -> str | None:
    names = list(form.fields)
    return names[0] if len(names) == 1 else None
