"""The send checks: which trainers a clinic may refer to and why each other one may not (blockers)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import DateField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from accounts.models import Certification, Membership, Organization, Partnership, TrainerProfile, User
from referrals.access import Role, _org_ids
from referrals.care.models import Consent, PlanExercise, TreatmentPlan
from referrals.errors import Blocker
from referrals.handoffs.models import (
    OPEN_STATUSES,
    HandoffStatus,
    TrainerHandoff,
)
from referrals.handoffs.selectors import _caseload_column, caseload_get_for_trainer


def plan_referral_columns() -> dict[str, Any]:
    """For a query of plans, what services.plan_discharge needs of the plan's referrals, read with the plan:
    the status and business status of its open one (`handoff_get_open_for_plan`; None without), and of
    its sent ones as `plan_status_from_referrals` counts them (not entered in error): the first sent time
    and whether one was completed."""
    referrals = TrainerHandoff.objects.filter(plan=OuterRef("pk"))
    sent = referrals.filter(sent_at__isnull=False).exclude(status=HandoffStatus.ENTERED_IN_ERROR)
    return {
        "open_handoff_status": Subquery(
            referrals.filter(status__in=OPEN_STATUSES).order_by("pk").values("status")[:1]
        ),
        "open_handoff_business_status": Subquery(
            referrals.filter(status__in=OPEN_STATUSES).order_by("pk").values("business_status")[:1]
        ),
        "first_sent_at": Subquery(sent.order_by("sent_at").values("sent_at")[:1]),
        "any_completed": Exists(sent.filter(status=HandoffStatus.COMPLETED)),
    }


def gym_list_partners_for_clinic(*, clinic: Organization) -> QuerySet[Organization]:
    return Organization.objects.filter(
        kind=Organization.Kind.GYM,
        clinic_partnerships__clinic=clinic,
        clinic_partnerships__active=True,
    ).order_by("name")


def trainer_membership_list_for_clinic(*, clinic: Organization) -> QuerySet[Membership]:
    """The trainers of the clinic's partner gyms, with what the send check needs."""
    return (
        Membership.objects.filter(
            role=Role.TRAINER, organization__in=gym_list_partners_for_clinic(clinic=clinic)
        )
        .select_related("user__trainer_profile", "organization")
        .prefetch_related("user__trainer_profile__certifications", "user__trainer_profile__specializations")
        .annotate(caseload=_caseload_column("user_id"))
        .order_by("organization__name", "user__full_name")
    )


def handoff_send_blockers(
    *, plan: TreatmentPlan, trainer: User, gym: Organization, exclude_handoff_id: int | None = None
) -> list[Blocker]:
    """Every unmet condition for sending this plan to this trainer at this gym, each with its own code."""
    at_gym, partnered = handoff_organization_facts(clinic=plan.patient.clinic, trainer=trainer, gym=gym)
    profile = TrainerProfile.objects.filter(user=trainer).first()
    caseload = (
        0
        if profile is None
        else caseload_get_for_trainer(trainer=trainer, exclude_handoff_id=exclude_handoff_id)
    )
    return handoff_send_blockers_from(
        clinic=plan.patient.clinic,
        trainer=trainer,
        gym=gym,
        at_gym=at_gym,
        partnered=partnered,
        consented=Consent.objects.filter(patient=plan.patient, gym=gym, withdrawn_at__isnull=True).exists(),
        has_exercises=plan.exercises.exists(),
        profile=profile,
        caseload=caseload,
    )


def handoff_send_blockers_from(
    *,
    clinic: Organization,
    trainer: User,
    gym: Organization,
    at_gym: bool,
    partnered: bool,
    consented: bool,
    has_exercises: bool,
    profile: TrainerProfile | None,
    caseload: int,
    today: datetime.date | None = None,
) -> list[Blocker]:
    """`handoff_send_blockers` from facts the caller read (services.plan_discharge reads them under its
    locks, each once): the same conditions, in the same order."""
    today = today or timezone.localdate()
    blockers = _organization_blockers(
        clinic=clinic, trainer=trainer, gym=gym, at_gym=at_gym, partnered=partnered
    )
    blockers += _plan_blockers(gym=gym, consented=consented, has_exercises=has_exercises)
    blockers += _trainer_blockers(trainer=trainer, profile=profile, caseload=caseload, today=today)
    return blockers


def trainer_send_columns(*, clinic: Organization, gym: Organization, today: datetime.date) -> dict[str, Any]:
    """For a query of trainer profiles: `handoff_organization_blockers`' two facts (`send_at_gym`,
    `send_partnered`), the trainer's caseload (`send_caseload`) and `_certification_facts` on `today`
    (`send_certified`, `send_verified`, `send_day`), as annotations of the same row."""
    current = Certification.objects.filter(profile_id=OuterRef("pk"), expiry__gte=today)
    return {
        "send_certified": Exists(current),
        "send_verified": Exists(current.filter(verified=True)),
        "send_day": Value(today, output_field=DateField()),
        "send_at_gym": Exists(
            Membership.objects.filter(user_id=OuterRef("user_id"), organization_id=gym.pk, role=Role.TRAINER)
        ),
        "send_partnered": Exists(Partnership.objects.filter(clinic_id=clinic.pk, gym_id=gym.pk, active=True)),
        "send_caseload": _caseload_column("user_id"),
    }


def handoff_organization_facts(
    *, clinic: Organization, trainer: User, gym: Organization
) -> tuple[bool, bool]:
    """Whether the trainer is a trainer at the gym, and the gym an active partner of the clinic: one query."""
    row = (
        Organization.objects.filter(pk=gym.pk)
        .annotate(
            at_gym=Exists(
                Membership.objects.filter(
                    user_id=trainer.pk, organization_id=OuterRef("pk"), role=Role.TRAINER
                )
            ),
            partnered=Exists(
                Partnership.objects.filter(clinic_id=clinic.pk, gym_id=OuterRef("pk"), active=True)
            ),
        )
        .values_list("at_gym", "partnered")
        .first()
    )
    return (bool(row[0]), bool(row[1])) if row is not None else (False, False)


def handoff_organization_blockers(*, clinic: Organization, trainer: User, gym: Organization) -> list[Blocker]:
    """Whether the organizations still allow this referral: an active trainer, still a trainer at the gym,
    the gym an active partner of the clinic. Checked at create, at send and at every later step where the
    trainer takes the patient on (accept, start, resume)."""
    at_gym, partnered = handoff_organization_facts(clinic=clinic, trainer=trainer, gym=gym)
    return handoff_organization_blockers_from(
        clinic=clinic, trainer=trainer, gym=gym, at_gym=at_gym, partnered=partnered
    )


def handoff_organization_blockers_from(
    *, clinic: Organization, trainer: User, gym: Organization, at_gym: bool, partnered: bool
) -> list[Blocker]:
    """`handoff_organization_blockers` from the two facts the caller read."""
    return _organization_blockers(clinic=clinic, trainer=trainer, gym=gym, at_gym=at_gym, partnered=partnered)


def handoff_eligibility_blockers(*, handoff: TrainerHandoff) -> list[Blocker]:
    """What still matters once a referral was sent, re-checked when the trainer accepts, starts or resumes:
    the organizations (`handoff_organization_blockers`) and the trainer's credentials, with the same
    condition functions as the send. Not the capacity: the place was reserved at send."""
    trainer = User.objects.get(pk=handoff.trainer_id)  # fresh: deactivated a moment ago counts
    clinic = Organization.objects.get(pk=handoff.clinic_id)
    blockers = handoff_organization_blockers(clinic=clinic, trainer=trainer, gym=handoff.gym)
    profile = TrainerProfile.objects.filter(user=trainer).first()
    return blockers + _credential_blockers(trainer=trainer, profile=profile, today=timezone.localdate())


def trainer_list_for_user(
    *,
    user: User,
    specialization: str = "",
    gym_public_id: uuid.UUID | str | None = None,
    accepting: bool | None = None,
) -> QuerySet[Membership]:
    """The trainers a user may look up: for a physiotherapist, those of the active partner gyms of their
    clinics; for a trainer, the colleagues at their own gyms. One row per (trainer, gym)."""
    clinic_ids = _org_ids(user, Role.PHYSIOTHERAPIST)
    gym_ids = _org_ids(user, Role.TRAINER)
    scope = Q(organization_id__in=gym_ids)
    if clinic_ids:
        scope |= Q(
            organization__clinic_partnerships__clinic_id__in=clinic_ids,
            organization__clinic_partnerships__active=True,
        )
    qs = Membership.objects.filter(scope, role=Role.TRAINER, user__is_active=True)
    if specialization:
        qs = qs.filter(user__trainer_profile__specializations__specialization=specialization)
    if gym_public_id:
        qs = qs.filter(organization__public_id=gym_public_id)
    if accepting is not None:
        qs = qs.filter(user__trainer_profile__accepting_new_clients=accepting)
    return (
        qs.distinct()
        .select_related("user__trainer_profile", "organization")
        .prefetch_related("user__trainer_profile__certifications", "user__trainer_profile__specializations")
        .order_by("organization__name", "user__full_name", "pk")
    )


@dataclass
class TrainerChoice:
    """A trainer of a partner gym as the discharge page shows them: who, where, and why not (if not)."""

    membership: Membership
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def trainer(self) -> User:
        return self.membership.user

    @property
    def gym(self) -> Organization:
        return self.membership.organization

    @property
    def can_choose(self) -> bool:
        return not self.blockers


def trainer_choice_list_for_plan(
    *, user: User, plan: TreatmentPlan, specialization: str = "", accepting: bool | None = None
) -> list[TrainerChoice]:
    """The trainers of the plan's clinic's active partner gyms, each with the reasons it cannot be chosen.

    The same conditions as `handoff_send_blockers`, worked out from a constant number of queries (the send
    itself re-checks them under lock with `handoff_send_blockers`). Empty for a user outside the clinic.
    """
    clinic = plan.patient.clinic
    if clinic.pk not in _org_ids(user, Role.PHYSIOTHERAPIST):
        return []
    qs = trainer_membership_list_for_clinic(clinic=clinic).filter(user__is_active=True)
    if specialization:
        qs = qs.filter(user__trainer_profile__specializations__specialization=specialization)
    if accepting is not None:
        qs = qs.filter(user__trainer_profile__accepting_new_clients=accepting)
    consented = set(
        Consent.objects.filter(patient_id=plan.patient_id, withdrawn_at__isnull=True).values_list(
            "gym_id", flat=True
        )
    )
    has_exercises = PlanExercise.objects.filter(plan_id=plan.pk).exists()
    today = timezone.localdate()
    choices: list[TrainerChoice] = []
    for membership in qs:
        trainer, gym = membership.user, membership.organization
        # listed: an active trainer at an active partner gym (the query's filters)
        blockers = _organization_blockers(
            clinic=clinic, trainer=trainer, gym=gym, at_gym=True, partnered=True
        )
        blockers += _plan_blockers(gym=gym, consented=gym.pk in consented, has_exercises=has_exercises)
        blockers += _trainer_blockers(
            trainer=trainer,
            profile=getattr(trainer, "trainer_profile", None),
            caseload=getattr(membership, "caseload", 0),
            today=today,
        )
        choices.append(TrainerChoice(membership=membership, blockers=blockers))
    return choices


def trainer_choice_get_for_plan(
    *, user: User, plan: TreatmentPlan, trainer_public_id: uuid.UUID | str, gym_public_id: uuid.UUID | str
) -> TrainerChoice | None:
    """One trainer at one partner gym, as `trainer_choice_list_for_plan` shows them; None when not offered."""
    for choice in trainer_choice_list_for_plan(user=user, plan=plan):
        if str(choice.trainer.public_id) == str(trainer_public_id) and str(choice.gym.public_id) == str(
            gym_public_id
        ):
            return choice
    return None


def trainer_membership_get_for_plan(
    *, user: User, plan: TreatmentPlan, trainer_public_id: uuid.UUID | str, gym_public_id: uuid.UUID | str
) -> Membership | None:
    """The trainer at the gym when `trainer_choice_list_for_plan` lists them (whether or not they can be
    chosen: the send checks that), without the reasons; None when not offered."""
    clinic = plan.patient.clinic
    if clinic.pk not in _org_ids(user, Role.PHYSIOTHERAPIST):
        return None
    return (
        Membership.objects.filter(
            role=Role.TRAINER,
            organization__in=gym_list_partners_for_clinic(clinic=clinic),
            user__is_active=True,
            user__public_id=trainer_public_id,
            organization__public_id=gym_public_id,
        )
        .select_related("user", "organization")
        .first()
    )


def clinic_list_for_physio(*, user: User) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=_org_ids(user, Role.PHYSIOTHERAPIST)).order_by("name"))


# The conditions themselves, shared by `handoff_send_blockers` (one trainer, under lock, at send time) and
# `trainer_choice_list_for_plan` (every trainer of the partner gyms, from prefetched rows, for the page).


def _plan_blockers(*, gym: Organization, consented: bool, has_exercises: bool) -> list[Blocker]:
    blockers: list[Blocker] = []
    if not consented:
        blockers.append(
            Blocker("no_consent", f"The patient has not consented to sharing their guidelines with {gym}.")
        )
    if not has_exercises:
        blockers.append(Blocker("plan_has_no_exercises", "Add at least one exercise to the plan first."))
    return blockers


def _organization_blockers(
    *, clinic: Organization, trainer: User, gym: Organization, at_gym: bool, partnered: bool
) -> list[Blocker]:
    blockers: list[Blocker] = []
    if not trainer.is_active:
        blockers.append(Blocker("trainer_inactive", f"{trainer} is no longer an active user."))
    if not at_gym:
        blockers.append(Blocker("trainer_not_at_gym", f"{trainer} is not a trainer at {gym}."))
    if not partnered:
        blockers.append(Blocker("no_active_partnership", f"{clinic} has no active partnership with {gym}."))
    return blockers


def _trainer_blockers(
    *, trainer: User, profile: TrainerProfile | None, caseload: int, today: datetime.date
) -> list[Blocker]:
    if profile is None:
        return _credential_blockers(trainer=trainer, profile=None, today=today)
    blockers: list[Blocker] = []
    if not profile.accepting_new_clients:
        blockers.append(Blocker("trainer_not_accepting", f"{trainer} is not accepting new clients."))
    if caseload >= profile.max_active_clients:
        blockers.append(
            Blocker(
                "trainer_at_capacity",
                f"{trainer} is at their maximum of {profile.max_active_clients} active clients.",
            )
        )
    return blockers + _credential_blockers(trainer=trainer, profile=profile, today=today)


def _credential_blockers(
    *, trainer: User, profile: TrainerProfile | None, today: datetime.date
) -> list[Blocker]:
    """A current trainer certification that an admin verified, and a current CPR/AED."""
    if profile is None:
        return [Blocker("no_trainer_profile", f"{trainer} has no trainer profile.")]
    blockers: list[Blocker] = []
    current, verified = _certification_facts(profile, today)
    if not current:
        blockers.append(
            Blocker("certification_expired", f"{trainer} has no current (unexpired) trainer certification.")
        )
    elif not verified:
        blockers.append(
            Blocker(
                "certification_unverified",
                f"{trainer}'s current trainer certification has not been verified by an admin yet.",
            )
        )
    if not profile.cpr_aed_current(today):
        blockers.append(
            Blocker("cpr_aed_expired", f"{trainer}'s CPR/AED certification is missing or expired.")
        )
    return blockers


def _certification_facts(profile: TrainerProfile, today: datetime.date) -> tuple[bool, bool]:
    """Whether the trainer has a current certification, and a current one an admin verified: read with the
    profile's row when `trainer_send_columns` annotated it (for `today`), else from its certifications."""
    if getattr(profile, "send_day", None) == today:
        return bool(getattr(profile, "send_certified", False)), bool(getattr(profile, "send_verified", False))
    current = [c for c in profile.certifications.all() if c.is_current(today)]
    return bool(current), any(c.verified for c in current)
