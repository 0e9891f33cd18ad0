"""Every read a user makes, scoped to what that user may see. Outside the scope is DoesNotExist (a 404)."""

from __future__ import annotations

import datetime
import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, DateField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Certification, Membership, Organization, Partnership, TrainerProfile, User
from referrals import notifications, policies
from referrals.errors import Blocker
from referrals.models import (
    CASELOAD_STATUSES,
    OPEN_STATUSES,
    SYSTEM_ACTOR_NAME,
    Concern,
    Consent,
    Exercise,
    HandoffEvent,
    HandoffStatus,
    Notification,
    Patient,
    PlanExercise,
    TrainerHandoff,
    TreatmentPlan,
)
from referrals.policies import Role, roles_of


def _org_ids(user: User, role: str) -> list[int]:
    return sorted(org_id for org_id, r in roles_of(user) if r == role)


# --- patients and plans -------------------------------------------------------------------------------


def patient_list_for_user(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)).select_related("clinic")


def patient_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Patient:
    return patient_list_for_user(user=user).get(public_id=public_id)


def plan_list_for_user(*, user: User) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(
        patient__clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)
    ).select_related("patient__clinic", "physiotherapist")


def plan_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TreatmentPlan:
    return (
        plan_list_for_user(user=user)
        .prefetch_related("exercises__exercise", "precautions", "red_flags")
        .get(public_id=public_id)
    )


def plan_row_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TreatmentPlan:
    """`plan_get_for_user` without its exercises, precautions and red flags (a write reads them itself)."""
    return plan_list_for_user(user=user).get(public_id=public_id)


def consent_list_for_user(*, user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(patient__clinic_id__in=_org_ids(user, Role.PHYSIOTHERAPIST)).select_related(
        "patient", "gym", "recorded_by", "withdrawn_by"
    )


def active_consent(*, patient: Patient, gym_id: int) -> Consent | None:
    return Consent.objects.filter(patient=patient, gym_id=gym_id, withdrawn_at__isnull=True).first()


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
        .select_related("plan__patient", "trainer", "gym")
        .defer("snapshot")  # the guidelines, kilobytes a row: a list row never shows them
    )


def handoff_get_for_user(*, user: User, public_id: uuid.UUID | str) -> TrainerHandoff:
    return handoff_list_for_user(user=user).get(public_id=public_id)


def handoff_events(*, handoff: TrainerHandoff) -> QuerySet[HandoffEvent]:
    """The timeline, each concern with its state and each answer with the concern it answers: one query."""
    return (
        HandoffEvent.objects.filter(handoff=handoff)
        .select_related(
            "actor",
            "concern__acknowledged_by",
            "concern__resolved_by",
            "regarding__event",
        )
        .order_by("created_at", "id")
    )


def open_handoff_for_plan(*, plan: TreatmentPlan) -> TrainerHandoff | None:
    return TrainerHandoff.objects.filter(plan=plan, status__in=OPEN_STATUSES).first()


def plan_referral_columns() -> dict[str, Any]:
    """For a query of plans, what services.plan_discharge needs of the plan's referrals, read with the plan:
    the status of its open one (`open_handoff_for_plan`; None without), and of its sent ones as
    `plan_status_from_referrals` counts them (not entered in error): the first sent time and whether one
    was completed."""
    referrals = TrainerHandoff.objects.filter(plan=OuterRef("pk"))
    sent = referrals.filter(sent_at__isnull=False).exclude(status=HandoffStatus.ENTERED_IN_ERROR)
    return {
        "open_handoff_status": Subquery(
            referrals.filter(status__in=OPEN_STATUSES).order_by("pk").values("status")[:1]
        ),
        "first_sent_at": Subquery(sent.order_by("sent_at").values("sent_at")[:1]),
        "any_completed": Exists(sent.filter(status=HandoffStatus.COMPLETED)),
    }


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
    return notifications.notification_link(notification)


# --- trainers and send preconditions -------------------------------------------------------------------


def _caseload_rows() -> QuerySet[TrainerHandoff]:
    """The referrals that count against a trainer's maximum: open, sent, and at a gym where the trainer is
    still a trainer (a trainer removed from a gym no longer carries that gym's clients). The one definition
    of the caseload: `trainer_caseload` counts it for one trainer, the discharge page annotates it."""
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


def trainer_caseload(*, trainer: User, exclude_handoff_id: int | None = None) -> int:
    qs = _caseload_rows().filter(trainer=trainer)
    if exclude_handoff_id is not None:
        qs = qs.exclude(pk=exclude_handoff_id)
    return qs.count()


def partner_gyms_for_clinic(*, clinic: Organization) -> QuerySet[Organization]:
    return Organization.objects.filter(
        kind=Organization.Kind.GYM,
        clinic_partnerships__clinic=clinic,
        clinic_partnerships__active=True,
    ).order_by("name")


def trainer_memberships_for_clinic(*, clinic: Organization) -> QuerySet[Membership]:
    """The trainers of the clinic's partner gyms, with what the send check needs."""
    return (
        Membership.objects.filter(role=Role.TRAINER, organization__in=partner_gyms_for_clinic(clinic=clinic))
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
        0 if profile is None else trainer_caseload(trainer=trainer, exclude_handoff_id=exclude_handoff_id)
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


# --- the exercise library and the trainers directory ---------------------------------------------------


def exercise_list(*, search: str = "", category: str = "", body_region: str = "") -> QuerySet[Exercise]:
    """The library offered (retired entries left out), filtered by words of the name, category and body
    region (all optional)."""
    qs = Exercise.objects.filter(retired_at__isnull=True)
    for word in search.split()[:5]:
        qs = qs.filter(name__icontains=word)
    if category:
        qs = qs.filter(category=category)
    if body_region:
        qs = qs.filter(body_region=body_region)
    return qs.order_by("name")


def trainer_directory_for_user(
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


# --- the pages: guidelines preview, discharge candidates, lists ----------------------------------------


# The shape of the guidelines snapshot. 2: each exercise, precaution and red flag has an `id` (its row's
# public_id, the same in every snapshot of that row) and red flags are {"id", "description"}; exercises
# name their library entry (`library_slug`). 1 (or none): neither; `guidelines_read` reads it as a 2.
GUIDELINES_SCHEMA = 2
# Ids of the entries of a schema-1 snapshot: uuid5 of "<handoff public id>/<section>/<position>".
_OLD_ENTRY_IDS = uuid.UUID("0c6d5a3e-7b0f-4d8e-9a51-3f2b8c1e6d47")


def guidelines_snapshot(
    *, plan: TreatmentPlan, consent: Consent, sent_at: datetime.datetime
) -> dict[str, Any]:
    """What the trainer is sent, frozen: later edits to the plan do not change it."""
    exercises = PlanExercise.objects.filter(plan=plan).select_related("exercise").order_by("position", "id")
    return {
        "schema": GUIDELINES_SCHEMA,
        "sent_at": sent_at.isoformat(),
        "clinic": plan.patient.clinic.name,
        "physiotherapist": plan.physiotherapist.full_name,
        "physiotherapist_email": plan.physiotherapist.email,
        "patient": {"name": plan.patient.full_name, "email": plan.patient.email, "phone": plan.patient.phone},
        "consent_scope": consent.scope,
        "diagnosis": (
            {"text": plan.diagnosis, "icd10_code": plan.icd10_code} if consent.includes_diagnosis else None
        ),
        "goals": plan.goals,
        "exercises": [
            {
                "id": str(item.public_id),
                "library_slug": item.exercise.slug,
                "name": item.exercise.name,
                "category": item.exercise.get_category_display(),
                "body_region": item.exercise.get_body_region_display(),
                "equipment": item.exercise.equipment,
                "instructions": item.exercise.instructions,
                "sets": item.sets,
                "reps": item.reps,
                "hold_seconds": item.hold_seconds,
                "duration_minutes": item.duration_minutes,
                "load_unit": item.load_unit,
                "load_value": None if item.load_value is None else str(item.load_value),
                "frequency_per_week": item.frequency_per_week,
                "tempo": item.tempo,
                "rest_seconds": item.rest_seconds,
                "notes": item.notes,
                "progression_note": item.progression_note,
                "dose": item.dose_text,
            }
            for item in exercises
        ],
        "precautions": [
            {
                "id": str(p.public_id),
                "kind": p.kind,
                "kind_label": p.get_kind_display(),
                "body_region": p.get_body_region_display() if p.body_region else "",
                "limit_value": None if p.limit_value is None else str(p.limit_value),
                "limit_unit": p.get_limit_unit_display() if p.limit_unit else "",
                "weight_bearing": p.get_weight_bearing_display() if p.weight_bearing else "",
                "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                "detail": p.detail,
                "summary": p.summary,
            }
            for p in plan.precautions.all()
        ],
        "red_flags": [
            {"id": str(flag.public_id), "description": flag.description} for flag in plan.red_flags.all()
        ],
    }


def guidelines_read(
    snapshot: dict[str, Any] | None, *, handoff_public_id: uuid.UUID
) -> dict[str, Any] | None:
    """A stored snapshot in the current shape (GUIDELINES_SCHEMA), whatever shape it was stored in: the one
    reader of `TrainerHandoff.snapshot`, so every page, the API and the next issues see one shape. A
    schema-1 snapshot gets ids derived from the handoff and the entry's position (the same on every read)
    and its red flags become {"id", "description"}; the stored JSON is never rewritten."""
    if not snapshot:
        return None
    if snapshot.get("schema") == GUIDELINES_SCHEMA:
        return snapshot

    def old_id(section: str, position: int) -> str:
        return str(uuid.uuid5(_OLD_ENTRY_IDS, f"{handoff_public_id}/{section}/{position}"))

    return {
        **snapshot,
        "schema": GUIDELINES_SCHEMA,
        "exercises": [
            {"id": old_id("exercises", i), "library_slug": "", **item}
            for i, item in enumerate(snapshot.get("exercises") or [])
        ],
        "precautions": [
            {"id": old_id("precautions", i), **item}
            for i, item in enumerate(snapshot.get("precautions") or [])
        ],
        "red_flags": [
            flag if isinstance(flag, dict) else {"id": old_id("red_flags", i), "description": str(flag)}
            for i, flag in enumerate(snapshot.get("red_flags") or [])
        ],
    }


def guidelines_preview(*, plan: TreatmentPlan, consent: Consent) -> dict[str, Any]:
    """The guidelines exactly as the trainer would receive them if the plan were sent now."""
    return guidelines_snapshot(plan=plan, consent=consent, sent_at=timezone.now())


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


def trainer_choices_for_plan(
    *, user: User, plan: TreatmentPlan, specialization: str = "", accepting: bool | None = None
) -> list[TrainerChoice]:
    """The trainers of the plan's clinic's active partner gyms, each with the reasons it cannot be chosen.

    The same conditions as `handoff_send_blockers`, worked out from a constant number of queries (the send
    itself re-checks them under lock with `handoff_send_blockers`). Empty for a user outside the clinic.
    """
    clinic = plan.patient.clinic
    if clinic.pk not in _org_ids(user, Role.PHYSIOTHERAPIST):
        return []
    qs = trainer_memberships_for_clinic(clinic=clinic).filter(user__is_active=True)
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


def trainer_choice_for_plan(
    *, user: User, plan: TreatmentPlan, trainer_public_id: uuid.UUID | str, gym_public_id: uuid.UUID | str
) -> TrainerChoice | None:
    """One trainer at one partner gym, as `trainer_choices_for_plan` shows them; None when not offered."""
    for choice in trainer_choices_for_plan(user=user, plan=plan):
        if str(choice.trainer.public_id) == str(trainer_public_id) and str(choice.gym.public_id) == str(
            gym_public_id
        ):
            return choice
    return None


def trainer_membership_for_plan(
    *, user: User, plan: TreatmentPlan, trainer_public_id: uuid.UUID | str, gym_public_id: uuid.UUID | str
) -> Membership | None:
    """The trainer at the gym when `trainer_choices_for_plan` lists them (whether or not they can be chosen:
    the send checks that), without the reasons; None when not offered."""
    clinic = plan.patient.clinic
    if clinic.pk not in _org_ids(user, Role.PHYSIOTHERAPIST):
        return None
    return (
        Membership.objects.filter(
            role=Role.TRAINER,
            organization__in=partner_gyms_for_clinic(clinic=clinic),
            user__is_active=True,
            user__public_id=trainer_public_id,
            organization__public_id=gym_public_id,
        )
        .select_related("user", "organization")
        .first()
    )


def plan_list_for_patient(*, user: User, patient: Patient) -> QuerySet[TreatmentPlan]:
    return (
        plan_list_for_user(user=user)
        .filter(patient=patient)
        .prefetch_related("handoffs__trainer", "handoffs__gym")
        .order_by("-start_date", "-id")
    )


def consent_list_for_patient(*, user: User, patient: Patient) -> QuerySet[Consent]:
    return consent_list_for_user(user=user).filter(patient=patient).order_by("-recorded_at", "-id")


def consent_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Consent:
    return consent_list_for_user(user=user).get(public_id=public_id)


def trainer_inbox_for_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The referrals offered to the user as a trainer that still need them: new ones first, then active
    clients, most recently changed first."""
    return (
        handoff_list_for_user(user=user)
        .filter(trainer_id=getattr(user, "pk", None), status__in=CASELOAD_STATUSES)
        .annotate(is_new=Case(When(status=HandoffStatus.REQUESTED, then=Value(0)), default=Value(1)))
        .order_by("is_new", "-updated_at", "-id")
    )


def open_handoffs_for_clinic_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The open handoffs of the user's clinics, by status then most recently changed."""
    return _clinic_rows(user).filter(status__in=OPEN_STATUSES).order_by("status", "-updated_at", "-id")


def waiting_handoffs_for_clinic_user(*, user: User) -> QuerySet[TrainerHandoff]:
    """The referrals of the user's clinics still waiting for the trainer's answer, oldest sent first."""
    return _clinic_rows(user).filter(status=HandoffStatus.REQUESTED).order_by("sent_at", "id")


def exercise_list_by_ids(*, ids: list[int]) -> QuerySet[Exercise]:
    return Exercise.objects.filter(pk__in=ids).order_by("name")


def clinics_for_physio(*, user: User) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=_org_ids(user, Role.PHYSIOTHERAPIST)).order_by("name"))


def concerns_for_clinic_user(*, user: User) -> QuerySet[Concern]:
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


# The conditions themselves, shared by `handoff_send_blockers` (one trainer, under lock, at send time) and
# `trainer_choices_for_plan` (every trainer of the partner gyms, from prefetched rows, for the page).


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


# --- audit: who saw or changed a patient's data ---------------------------------------------------------


@dataclass(frozen=True)
class TrailEntry:
    at: datetime.datetime
    user: User | None  # None: the system changed it (a timer); `who` names it
    action: str  # "read" (the access log) or "changed" (a handoff event)
    what: str
    channel: str  # page, api, admin; "" for a change (the event log records the action, not the channel)

    @property
    def who(self) -> str:
        return self.user.full_name if self.user is not None else SYSTEM_ACTOR_NAME


def patient_data_trail(*, patient: Patient) -> list[TrailEntry]:
    """Every read (AccessLog) and every change of a handoff (HandoffEvent) of one patient, oldest first:
    the answer to "who saw or changed this patient's data". For superusers and audits, not user-scoped."""
    from referrals.models import AccessLog  # appended model; imported here to keep this block self-contained

    reads = [
        TrailEntry(row.at, row.user, "read", f"{row.object_type} {row.object_public_id}", row.channel)
        for row in AccessLog.objects.filter(patient=patient).select_related("user")
    ]
    changes = [
        TrailEntry(
            event.created_at,
            event.actor,
            "changed",
            f"handoff {event.handoff.public_id}: "
            + (f"{event.from_status or '-'} -> {event.to_status}" if event.to_status else event.kind),
            "",
        )
        for event in HandoffEvent.objects.filter(handoff__plan__patient=patient).select_related(
            "actor", "handoff"
        )
    ]
    return sorted(reads + changes, key=lambda entry: entry.at)


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


def handoff_summaries_for_user(*, user: User) -> QuerySet[Any]:
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


# --- what of a handoff a viewer sees: policies.handoff_shown, as the values a surface renders -----------


@dataclass(frozen=True)
class HandoffView:
    """One handoff as one viewer may see it on one surface; what is hidden is "" or None. The clinic
    reads its live records; the trainer reads the snapshot, what was sent."""

    shown: frozenset[policies.Shown]
    is_clinic_side: bool
    clinic: str
    physiotherapist: str
    patient_name: str
    client_label: str  # the patient's name, or a neutral label saying why it is not shown
    guidelines: dict[str, Any] | None  # the snapshot, its diagnosis taken out unless shown
    trainer_id: int | None

    @property
    def diagnosis(self) -> dict[str, Any] | None:
        return (self.guidelines or {}).get("diagnosis") if policies.Shown.DIAGNOSIS in self.shown else None

    def names_actor(self, event: HandoffEvent) -> bool:
        """Whether a timeline names who did it: the trainer always; the clinic's people only while the
        physiotherapist is shown; never a person for the system's events (it is named, not hidden)."""
        if event.actor_id is None:
            return False
        return event.actor_id == self.trainer_id or policies.Shown.PHYSIOTHERAPIST in self.shown

    def actor_name(self, event: HandoffEvent) -> str:
        """Who did it, on a timeline: the person when `names_actor`, "Handoff (automatic)" for the
        system, otherwise the clinic."""
        if event.actor is None:
            return event.actor_display
        if self.names_actor(event):
            return event.actor.full_name
        return self.clinic or "The clinic"


def neutral_client_label(*, status: str, consent_withdrawn: bool) -> str:
    if consent_withdrawn:
        return "Client (consent withdrawn)"
    if status in policies.GUIDELINES_WITHDRAWN:
        return f"Client (referral {HandoffStatus(status).label.lower()})"
    return "Client (not shared)"


def _view(
    *,
    shown: frozenset[policies.Shown],
    is_clinic_side: bool,
    names: tuple[str, str, str],
    snapshot: dict[str, Any] | None,
    status: str,
    consent_withdrawn: bool,
    trainer_id: int | None,
) -> HandoffView:
    S_ = policies.Shown
    clinic, physiotherapist, patient_name = names
    guidelines = None
    if S_.GUIDELINES in shown and snapshot:
        guidelines = snapshot if S_.DIAGNOSIS in shown else {**snapshot, "diagnosis": None}
    patient_name = patient_name if S_.PATIENT_NAME in shown else ""
    return HandoffView(
        shown=shown,
        is_clinic_side=is_clinic_side,
        clinic=clinic if S_.CLINIC in shown else "",
        physiotherapist=physiotherapist if S_.PHYSIOTHERAPIST in shown else "",
        patient_name=patient_name,
        client_label=patient_name or neutral_client_label(status=status, consent_withdrawn=consent_withdrawn),
        guidelines=guidelines,
        trainer_id=trainer_id,
    )


def handoff_view_for_user(*, user: User, handoff: TrainerHandoff, surface: policies.Surface) -> HandoffView:
    """`handoff` (with its plan, patient, clinic, physiotherapist and consent joined, as
    `handoff_list_for_user` reads it) as `user` may see it on `surface`."""
    shown = policies.handoff_shown(user, handoff, surface)
    is_clinic_side = policies.is_clinic_physio(user, handoff.clinic_id)
    snapshot = guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id)
    if is_clinic_side:
        plan = handoff.plan
        names = (plan.patient.clinic.name, plan.physiotherapist.full_name, plan.patient.full_name)
    else:
        sent = snapshot or {}
        names = (
            str(sent.get("clinic") or handoff.plan.patient.clinic.name),
            str(sent.get("physiotherapist", "")),
            str((sent.get("patient") or {}).get("name", "")),
        )
    consent = handoff.consent
    return _view(
        shown=shown,
        is_clinic_side=is_clinic_side,
        names=names,
        snapshot=snapshot,
        status=handoff.status,
        consent_withdrawn=consent is None or consent.withdrawn_at is not None,
        trainer_id=handoff.trainer_id,
    )


def handoff_summary_view_for_user(
    *, user: User, row: dict[str, Any], surface: policies.Surface
) -> HandoffView:
    """A row of `handoff_summaries_for_user` as `user` may see it on a list `surface`."""
    shown = policies.handoff_shown_of_summary(user, row, surface)
    is_clinic_side = policies.is_clinic_physio(user, row["clinic_id"])
    if is_clinic_side:
        names = (
            row["clinic__name"],
            row["plan__physiotherapist__full_name"],
            row["plan__patient__full_name"],
        )
    else:
        names = (
            str(row["snapshot_clinic"] or ""),
            str(row["snapshot_physiotherapist"] or ""),
            str(row["snapshot_patient"] or ""),
        )
    return _view(
        shown=shown,
        is_clinic_side=is_clinic_side,
        names=names,
        snapshot=None,
        status=row["status"],
        consent_withdrawn=row["consent_id"] is None or row["consent__withdrawn_at"] is not None,
        trainer_id=row["trainer_id"],
    )
