"""Who may read the access log."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from accounts.policies import is_superuser


def can_view_access_log(user: UserOrAnonymous) -> bool:
    return is_superuser(user)
