from __future__ import annotations

from django import forms

from accounts.services import TOKEN_NAME_MAX_LENGTH


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=TOKEN_NAME_MAX_LENGTH,
        label="Token name",
        help_text="What will use it, e.g. 'Clinic EHR sync'.",
    )
