"""Who may administer what, as far as accounts alone can say: pure predicates on the user and their
memberships (accounts.selectors.roles_of); the referral areas' policies build on them."""

from __future__ import annotations

from typing import Any

from accounts import selectors
from accounts.models import Membership


def is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def admin_organization_ids(user: Any) -> frozenset[int] | None:
    """The organizations whose objects a staff user administers in the Django admin: None means all (a
    superuser); otherwise the organizations where the user is an org admin (empty for anyone else)."""
    if is_superuser(user):
        return None
    return frozenset(org_id for org_id, role in selectors.roles_of(user) if role == Membership.Role.ORG_ADMIN)
