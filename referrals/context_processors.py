"""Template context shared by every page: the notification bell's unread count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from referrals import selectors


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": selectors.notification_unread_count(user=user)}
