"""Roles and organization scope: who a user is in which organization (read once per request) and the
organization-level permissions. Every area's policies and selectors build on these."""

from __future__ import annotations

from accounts import selectors as account_selectors
from accounts.models import (
    Membership,
    User,
    UserOrAnonymous,
)
from accounts.policies import is_superuser


def _org_ids(user: User, role: str) -> list[int]:
    return sorted(org_id for org_id, r in roles_of(user) if r == role)


Role = Membership.Role


def roles_of(user: UserOrAnonymous) -> frozenset[tuple[int, str]]:
    """The (organization id, role) pairs of an authenticated user; empty for anyone else. Read once per
    user object: with the user itself on a request (accounts.selectors), with one query otherwise."""
    return account_selectors.roles_of(user)


def forget_roles(user: UserOrAnonymous) -> None:
    account_selectors.forget_request_context(user)


def has_role(user: UserOrAnonymous, organization_id: int, role: str) -> bool:
    return (organization_id, role) in roles_of(user)


def is_physiotherapist(user: UserOrAnonymous) -> bool:
    return any(role == Role.PHYSIOTHERAPIST for _, role in roles_of(user))


def is_trainer(user: UserOrAnonymous) -> bool:
    return any(role == Role.TRAINER for _, role in roles_of(user))


def is_clinic_physio(user: UserOrAnonymous, clinic_id: int) -> bool:
    return has_role(user, clinic_id, Role.PHYSIOTHERAPIST)


def is_clinic_admin(user: UserOrAnonymous, clinic_id: int) -> bool:
    return has_role(user, clinic_id, Role.ORG_ADMIN) or is_superuser(user)


def can_verify_certification(user: UserOrAnonymous) -> bool:
    return is_superuser(user) or bool(getattr(user, "is_staff", False) and user.is_active)


# --- the Django admin ----------------------------------------------------------------------------------


def can_manage_organization(user: UserOrAnonymous, organization_id: int) -> bool:
    """End a partnership of it, remove a member from it: an org admin of the organization, a superuser."""
    return is_superuser(user) or has_role(user, organization_id, Role.ORG_ADMIN)


def can_deactivate_user(user: UserOrAnonymous, target: User) -> bool:
    """A superuser; or an org admin of every organization the target belongs to, for a target who is
    neither staff nor superuser (someone with a role elsewhere, or who runs the admin, is out of reach)."""
    if is_superuser(user):
        return True
    if target.is_superuser or target.is_staff or target.pk == getattr(user, "pk", None):
        return False
    org_ids = set(Membership.objects.filter(user_id=target.pk).values_list("organization_id", flat=True))
    return bool(org_ids) and all(has_role(user, org_id, Role.ORG_ADMIN) for org_id in org_ids)
