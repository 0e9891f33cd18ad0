"""The forms of the session log page: the session, and one formset of its exercises (the prescribed ones
first, prefilled with their dose, then a few rows to add an exercise from the library). The ranges are
progress.models' constants, so the phone's keyboard and the browser check what the service checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from referrals.care.models import LoadUnit, decimal_shape
from referrals.progress.models import (
    HEART_RATE_RANGE,
    MVPA_MINUTES_RANGE,
    SCORE_RANGE,
    SESSION_DURATION_MINUTES_RANGE,
    SESSION_HOLD_SECONDS_RANGE,
    SESSION_MAX_EXERCISES,
    SESSION_NOTE_MAX_LENGTH,
    SESSION_REPS_RANGE,
    SESSION_SETS_RANGE,
    SessionExercise,
    SessionLog,
)
from referrals.web.forms import DATE, _blank

ADDED_ROWS = 3  # rows offered to add an exercise from the library
EXERCISES_PREFIX = "ex"


def _number(bounds: tuple[int, int], label: str, **kwargs: Any) -> forms.IntegerField:
    low, high = bounds
    return forms.IntegerField(
        required=False,
        min_value=low,
        max_value=high,
        label=label,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": low, "max": high}),
        **kwargs,
    )


class SessionForm(forms.Form):
    session_date = forms.DateField(widget=DATE, label="Date", initial=timezone.localdate)
    attendance = forms.ChoiceField(
        choices=SessionLog.Attendance.choices,
        initial=SessionLog.Attendance.ATTENDED,
        widget=forms.RadioSelect,
    )
    rpe = _number(SCORE_RANGE, "Session RPE (0-10)", help_text="Borg CR10: 0 rest, 10 maximal.")
    pain_before = _number(SCORE_RANGE, "Pain before (0-10)")
    pain_after = _number(SCORE_RANGE, "Pain after (0-10)")
    mvpa_minutes = _number(MVPA_MINUTES_RANGE, "Minutes of moderate-to-vigorous activity")
    peak_heart_rate = _number(HEART_RATE_RANGE, "Peak heart rate (bpm)")
    red_flags = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Red flags seen",
        help_text="Any one ticked tells the physiotherapist at once.",
    )
    note = forms.CharField(
        required=False, max_length=SESSION_NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, red_flags: Iterable[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["red_flags"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        field.choices = [(str(flag["id"]), str(flag.get("description", ""))) for flag in red_flags]


class SessionExerciseForm(forms.Form):
    prescribed_id = forms.CharField(required=False, widget=forms.HiddenInput)
    exercise = forms.ChoiceField(required=False, label="Add an exercise", choices=())
    done = forms.BooleanField(required=False, initial=True, label="Done")
    sets = _number(SESSION_SETS_RANGE, "Sets")
    reps = _number(SESSION_REPS_RANGE, "Reps")
    hold_seconds = _number(SESSION_HOLD_SECONDS_RANGE, "Hold (s)")
    duration_minutes = _number(SESSION_DURATION_MINUTES_RANGE, "Minutes")
    load_unit = forms.ChoiceField(required=False, choices=_blank(LoadUnit.choices, "No load"), label="Load")
    load_value = forms.DecimalField(
        required=False,
        **decimal_shape(SessionExercise, "load_value"),
        label="Load value",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )

    def __init__(self, *args: Any, library: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exercise"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = _blank(library, "None")

    @property
    def is_added(self) -> bool:
        return not (self.initial.get("prescribed_id") or self["prescribed_id"].value())

    def as_service_row(self) -> dict[str, Any] | None:
        """The row the service reads, or None for an added row left empty."""
        data = self.cleaned_data
        if not data.get("prescribed_id") and not data.get("exercise"):
            return None
        row = {name: data.get(name) for name in ("sets", "reps", "hold_seconds", "duration_minutes")}
        row.update(
            done=bool(data.get("done")),
            load_unit=data.get("load_unit") or "",
            load_value=data.get("load_value"),
        )
        if data.get("prescribed_id"):
            row["prescribed_id"] = data["prescribed_id"]
        else:
            row["exercise"] = data["exercise"]
        return row


SessionExerciseFormSet = formset_factory(
    SessionExerciseForm,
    extra=ADDED_ROWS,
    max_num=SESSION_MAX_EXERCISES,
    validate_max=True,
    absolute_max=SESSION_MAX_EXERCISES,
)


def prescribed_initial(guidelines: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per prescribed exercise, done, with its dose as prescribed: a typical session changes
    nothing."""
    rows = []
    for item in guidelines.get("exercises") or []:
        unit = item.get("load_unit") or ""
        rows.append(
            {
                "prescribed_id": str(item["id"]),
                "done": True,
                "sets": item.get("sets"),
                "reps": item.get("reps"),
                "hold_seconds": item.get("hold_seconds"),
                "duration_minutes": item.get("duration_minutes"),
                "load_unit": unit if unit in LoadUnit.values else "",
                "load_value": item.get("load_value"),
            }
        )
    return rows
