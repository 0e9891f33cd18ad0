"""Reads of a user's notifications."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from referrals.notify import wording as notify_wording
from referrals.notify.models import Notification

# --- notifications -------------------------------------------------------------------------------------


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("handoff", "event")


UNREAD_COLUMN = "request_unread_notifications"


def _unread(user: Any) -> QuerySet[Notification]:  # a User, or OuterRef (the stubs' lookups take no OuterRef)
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def notification_unread_columns(owner: str = "pk") -> dict[str, Any]:
    """The bell's unread count as an annotation of a user query (config.auth loads the session's user with
    it): `owner` names the user's id in that query."""
    count = _unread(OuterRef(owner)).order_by().values("recipient_id").annotate(n=Count("*")).values("n")
    return {UNREAD_COLUMN: Coalesce(Subquery(count[:1]), 0)}


def notification_unread_count(*, user: User) -> int:
    """The bell's number: read with the request's user when it was loaded so, one query otherwise."""
    if not getattr(user, "is_authenticated", False):
        return 0
    loaded = getattr(user, UNREAD_COLUMN, None)
    if loaded is not None:
        return int(loaded)
    return _unread(user).count()


def notification_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Notification:
    return notification_list_for_user(user=user).get(public_id=public_id)


def notification_link(*, notification: Notification) -> str:
    """The page a notification opens: its kind's link (a referral's page for a referral's event)."""
    return notify_wording.notification_link(notification)
