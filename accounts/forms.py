from __future__ import annotations

from django import forms

from accounts.services import TOKEN_NAME_MAX_LENGTH


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=TOKEN_NAME_MAX_LENGTH,
        label="Token name",
        help_text="What will use it, e.g. 'Clinic EHR sync'.",
    )


class OtpTokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    otp_token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code your app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )

    def clean_otp_token(self) -> str:
        return str(self.cleaned_data["otp_token"]).strip()


class OtpVerifyForm(forms.Form):
    """At login: a code from the app, or one of the one-time backup codes."""

    otp_token = forms.RegexField(
        regex=r"^\s*(\d{6}|[A-Za-z2-7]{8})\s*$",
        label="Code from your authenticator app, or a backup code",
        error_messages={"invalid": "Enter the 6-digit code your app shows, or an 8-letter backup code."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "size": 10}),
    )

    def clean_otp_token(self) -> str:
        return str(self.cleaned_data["otp_token"]).strip().lower()
