"""The base domain errors, raised by the services of both apps (referrals.errors re-exports them and adds
its own). Adapters map them once: the API exception handler (config/api_errors.py), form errors and admin
messages in HTML."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a business rule said no. `code` is machine-readable, `message` is for people."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotPermitted(DomainError):
    """The actor may not do this (maps to 403 for someone who can see the object)."""

    code = "not_permitted"
