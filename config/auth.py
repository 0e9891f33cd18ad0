"""The session's user, loaded with what every page asks of it, in one query.

Django's ModelBackend loads the user by primary key; each page then asks for the user's roles, whether
they have a confirmed authenticator app, which device verified this session, and the unread count of the
notification bell: four more queries before any content. This backend loads the same user with those
answers as correlated subqueries (accounts.selectors, notify.selectors), so a page pays one query for
all of it, and every answer is as fresh as the user row.

It lives in config/ because it wires the two apps together: accounts knows nothing of notifications.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts import selectors as account_selectors
from accounts.models import User
from referrals.notify import selectors as notify_selectors

_SESSION_USER = account_selectors.CompiledQuery(
    User,
    lambda pk: User._default_manager.annotate(
        **account_selectors.request_context_columns("pk"),
        **notify_selectors.notification_unread_columns("pk"),
    ).filter(pk=pk),
    placeholder=-7_919_191_919,
)


class RequestUserBackend(ModelBackend):
    """ModelBackend (email and password, permissions), whose `get_user` reads the request context too.
    The query is compiled once per process (account_selectors.CompiledQuery): it runs on every page."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _SESSION_USER.first(pk)
        if user is None or not self.user_can_authenticate(user):
            return None
        account_selectors.remember_request_context(user, user)
        return user
