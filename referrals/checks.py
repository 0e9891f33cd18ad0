"""System checks of the referrals' settings (every manage.py command runs them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def access_log_retention_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A retention of 0 days would delete the access log on the next trim: refused."""
    days = getattr(settings, "HANDOFF_ACCESS_LOG_RETENTION_DAYS", None)
    if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
        return []
    return [
        Error(
            "HANDOFF_ACCESS_LOG_RETENTION_DAYS must be a whole number of days, 1 or more.",
            id="referrals.E001",
        )
    ]
