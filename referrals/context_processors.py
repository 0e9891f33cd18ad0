"""Template context shared by every page: the notification bell's unread count and the nav's sections."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from referrals import access as referrals_access
from referrals.notify import selectors as notify_selectors


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": notify_selectors.notification_unread_count(user=user),
        "nav_is_physio": referrals_access.is_physiotherapist(user),
    }
