"""Writes of the accounts app: users with their first membership, API tokens, certifications, and the
retention of the login records."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts import selectors
from accounts.errors import NotPermitted
from accounts.models import ApiToken, Certification, Membership, Organization, User

TOKEN_PREFIX = "hnd_"  # noqa: S105 - not a secret: the visible start of every token
TOKEN_NAME_MAX_LENGTH = 100
TRIM_BATCH_SIZE = 1000


# --- users ---------------------------------------------------------------------------------------------


def membership_role_check(*, organization: Organization, role: str) -> None:
    """A role fits the organization's kind: a physiotherapist at a clinic, a trainer at a gym, an org
    admin at either (Membership.clean). Raises ValidationError on "role"."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose a role."})
    Membership(organization=organization, role=role).clean()


def user_create_with_membership(
    *,
    actor: User,
    email: str,
    full_name: str,
    password: str | None,
    organization: Organization | None,
    role: str = "",
) -> User:
    """A new user and, in the same transaction, their membership of `organization` with `role`, so that
    the org admin who adds them has them under their authority from the first moment. `password` None:
    an unusable password (they set one through a reset). Only an active superuser may leave the
    organization empty; anyone else must be an org admin of `organization` (re-checked here, under a
    lock on that membership row, whatever the form offered)."""
    email = (email or "").strip().lower()
    if not (actor.is_active and actor.is_staff):
        raise NotPermitted("Only staff can add users.")
    if organization is None:
        if not actor.is_superuser:
            raise NotPermitted("Choose one of your organizations for the new user.")
        if role:
            raise ValidationError({"organization": "Choose the organization the role is at."})
    else:
        membership_role_check(organization=organization, role=role)
    with transaction.atomic():
        if organization is not None and not actor.is_superuser:
            authority = Membership.objects.select_for_update().filter(
                user_id=actor.pk, organization_id=organization.pk, role=Membership.Role.ORG_ADMIN
            )
            if not list(authority.values_list("pk", flat=True)):
                raise NotPermitted("You can add users only to an organization you administer.")
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": "A user with this email address already exists."})
        user = User.objects.create_user(email, password, full_name=full_name)
        if organization is not None:
            Membership.objects.create(user=user, organization=organization, role=role)
    return user


# --- API tokens ----------------------------------------------------------------------------------------


def api_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`. Returns the row and the raw token, which is never stored nor shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token, e.g. after the system that will use it."})
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Keep the name under {TOKEN_NAME_MAX_LENGTH} characters."})
    if not user.is_active:
        raise NotPermitted("An inactive user cannot have API tokens.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[: ApiToken.PREFIX_LENGTH], key_hash=api_token_hash(raw)
        )
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token: its owner or staff may. Revoking twice is a no-op."""
    if token.user_id != actor.pk and not (actor.is_active and actor.is_staff):
        raise NotPermitted("Only the token's owner or staff can revoke it.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
    return locked


def api_token_authenticate(raw: str) -> selectors.TokenUse | None:
    """The active token of an active user matching `raw`, with its user and the user's roles; records
    when it was last used (at most once a minute, so a busy client does not write on every request)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = selectors.api_token_get(key_hash=api_token_hash(raw))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.token_id).update(last_used_at=now)
    return token


# --- certifications ------------------------------------------------------------------------------------

# What a verification vouched for: change any of it and the certification must be verified again.
CERTIFICATION_IDENTITY_FIELDS = ("profile", "issuing_body", "other_body", "number", "expiry")


def certification_update(*, certification: Certification, actor: User, **fields: Any) -> Certification:
    """Change a certification's trainer, issuing body, number or expiry. If it was verified and any of
    them really changes, it is unverified again (verified_by and verified_at cleared): an admin checked
    the old credential, not the new one. Staff only (the admin's scope decides which certifications)."""
    unknown = sorted(set(fields) - set(CERTIFICATION_IDENTITY_FIELDS))
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if not (actor.is_active and actor.is_staff):
        raise NotPermitted("Only staff can change a certification.")
    with transaction.atomic():
        locked = Certification.objects.select_for_update().get(pk=certification.pk)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, fields[name])
        if not changed:
            return locked
        locked.full_clean()
        update_fields = list(changed)
        if locked.verified:
            locked.verified, locked.verified_by, locked.verified_at = False, None, None
            update_fields += ["verified", "verified_by", "verified_at"]
        locked.save(update_fields=update_fields)
    return locked


# --- retention -----------------------------------------------------------------------------------------

# django-axes' records of logins: the lockout counters (one row per account, address and browser, with
# the failures), the login log (each successful login and its logout) and the failure log (off here).
LOCKOUT_RECORD_MODELS: tuple[type[models.Model], ...] = (AccessAttempt, AxesAccessLog, AccessFailureLog)


def _delete_older(model: type[models.Model], *, before: datetime.datetime, batch_size: int) -> int:
    """Delete `model`'s rows whose attempt_time is before `before`, oldest first, `batch_size` rows per
    transaction (through the attempt_time index, migration 0006), so no long transaction holds the
    table and a run stopped midway keeps what it did. The rows deleted (not their cascades)."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                model._default_manager.filter(attempt_time__lt=before)
                .order_by("attempt_time")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            _, per_model = model._default_manager.filter(pk__in=ids).delete()
        total += per_model.get(model._meta.label, 0)


def lockout_records_trim(*, now: datetime.datetime | None = None, batch_size: int = TRIM_BATCH_SIZE) -> int:
    """Delete django-axes' login records older than HANDOFF_LOCKOUT_RETENTION_DAYS (90 by default): the
    lockout counters, the login log and the failure log. Run daily by referrals.tasks.trim_records;
    idempotent. The rows deleted. A lockout lasts 15 minutes (AXES_COOLOFF_TIME), far inside the period,
    so no lockout in force is lifted by it."""
    before = (now or timezone.now()) - datetime.timedelta(days=settings.HANDOFF_LOCKOUT_RETENTION_DAYS)
    return sum(_delete_older(model, before=before, batch_size=batch_size) for model in LOCKOUT_RECORD_MODELS)
