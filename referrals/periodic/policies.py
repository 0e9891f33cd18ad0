"""Who may see the periodic tasks' runs: they are the deployment's, not an organization's, so superusers
only (as the access log)."""

from __future__ import annotations

from accounts.models import UserOrAnonymous
from accounts.policies import is_superuser


def can_view_periodic_runs(user: UserOrAnonymous) -> bool:
    return is_superuser(user)
