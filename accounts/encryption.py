"""Secrets encrypted at rest: the TOTP devices' keys (accounts.models.EncryptedTOTPDevice).

`settings.HANDOFF_TOTP_KEYS` is a list of Fernet keys (cryptography's MultiFernet: AES-128-CBC with an
HMAC-SHA256, each value with its own IV): the first key encrypts, every key decrypts. Rotation (see
docs/security.md): put a new key first, run `manage.py rotate_totp_keys` (every secret re-encrypted with
it), then remove the old key. Production requires the variable (config/settings/production.py); the
development and test settings derive a key from SECRET_KEY when it is unset.

`EncryptedTextField` holds the plain text in Python and the Fernet token in the database: code that reads
`device.key` (django-otp's verification, the QR code) sees the hex secret, the column never does.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Lookup


class UndecryptableSecret(Exception):
    """A stored secret that no key of HANDOFF_TOTP_KEYS decrypts (a key was removed before the secrets
    were rotated off it, or the development SECRET_KEY changed)."""


def key_problems(keys: object) -> list[str]:
    """What is wrong with a HANDOFF_TOTP_KEYS value, one sentence each (never quoting a key)."""
    if not isinstance(keys, list | tuple) or not keys:
        return ["HANDOFF_TOTP_KEYS is empty: set it to one or more Fernet keys, comma-separated."]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (TypeError, ValueError):
            problems.append(
                f"HANDOFF_TOTP_KEYS: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, as Fernet.generate_key() makes)."
            )
    return problems


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    problems = key_problems(keys)
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[MultiFernet, Fernet]:
    """The keys as the settings say now (cached per value, so a test's override_settings counts)."""
    return _fernet(tuple(settings.HANDOFF_TOTP_KEYS))


def encrypt(plaintext: str) -> str:
    """A fresh Fernet token of `plaintext`, under the first key."""
    return _keys()[0].encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text of a token made under any of the keys."""
    try:
        return _keys()[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise UndecryptableSecret(
            "A stored secret decrypts with no key of HANDOFF_TOTP_KEYS: keep the old key listed (after the "
            "first) until `manage.py rotate_totp_keys` has re-encrypted every secret (docs/security.md)."
        ) from exc


def is_under_first_key(token: str) -> bool:
    """Whether the first key alone decrypts `token` (after a rotation every stored secret does)."""
    try:
        _keys()[1].decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text encrypted at rest with HANDOFF_TOTP_KEYS: plain in Python, a Fernet token in the column.

    Every save writes a fresh token under the first key (so a save also rotates). A token is different
    each time, so the column cannot be searched: only `isnull` may filter on it."""

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None
