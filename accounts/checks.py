"""System checks of accounts' settings: every manage.py command (migrate and `check --deploy` on deploy,
runserver, the worker's start) refuses to go on with keys that cannot encrypt the TOTP secrets or with a
retention that would delete the login records at once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from accounts import encryption

NEW_KEY_HINT = (
    'A new key: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


@register()
def totp_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, hint=NEW_KEY_HINT, id="accounts.E001")
        for problem in encryption.key_problems(getattr(settings, "HANDOFF_TOTP_KEYS", None))
    ]


@register()
def lockout_retention_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    days = getattr(settings, "HANDOFF_LOCKOUT_RETENTION_DAYS", None)
    if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
        return []
    return [
        Error("HANDOFF_LOCKOUT_RETENTION_DAYS must be a whole number of days, 1 or more.", id="accounts.E002")
    ]
