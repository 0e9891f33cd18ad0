"""Who may see and act on a referral, and what each surface shows of it (the one consent rule)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from accounts.models import UserOrAnonymous
from referrals.access import Role, has_role, is_clinic_admin, is_clinic_physio
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.handoffs.registry import Side

# --- handoffs ------------------------------------------------------------------------------------------


def clinic_id_of(handoff: TrainerHandoff) -> int:
    return handoff.plan.patient.clinic_id


def is_handoff_trainer(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """The trainer the handoff was offered to, while still a trainer at that gym."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and handoff.trainer_id == user.pk
        and has_role(user, handoff.gym_id, Role.TRAINER)
    )


def can_view_handoff(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    if is_clinic_physio(user, clinic_id_of(handoff)):
        return True
    return handoff.status != HandoffStatus.DRAFT and is_handoff_trainer(user, handoff)


# A trainer who declined, or whose referral was cancelled or sent in error, never took the patient on:
# the minimum necessary is nothing at all.
GUIDELINES_WITHDRAWN = (HandoffStatus.REJECTED, HandoffStatus.CANCELLED, HandoffStatus.ENTERED_IN_ERROR)


def can_view_guidelines(user: UserOrAnonymous, handoff: TrainerHandoff) -> bool:
    """The snapshot: the clinic always; the trainer only while the patient's consent stands and the
    referral was not declined, cancelled or entered in error."""
    if is_clinic_physio(user, clinic_id_of(handoff)):
        return True
    if not can_view_handoff(user, handoff) or handoff.status in GUIDELINES_WITHDRAWN:
        return False
    consent = handoff.consent
    return consent is not None and consent.withdrawn_at is None


def can_act(user: UserOrAnonymous, handoff: TrainerHandoff, side: Side) -> bool:
    """Who may take a referral action of `side` (the registry's `side` of each action), the one rule of
    the services, the handoff page and the API: the clinic's side (send, cancel, mark entered in error)
    is the clinic's physiotherapists, its org admins and superusers; the trainer's (accept, reject,
    start, hold, resume, complete, fail) is the handoff's trainer only, while a trainer at its gym."""
    if side == "clinic":
        clinic_id = clinic_id_of(handoff)
        return is_clinic_physio(user, clinic_id) or is_clinic_admin(user, clinic_id)
    if side == "trainer":
        return is_handoff_trainer(user, handoff)
    raise ValueError(f"No such side: {side!r}")


# --- the API's handoffs list: rows read as values, not model instances --------------------------------


def can_view_guidelines_of_summary(user: UserOrAnonymous, row: Mapping[str, Any]) -> bool:
    """`can_view_guidelines` for a row of `selectors.handoff_summary_list_for_user` (ids and plain values,
    no related objects): the same rule, the same answer (tests/api/test_summary.py compares them)."""
    if is_clinic_physio(user, row["clinic_id"]):
        return True
    is_trainer = (
        bool(getattr(user, "is_authenticated", False))
        and row["trainer_id"] == user.pk
        and has_role(user, row["gym_id"], Role.TRAINER)
    )
    if not is_trainer or row["status"] == HandoffStatus.DRAFT or row["status"] in GUIDELINES_WITHDRAWN:
        return False
    return row["consent_id"] is not None and row["consent__withdrawn_at"] is None


# --- what of a handoff a viewer may see, surface by surface -------------------------------------------
#
# The one rule behind every surface that shows a handoff: the handoff page and its timeline, the
# handout, the trainer's inbox, the API's detail and list, the in-app notification titles and the
# emails. `selectors.handoff_view_for_user` turns it into the values a surface renders.


class Shown(StrEnum):
    """The consent-governed parts of a handoff. (Its status, trainer and gym are the referral itself:
    every viewer who may see the handoff sees them.)"""

    CLINIC = "clinic"
    PHYSIOTHERAPIST = "physiotherapist"  # the referring physiotherapist, and the clinic's people by name
    PATIENT_NAME = "patient_name"
    DIAGNOSIS = "diagnosis"
    GUIDELINES = "guidelines"  # the frozen snapshot: exercises, precautions, red flags, goals, contacts


class Surface(StrEnum):
    PAGE = "page"  # the handoff detail page, its timeline included
    HANDOUT = "handout"  # the printable guidelines: nothing at all without the guidelines
    INBOX = "inbox"  # a row of a list page (the trainer's inbox, the clinic's home)
    API_DETAIL = "api_detail"
    API_LIST = "api_list"  # a summary row: never the guidelines
    NOTIFICATION = "notification"  # an in-app title: written once for every recipient of the event
    EMAIL = "email"  # leaves the application: what happened and where, never who or what is treated


EVERYTHING = frozenset(Shown)


# What a surface can carry at most, whoever looks.
SURFACE_SHOWS: Mapping[Surface, frozenset[Shown]] = {
    Surface.PAGE: EVERYTHING,
    Surface.HANDOUT: EVERYTHING,
    Surface.API_DETAIL: EVERYTHING,
    Surface.INBOX: frozenset({Shown.CLINIC, Shown.PHYSIOTHERAPIST, Shown.PATIENT_NAME}),
    Surface.API_LIST: frozenset({Shown.CLINIC, Shown.PHYSIOTHERAPIST, Shown.PATIENT_NAME}),
    Surface.NOTIFICATION: frozenset({Shown.CLINIC}),
    Surface.EMAIL: frozenset({Shown.CLINIC}),
}


# What the trainer keeps when the guidelines are no longer theirs: where the referral came from.
WITHOUT_GUIDELINES = frozenset({Shown.CLINIC})


def _limit(allowed: frozenset[Shown], surface: Surface) -> frozenset[Shown]:
    if surface == Surface.HANDOUT and Shown.GUIDELINES not in allowed:
        return frozenset()  # the handout is the guidelines: without them there is no handout
    return allowed & SURFACE_SHOWS[surface]


def handoff_shown(user: UserOrAnonymous, handoff: TrainerHandoff, surface: Surface) -> frozenset[Shown]:
    """What of `handoff` `user` may see on `surface`: the clinic everything; the handoff's trainer the
    guidelines, the patient's name and the physiotherapist while `can_view_guidelines` holds, and
    otherwise only the clinic; anyone else nothing. The diagnosis is part of a handoff only when the
    consent it was sent under includes it (the clinic reads it on the plan otherwise)."""
    consent = handoff.consent
    allowed = EVERYTHING
    if consent is None or not consent.includes_diagnosis:
        allowed = allowed - {Shown.DIAGNOSIS}
    if is_clinic_physio(user, clinic_id_of(handoff)):
        return _limit(allowed, surface)
    if not can_view_handoff(user, handoff):
        return frozenset()
    if not can_view_guidelines(user, handoff):
        return _limit(WITHOUT_GUIDELINES, surface)
    return _limit(allowed, surface)


def handoff_shown_of_summary(
    user: UserOrAnonymous, row: Mapping[str, Any], surface: Surface
) -> frozenset[Shown]:
    """`handoff_shown` for a row of `selectors.handoff_summary_list_for_user`, on the list surfaces (a row has
    no consent scope: the diagnosis is on no list). tests/api/test_summary.py compares the two."""
    if surface not in (Surface.INBOX, Surface.API_LIST):
        raise ValueError(f"A summary row is shown only on a list, not on {surface}.")
    if is_clinic_physio(user, row["clinic_id"]):
        return _limit(EVERYTHING, surface)
    if can_view_guidelines_of_summary(user, row):
        return _limit(EVERYTHING, surface)
    is_own = (
        bool(getattr(user, "is_authenticated", False))
        and row["trainer_id"] == user.pk
        and has_role(user, row["gym_id"], Role.TRAINER)
        and row["status"] != HandoffStatus.DRAFT
    )
    return _limit(WITHOUT_GUIDELINES, surface) if is_own else frozenset()


def shown_to_every_recipient(surface: Surface) -> frozenset[Shown]:
    """What a text written once for all the parties of a handoff (a notification title, and the email
    that repeats it) may name: what the surface carries and every party keeps, consent or not."""
    return SURFACE_SHOWS[surface] & WITHOUT_GUIDELINES
