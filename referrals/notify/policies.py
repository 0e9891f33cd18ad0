"""Who may re-send a failed email."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from accounts.policies import is_superuser


def can_resend_notification(user: UserOrAnonymous) -> bool:
    return is_superuser(user) or bool(getattr(user, "is_staff", False) and user.is_active)
