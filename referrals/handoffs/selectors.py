"""Reads of referrals, scoped to the user's organizations and role: lists, inbox, caseload, timeline."""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from accounts.models import Membership, User
from referrals.access import Role, _org_ids
from referrals.care.models import TreatmentPlan
from referrals.handoffs.models import (
    CASELOAD_STATUSES,
    OPEN_STATUSES,
    HandoffEvent,
    HandoffStatus,
    TrainerHandoff,
)

# --- handoffs ------------------------------------------------------------------------------------------


def handoff_list_for_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """Handoffs of the clinics where the user is a physiotherapist, and those offered to the user as a
    trainer at a gym where the user is still a trainer (drafts are the clinic's own business)."""
    return _handoff_scope(user).select_related(
        "plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "consent"
    )


def _handoff_scope(user: User) -> QuerySet[TrainerHandoff]:
    """`handoff_list_for_user`'s rows, nothing joined."""
    return TrainerHandoff.objects.filter(_handoff_scope_q(user))


def _handoff_scope_q(user: User) -> Q:
    """The clinic's rows on the handoff's own (indexed) clinic column, the trainer's on trainer and gym
    (the trainer inbox index); only the part the user has a role for."""
    clinic_ids = _org_ids(user, Role.PHYSIOTHERAPIST)
    gym_ids = _org_ids(user, Role.TRAINER)
    trainer_side = Q(trainer_id=user.pk, gym_id__in=gym_ids) & ~Q(status=HandoffStatus.DRAFT)
    if clinic_ids and gym_ids:
        return Q(clinic_id__in=clinic_ids) | trainer_side
    if gym_ids:
        return trainer_side
    return Q(clinic_id__in=clinic_ids)  # an empty list: no rows


def handoff_attention_list_for_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """Referrals of the user's clinics that ended without care (declined, failed) and whose plan has not
    been offered again since: the PT still has to find the patient a trainer."""
    newer = TrainerHandoff.objects.filter(plan=OuterRef("plan"), created_at__gt=OuterRef("created_at"))
    return (
        _clinic_rows(user)
        .filter(status__in=[HandoffStatus.REJECTED, HandoffStatus.FAILED])
        .exclude(Exists(newer))
        .order_by("-updated_at", "-id")
    )


def _clinic_rows(user: User) -> QuerySet[TrainerHandoff]:
    """The handoffs of the user's clinics as the PT home lists them (patient, trainer, gym, status): the
    clinic's own indexed column, and only the joins a row renders."""
    return (
        TrainerHandoff.objects.filter(clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST))
        .select_related("plan__patient", "trainer", "gym", "clinic")  # the clinic: its calendar, zone
        .defer("snapshot")  # the guidelines, kilobytes a row: a list row never shows them
    )


def handoff_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TrainerHandoff:
    """One referral the user may see, with its clinic's timers (the hold form's default review days: no
    query of its own) and its clinic (its calendar: timers.schedule.hold_review_flags)."""
    return (
        handoff_list_for_user(user=user)
        .select_related("plan__patient__clinic__timers", "clinic")
        .get(public_id=public_id)
    )


def event_list_for_handoff(*, handoff: TrainerHandoff) -> QuerySet[HandoffEvent]:
    """The timeline, each concern with its state, each answer with the concern it answers and each report
    event with its report: one query."""
    return (
        HandoffEvent.objects.filter(handoff=handoff)
        .select_related(
            "actor",
            "concern__acknowledged_by",
            "concern__resolved_by",
            "regarding__event",
            "report",
        )
        .order_by("created_at", "id")
    )


def handoff_get_open_for_plan(*, plan: TreatmentPlan) -> TrainerHandoff | None:
    return TrainerHandoff.objects.filter(plan=plan, status__in=OPEN_STATUSES).first()


# --- trainers and send preconditions -------------------------------------------------------------------


def _caseload_rows() -> QuerySet[TrainerHandoff]:
    """The referrals that count against a trainer's maximum: open, sent, and at a gym where the trainer is
    still a trainer (a trainer removed from a gym no longer carries that gym's clients). The one definition
    of the caseload: `caseload_get_for_trainer` counts it for one trainer, the discharge page annotates it."""
    still_there = Membership.objects.filter(
        user_id=OuterRef("trainer_id"), organization_id=OuterRef("gym_id"), role=Role.TRAINER
    )
    return TrainerHandoff.objects.filter(Exists(still_there), status__in=CASELOAD_STATUSES)


def _caseload_column(owner: str) -> Coalesce:
    """`_caseload_rows` counted for the user whose id `owner` names in the outer query (an annotation)."""
    return Coalesce(
        Subquery(
            _caseload_rows()
            .filter(trainer_id=OuterRef(owner))
            .order_by()
            .values("trainer_id")
            .annotate(n=Count("*"))
            .values("n")[:1]
        ),
        0,
    )


def caseload_get_for_trainer(*, trainer: User, exclude_handoff_id: int | None = None) -> int:
    qs = _caseload_rows().filter(trainer=trainer)
    if exclude_handoff_id is not None:
        qs = qs.exclude(pk=exclude_handoff_id)
    return qs.count()


def inbox_list_for_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The referrals offered to the user as a trainer that still need them: new ones first, then active
    clients, most recently changed first."""
    return (
        handoff_list_for_user(user=user)
        .filter(trainer_id=getattr(user, "pk", None), status__in=CASELOAD_STATUSES)
        .select_related("clinic__timers", "gym")  # a new referral's deadline (timers.schedule): no query
        .annotate(is_new=Case(When(status=HandoffStatus.REQUESTED, then=Value(0)), default=Value(1)))
        .order_by("is_new", "-updated_at", "-id")
    )


def handoff_list_open_for_clinic_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The open handoffs of the user's clinics, by status then most recently changed."""
    return _clinic_rows(user).filter(status__in=OPEN_STATUSES).order_by("status", "-updated_at", "-id")


def handoff_list_waiting_for_clinic_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The referrals of the user's clinics still waiting for the trainer's answer, oldest sent first, each
    with its clinic's timers (timers.schedule.requested_clock: no query a row)."""
    return (
        _clinic_rows(user)
        .filter(status=HandoffStatus.REQUESTED)
        .select_related("clinic__timers")
        .order_by("sent_at", "id")
    )


def handoff_list_hold_due_for_clinic_user(*, user: User, before: datetime.date) -> QuerySet[TrainerHandoff]:
    """The referrals of the user's clinics on hold with a review date before `before`, the longest overdue
    first (index handoff_hold_review_idx). `before` is a bound (timers.schedule.latest_today): whether a
    row is past its review date is its clinic's calendar (timers.schedule.hold_review_flags)."""
    return (
        _clinic_rows(user)
        .filter(status=HandoffStatus.ON_HOLD, hold_review_on__lt=before)
        .order_by("hold_review_on", "id")
    )


# --- the API's handoffs list: one row per handoff, read as plain values ----------------------------------

# What every row of GET /api/v1/handoffs/ needs, whoever asks: no snapshot beyond the three names it
# shows, no plan or patient (a trainer's rows never show them).
HANDOFF_SUMMARY_FIELDS = (
    "id",
    "public_id",
    "status",
    "status_reason",
    "clinic_id",
    "trainer_id",
    "gym_id",
    "consent_id",
    "consent__withdrawn_at",
    "gym__public_id",
    "gym__name",
    "sent_at",
    "created_at",
    "updated_at",
)


# What the clinic's own rows show besides: only read for a user who is a physiotherapist somewhere. (Every
# row of anyone else is their own as the trainer: their name and id are the user's, not a join.)
HANDOFF_SUMMARY_CLINIC_FIELDS = (
    "trainer__public_id",
    "trainer__full_name",
    "clinic__name",
    "plan__public_id",
    "plan__patient__public_id",
    "plan__patient__full_name",
    "plan__physiotherapist__full_name",
)


def handoff_summary_list_for_user(*, user: User) -> QuerySet[Any]:
    """`handoff_list_for_user`'s rows as dicts (`.values()`): the summary fields, the three names of the
    snapshot the trainer may see (`snapshot_clinic`, `snapshot_physiotherapist`, `snapshot_patient`),
    and the clinic-side fields only for a user who works for a clinic. Unordered: the caller orders."""
    clinic_side = bool(_org_ids(user, Role.PHYSIOTHERAPIST))
    return _summary_columns(clinic_side).filter(_handoff_scope_q(user))


@functools.cache
def _summary_columns(clinic_side: bool) -> QuerySet[Any]:
    """The summary's `.values()`, set up once per process and filtered per request: setting up its joins
    and expressions cost more than the query itself (0.5 ms against 0.4 ms for a trainer's page). A
    queryset is never evaluated here, and filtering returns a copy.

    Kept (issue 14): set up per request instead, a trainer's page query took 11.0 ms to build and compile
    against 3.7 ms from this copy (the clinic side's 6.6 against 5.7; in-process, the shared machine at
    load 10); `make bench` 2026-12-02: the inbox API 1.53x its one-query baseline in paired rounds (1.38x
    on a quiet machine before). tests/api/test_shortcuts.py compares its rows with a `.values()` built
    now, on both databases."""
    fields: tuple[str, ...] = HANDOFF_SUMMARY_FIELDS
    if clinic_side:
        fields += HANDOFF_SUMMARY_CLINIC_FIELDS
    columns: QuerySet[Any] = TrainerHandoff.objects.values(
        *fields,
        snapshot_clinic=KT("snapshot__clinic"),
        snapshot_physiotherapist=KT("snapshot__physiotherapist"),
        snapshot_patient=KT("snapshot__patient__name"),
    )
    return columns
