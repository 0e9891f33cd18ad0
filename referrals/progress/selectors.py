"""Reads of what comes back from the gym, scoped by progress.policies.can_view_progress: outside it, a
404 (the DoesNotExist of what was asked for)."""

from __future__ import annotations

import uuid

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import policies as progress_policies
from referrals.progress.models import SessionExercise, SessionLog


def _sessions() -> QuerySet[SessionLog]:
    return (
        SessionLog.objects.select_related("logged_by", "concern")
        .prefetch_related(Prefetch("exercises", SessionExercise.objects.select_related("exercise")))
        .order_by("-session_date", "-id")
    )


def session_list_for_handoff(*, user: User, handoff: TrainerHandoff) -> QuerySet[SessionLog]:
    """The sessions of a referral the user reads (`handoff` as `handoff_get_for_user` gave it), newest
    first, each with its exercises (prefetched: two queries whatever the number), its trainer and its
    concern. TrainerHandoff.DoesNotExist when the user may not read its progress."""
    if not progress_policies.can_view_progress(user, handoff):
        raise TrainerHandoff.DoesNotExist("No such referral.")
    return _sessions().filter(handoff=handoff)


def session_summary_list_for_handoff(*, user: User, handoff: TrainerHandoff) -> QuerySet[SessionLog]:
    """`session_list_for_handoff` for a list that shows each session in one line: its exercises counted
    (`exercises_done`, `exercises_total`) in the same query instead of read."""
    if not progress_policies.can_view_progress(user, handoff):
        raise TrainerHandoff.DoesNotExist("No such referral.")
    return (
        SessionLog.objects.filter(handoff=handoff)
        .annotate(
            exercises_total=Count("exercises"),
            exercises_done=Count("exercises", filter=Q(exercises__done=True)),
        )
        .order_by("-session_date", "-id")
    )


def session_get_for_user(*, user: User, public_id: uuid.UUID | str) -> SessionLog:
    """One session, with its referral (as `handoff_get_for_user` reads it) and its exercises; a session of
    a referral outside the user's scope, or whose progress the user may not read, does not exist."""
    session = _sessions().get(public_id=public_id)
    try:
        handoff = handoffs_selectors.handoff_list_for_user(user=user).get(pk=session.handoff_id)
    except TrainerHandoff.DoesNotExist as exc:
        raise SessionLog.DoesNotExist("No such session.") from exc
    if not progress_policies.can_view_progress(user, handoff):
        raise SessionLog.DoesNotExist("No such session.")
    session.handoff = handoff
    return session
