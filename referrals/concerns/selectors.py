"""Reads of concerns, scoped to the clinic user."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.models import User
from referrals.access import Role, _org_ids
from referrals.concerns.models import Concern
from referrals.handoffs.models import (
    TrainerHandoff,
)


def concern_list_for_clinic_user(*, user: User) -> QuerySet[Concern]:
    """The unresolved concerns raised on the referrals of the user's clinics, newest first, whatever
    became of the referral since (completed, cancelled, declined...): a concern leaves this list only
    when a physiotherapist resolves it."""
    return (
        Concern.objects.filter(
            handoff__clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST), resolved_at__isnull=True
        )
        .select_related("handoff__plan__patient", "event__actor")
        .order_by("-event__created_at", "-id")
    )


def concern_get_for_user(*, user: User, handoff: TrainerHandoff, public_id: uuid.UUID | str) -> Concern:
    """One concern of a handoff the user may see (the handoff came through `handoff_get_for_user`)."""
    return Concern.objects.select_related("event__actor").get(handoff=handoff, public_id=public_id)
