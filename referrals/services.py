"""Every write of the referral domain: one function per business action.

Each action runs in one transaction, re-reads and locks the row it changes, checks the policy, changes
state, appends an event and writes the notifications it owes beside it (`notify`). Celery is told after
commit.

Who acts: `actor: User`, or `actor: User | None` in the steps the system takes too (a timer, the daily
eligibility review): None is the system, recorded as an event without an actor and shown as "Handoff
(automatic)".
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Certification, Membership, Organization, Partnership, TrainerProfile, User
from referrals import notifications, policies, registry, selectors, tasks
from referrals.errors import (
    Blocker,
    ConcernAlreadyResolved,
    DomainError,
    DuplicatePatient,
    InvalidTransition,
    NoLongerEligible,
    NotPermitted,
    SendBlocked,
)
from referrals.models import (
    CONCERN_MAX_LENGTH,
    CONCERN_NOTE_MAX_LENGTH,
    HANDOFF_EVENT_KIND,
    OPEN_STATUSES,
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    REASON_REQUIRED_STATUSES,
    Concern,
    Consent,
    Exercise,
    HandoffEvent,
    HandoffStatus,
    Notification,
    OutboxMessage,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TrainerHandoff,
    TreatmentPlan,
    event_source_key,
    text_limit,
)
from referrals.models import REASON_MAX_LENGTH as REASON_MAX_LENGTH

S = HandoffStatus
Side = registry.Side
HandoffAction = registry.HandoffAction

# The one transition table, from the registry: target status -> (who sets it, the statuses it may be
# reached from).
TRANSITIONS: dict[str, tuple[Side, frozenset[str]]] = registry.transitions()
# The text limits live in referrals.models (one place for pages, API and admin); these names stay for callers.
TEXT_MAX_LENGTH = CONCERN_MAX_LENGTH


# --- internals -----------------------------------------------------------------------------------------


def _validate(obj: Any, *, prefix: str = "", exclude: Sequence[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        if not prefix:
            raise
        raise ValidationError(
            {f"{prefix}.{field}": msgs for field, msgs in exc.message_dict.items()}
        ) from exc


def _clean_text(value: object, *, field: str, required: bool, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError({field: "Enter text."})
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: "This field is required."})
    if len(text) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters (it has {len(text)})."})
    return text


def _locked_handoff(handoff: TrainerHandoff) -> TrainerHandoff:
    return (
        TrainerHandoff.objects.select_for_update(of=("self",))
        .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
        .get(pk=handoff.pk)
    )


def _recipients(handoff: TrainerHandoff, event: HandoffEvent) -> list[User]:
    """Who is told, the one rule: only people who can act on it, never the actor.

    The trainer hears of a new referral, and of a sent one cancelled or withdrawn, or handed to another
    physiotherapist, while they are an active user and still a trainer at the referral's gym. The clinic
    hears of everything else (answers, concerns, refused steps, handovers) and of a cancellation it did not
    make itself (an admin, an organization change): the treating physiotherapist and the one who created
    the referral while they are active physiotherapists of the patient's clinic; when neither is, the
    clinic's active physiotherapists, so nothing reaches nobody."""
    kind = event.kind
    was_sent = handoff.sent_at is not None
    trainer_told = clinic_told = False
    if kind == HandoffEvent.Kind.TRANSITION:
        # Who hears of a move is its action's (the registry's `recipients`); a draft created is the
        # clinic's own business: nobody is told.
        action = registry.action_for_move(event.from_status, event.to_status)
        told = action.recipients if action is not None else registry.Recipients()
        if event.from_status not in told.silent_from:
            trainer_told = told.trainer
            clinic_told = told.clinic == "always" or (
                told.clinic == "unless_it_acted"
                and (event.actor is None or not _is_active_physio(event.actor, handoff.clinic_id))
            )
    elif kind == HandoffEvent.Kind.HANDOVER:
        trainer_told, clinic_told = was_sent and handoff.status != S.DRAFT, True
    elif kind in (HandoffEvent.Kind.CONCERN_ACKNOWLEDGED, HandoffEvent.Kind.CONCERN_RESOLVED):
        # the answer to a concern goes to the trainer who raised it (only the referral's trainer can)
        trainer_told = True
    else:
        clinic_told = True
    people: list[User] = []
    if trainer_told and _is_active_trainer(handoff.trainer, handoff.gym_id):
        people.append(handoff.trainer)
    if clinic_told:
        people += _clinic_recipients(handoff)
    unique: dict[int, User] = {}
    for person in people:
        if person.pk != event.actor_id:
            unique.setdefault(person.pk, person)
    return list(unique.values())


def _is_active_physio(user: User, clinic_id: int) -> bool:
    return (
        user.is_active
        and Membership.objects.filter(
            user_id=user.pk, organization_id=clinic_id, role=Membership.Role.PHYSIOTHERAPIST
        ).exists()
    )


def _is_active_trainer(user: User, gym_id: int) -> bool:
    return (
        user.is_active
        and Membership.objects.filter(
            user_id=user.pk, organization_id=gym_id, role=Membership.Role.TRAINER
        ).exists()
    )


def _clinic_recipients(handoff: TrainerHandoff) -> list[User]:
    """The treating physiotherapist and the referral's creator while they are active physiotherapists of
    the patient's clinic; otherwise the clinic's active physiotherapists."""
    clinic_id = handoff.clinic_id
    treating = [
        person
        for person in (handoff.plan.physiotherapist, handoff.created_by)
        if _is_active_physio(person, clinic_id)
    ]
    if treating:
        return treating
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization_id=clinic_id,
            memberships__role=Membership.Role.PHYSIOTHERAPIST,
        )
        .distinct()
        .order_by("pk")
    )


def _record_event(
    *,
    handoff: TrainerHandoff,
    actor: User | None,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    urgent: bool = False,
    regarding: Concern | None = None,
    notify: bool = True,
) -> HandoffEvent:
    """Append the audit row and, in the same transaction, the notifications it causes (none with
    `notify=False`: the caller tells people once, with `_notify`, for a step that appends two events).
    `actor=None`: the system did it (a timer, the daily review)."""
    event = HandoffEvent.objects.create(
        handoff=handoff,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        text=text,
        urgent=urgent,
        regarding=regarding,
    )
    if notify:
        _notify(handoff, event)
    return event


def _notify(handoff: TrainerHandoff, event: HandoffEvent, recipients: list[User] | None = None) -> None:
    """The notifications and outbox rows a referral event owes, to `_recipients` (or to `recipients`, when
    the caller has just worked them out under its locks by the same rule: plan_discharge)."""
    notify(
        kind=HANDOFF_EVENT_KIND,
        recipients=_recipients(handoff, event) if recipients is None else recipients,
        source_key=event_source_key(event.pk),
        handoff=handoff,
        event=event,
        urgent=event.urgent,
    )


def notify(
    *,
    kind: str,
    recipients: Sequence[User],
    source_key: str,
    handoff: TrainerHandoff | None = None,
    event: HandoffEvent | None = None,
    title: str = "",
    urgent: bool = False,
) -> list[int]:
    """Owe each recipient an in-app notification and an email for one source (a referral event, a report
    due, a reminder), in the caller's transaction; the emails are published after commit. The one way
    services tell people.

    `kind` names the wording and the link (notifications.NOTIFICATION_KINDS); `source_key` what caused it,
    deterministic ("handoff-event:<id>", later e.g. "report:<id>:due"): one row per source, recipient and
    channel, so a timer that runs twice tells nobody twice. `title` defaults to the kind's wording.
    Returns the ids of the outbox rows owed (new or still pending from an earlier call)."""
    spec = notifications.notification_kind(kind)
    if not recipients or not source_key:
        if not source_key:
            raise ValueError("A notification needs its source key.")
        return []
    title = notifications.clip_title(title or spec.title(handoff, event))
    owed = {
        "kind": kind,
        "source_key": source_key,
        "handoff": handoff if handoff is not None else (event.handoff if event is not None else None),
        "event": event,
    }
    # A referral event's rows are written with the event, in its transaction: none can exist yet, so they
    # are inserted as they are (two INSERTs). Any other source may be written again (a timer that runs
    # twice): its rows are inserted with ON CONFLICT DO NOTHING and the ids read back.
    fresh = event is not None and source_key == event_source_key(event.pk)
    Notification.objects.bulk_create(
        [Notification(recipient=r, title=title, urgent=urgent, **owed) for r in recipients],
        ignore_conflicts=not fresh,
    )
    messages = OutboxMessage.objects.bulk_create(
        [OutboxMessage(recipient=r, channel=OutboxMessage.Channel.EMAIL, **owed) for r in recipients],
        ignore_conflicts=not fresh,
    )
    if fresh:
        ids = [m.pk for m in messages]
    else:
        ids = list(
            OutboxMessage.objects.filter(
                source_key=source_key,
                channel=OutboxMessage.Channel.EMAIL,
                recipient__in=[r.pk for r in recipients],
                status=OutboxMessage.Status.PENDING,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if ids:
        transaction.on_commit(lambda: tasks.publish_deliveries(ids))
    return ids


def _check_actor(*, handoff: TrainerHandoff, to: str, actor: User) -> None:
    """The actor against the side that sets `to` (TRANSITIONS), by the one policy `policies.can_act`."""
    side, _ = TRANSITIONS[to]
    if not policies.can_act(actor, handoff, side):
        who = "the referring clinic" if side == "clinic" else "the trainer the referral was sent to"
        raise NotPermitted(f"Only {who} can set a referral to {S(to).label.lower()}.")


def _check_source(*, handoff: TrainerHandoff, to: str, only_from: frozenset[str] | None = None) -> None:
    _, sources = TRANSITIONS[to]
    if only_from is not None:
        sources = sources & only_from
    if handoff.status not in sources:
        raise InvalidTransition(
            f"A referral that is {S(handoff.status).label.lower()} cannot become {S(to).label.lower()}.",
            current_status=handoff.status,
        )


def _transition(
    *,
    handoff: TrainerHandoff,
    to: str,
    actor: User | None,
    reason: str = "",
    only_from: frozenset[str] | None = None,
    on_behalf: bool = False,
    notify: bool = True,
) -> HandoffEvent:
    """Check the move against TRANSITIONS and the actor against the side that sets it; apply it.

    `handoff` must be the row locked by the caller's transaction. `only_from` narrows the legal sources
    for actions that share a target status (start and resume both lead to in-progress). `on_behalf`: an
    organization-change service that checked its own actor's authority moves the referral (the admin who
    ended a partnership is on neither side of it). `notify=False` when the caller's own event already
    tells the same people (a concern that also holds the referral). `actor=None`: the system (a timer)
    moves it, always `on_behalf` (no side's rule applies to it; the timer's service decides).
    """
    if actor is None:
        if not on_behalf:
            raise ValueError("The system moves a referral on behalf only: pass on_behalf=True.")
    elif not on_behalf:
        _check_actor(handoff=handoff, to=to, actor=actor)
    _check_source(handoff=handoff, to=to, only_from=only_from)
    current = handoff.status
    reason = _clean_text(
        reason, field="reason", required=to in REASON_REQUIRED_STATUSES, max_length=REASON_MAX_LENGTH
    )
    handoff.status = to
    handoff.status_reason = reason if to in REASON_REQUIRED_STATUSES else ""
    handoff.save(update_fields=["status", "status_reason", "updated_at"])
    if handoff.sent_at is not None:
        plan = _plan_follow_referrals(plan_id=handoff.plan_id)
        handoff.plan.status, handoff.plan.discharged_at = plan.status, plan.discharged_at
    return _record_event(
        handoff=handoff,
        actor=actor,
        kind=HandoffEvent.Kind.TRANSITION,
        from_status=current,
        to_status=to,
        text=reason,
        notify=notify,
    )


def plan_status_from_referrals(plan_id: int) -> tuple[str, datetime.datetime | None]:
    """What a plan's status and discharge date are, given its referrals. A referral entered in error counts
    as never sent (it undoes its discharge); a draft was never sent."""
    rows = list(
        TrainerHandoff.objects.filter(plan_id=plan_id, sent_at__isnull=False)
        .exclude(status=S.ENTERED_IN_ERROR)
        .values_list("status", "sent_at")
    )
    statuses = {status for status, _ in rows}
    discharged_at = min((sent_at for _, sent_at in rows if sent_at is not None), default=None)
    if S.COMPLETED in statuses:
        return TreatmentPlan.Status.COMPLETED, discharged_at
    if statuses & {S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD}:
        return TreatmentPlan.Status.DISCHARGED, discharged_at
    if statuses:  # every sent referral ended without care: declined, cancelled, failed
        return TreatmentPlan.Status.AWAITING_TRAINER, discharged_at
    return TreatmentPlan.Status.ACTIVE, None


def _plan_follow_referrals(*, plan_id: int) -> TreatmentPlan:
    """Lock the plan and set its status from its referrals (after a sent referral moved)."""
    plan = TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan_id)
    status, discharged_at = plan_status_from_referrals(plan_id)
    if (plan.status, plan.discharged_at) != (status, discharged_at):
        plan.status = status
        plan.discharged_at = discharged_at
        plan.save(update_fields=["status", "discharged_at", "updated_at"])
    return plan


def _move(
    *,
    handoff: TrainerHandoff,
    actor: User,
    to: str,
    reason: str = "",
    only_from: frozenset[str] | None = None,
    recheck: str = "",
) -> TrainerHandoff:
    """One transition in its own transaction. With `recheck` (the step's name: accept, start, resume), the
    referral's eligibility is checked first; if it no longer holds, the refusal is recorded on the referral
    (the PT is told) and committed, and then `NoLongerEligible` is raised: the status does not change."""
    refused: list[Blocker] = []
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        if recheck:
            _check_actor(handoff=locked, to=to, actor=actor)
            _check_source(handoff=locked, to=to, only_from=only_from)
            refused = selectors.handoff_eligibility_blockers(handoff=locked)
        if refused:
            _record_refusal(handoff=locked, actor=actor, step=recheck, blockers=refused)
        else:
            _transition(handoff=locked, to=to, actor=actor, reason=reason, only_from=only_from)
    if refused:
        raise NoLongerEligible(refused)
    return locked


def _record_refusal(
    *, handoff: TrainerHandoff, actor: User | None, step: str, blockers: list[Blocker], once: bool = False
) -> bool:
    """The refused step in the audit trail, and the clinic told; False when it was recorded already. The
    same refusal repeated (the trainer tries again) is recorded once, until something else happens on the
    referral; with `once`, once for the referral's life."""
    text = (f"Could not {step}: " + " ".join(b.message for b in blockers))[:TEXT_MAX_LENGTH]
    refusals = HandoffEvent.objects.filter(handoff=handoff)
    if once:
        if refusals.filter(kind=HandoffEvent.Kind.REFUSAL, text=text).exists():
            return False
    else:
        last = refusals.order_by("-created_at", "-id").first()
        if last is not None and last.kind == HandoffEvent.Kind.REFUSAL and last.text == text:
            return False
    _record_event(
        handoff=handoff,
        actor=actor,
        kind=HandoffEvent.Kind.REFUSAL,
        from_status=handoff.status,
        text=text,
    )
    return True


def handoff_review_eligibility() -> list[TrainerHandoff]:
    """The daily review: every open sent referral whose trainer is no longer eligible (a certification or
    CPR/AED that expired since, or an organization changed outside the services) is recorded on the
    referral and its clinic told, once per reason; the next accept, start or resume is refused anyway.
    Recorded as the system's (no actor: a timer found it, nobody did it). Returns the referrals newly
    flagged."""
    flagged: list[TrainerHandoff] = []
    ids = list(
        TrainerHandoff.objects.filter(status__in=OPEN_STATUSES, sent_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            locked = _locked_handoff(TrainerHandoff(pk=pk))
            if locked.status not in OPEN_STATUSES:
                continue
            blockers = selectors.handoff_eligibility_blockers(handoff=locked)
            if blockers and _record_refusal(
                handoff=locked, actor=None, step="go on", blockers=blockers, once=True
            ):
                flagged.append(locked)
    return flagged


# --- patients, plans, consent --------------------------------------------------------------------------

PATIENT_FIELDS = ("full_name", "date_of_birth", "email", "phone")
PLAN_FIELDS = ("diagnosis", "icd10_code", "goals", "start_date")
EXERCISE_FIELDS = (
    "exercise",
    "sets",
    "reps",
    "hold_seconds",
    "duration_minutes",
    "load_unit",
    "load_value",
    "frequency_per_week",
    "tempo",
    "rest_seconds",
    "notes",
    "progression_note",
)
PRECAUTION_FIELDS = (
    "kind",
    "body_region",
    "limit_value",
    "limit_unit",
    "weight_bearing",
    "valid_until",
    "detail",
)


def _only(data: Mapping[str, Any], allowed: Sequence[str], *, prefix: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({f"{prefix}.{key}": "Unknown field." for key in unknown})
    return dict(data)


def _same_name(name: str) -> str:
    """A name as people mean it: case and spacing do not make another person."""
    return " ".join(str(name).split()).casefold()


def patient_namesake(
    *, clinic_id: int, full_name: str, date_of_birth: datetime.date, exclude_pk: int | None = None
) -> Patient | None:
    """The clinic's patient with this name (whatever its case and spacing) and date of birth, if any: the
    one duplicate rule of the pages, the API (through `patient_create`) and the admin."""
    wanted = _same_name(full_name)
    namesakes = Patient.objects.filter(clinic_id=clinic_id, date_of_birth=date_of_birth)
    if exclude_pk is not None:
        namesakes = namesakes.exclude(pk=exclude_pk)
    return next((p for p in namesakes.order_by("pk") if _same_name(p.full_name) == wanted), None)


def patient_create(
    *,
    clinic: Organization,
    actor: User,
    full_name: str,
    date_of_birth: datetime.date,
    email: str = "",
    phone: str = "",
    confirm_distinct: bool = False,
) -> Patient:
    """Add a patient. One already in the clinic with the same name (whatever its case and spacing) and date
    of birth raises DuplicatePatient carrying them, unless `confirm_distinct` says this is another person."""
    if not policies.can_create_patient(actor, clinic.pk):
        raise NotPermitted("Only a physiotherapist of this clinic can add its patients.")
    patient = Patient(
        clinic=clinic,
        created_by=actor,
        full_name=" ".join(str(full_name).split()),
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
    _validate(patient)
    with transaction.atomic():
        # One add at a time per clinic: two people typing the same patient cannot both miss the other.
        Organization.objects.select_for_update().filter(pk=clinic.pk).first()
        if not confirm_distinct:
            existing = patient_namesake(
                clinic_id=clinic.pk, full_name=patient.full_name, date_of_birth=patient.date_of_birth
            )
            if existing is not None:
                raise DuplicatePatient(
                    f"{existing.full_name}, born {existing.date_of_birth:%Y-%m-%d}, is already a patient of "
                    f"{clinic.name}. Open that record, or confirm that this is a different person.",
                    existing=existing,
                )
        patient.save()
    return patient


def patient_update(*, patient: Patient, actor: User, **fields: Any) -> Patient:
    data = _only(fields, PATIENT_FIELDS, prefix="patient")
    with transaction.atomic():
        locked = Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient.pk)
        if not policies.can_edit_patient(actor, locked):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can edit the patient.")
        for key, value in data.items():
            setattr(locked, key, value)
        _validate(locked)
        locked.save(update_fields=[*data.keys(), "updated_at"])
    return locked


ROW_CAPS = {
    "exercises": (PLAN_MAX_EXERCISES, "exercises"),
    "precautions": (PLAN_MAX_PRECAUTIONS, "precautions"),
    "red_flags": (PLAN_MAX_RED_FLAGS, "red flags"),
}


def row_cap_message(key: str) -> str:
    """ "At most 60 exercises per plan": the one message of the page, the API and the admin."""
    cap, noun = ROW_CAPS[key]
    return f"At most {cap} {noun} per plan."


def _build_children(
    plan: TreatmentPlan,
    exercises: Sequence[Mapping[str, Any]] | None,
    precautions: Sequence[Mapping[str, Any]] | None,
    red_flags: Sequence[str] | None,
) -> None:
    """Validate every child row first, then replace the plan's rows: all or nothing. Too many rows are
    refused before any is looked at (a page or an API call of thousands of rows costs nothing)."""
    errors: dict[str, Any] = {}
    limits = (
        ("exercises", exercises, PLAN_MAX_EXERCISES),
        ("precautions", precautions, PLAN_MAX_PRECAUTIONS),
        ("red_flags", red_flags, PLAN_MAX_RED_FLAGS),
    )
    for key, rows, cap in limits:
        if rows is not None and len(rows) > cap:
            errors[key] = [row_cap_message(key)]
    if errors:
        raise ValidationError(errors)
    new_exercises: list[PlanExercise] = []
    for i, row in enumerate(exercises or []):
        try:
            data = _only(row, EXERCISE_FIELDS, prefix=f"exercises.{i}")
            if not isinstance(data.get("exercise"), Exercise):
                try:
                    found = Exercise.objects.filter(pk=int(data.get("exercise"))).first()  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    found = None
                if found is None:
                    raise ValidationError({f"exercises.{i}.exercise": "No such exercise in the library."})
                data["exercise"] = found
            item = PlanExercise(plan=plan, position=i, **data)
            _validate(item, prefix=f"exercises.{i}", exclude=["plan"])
            new_exercises.append(item)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    new_precautions: list[Precaution] = []
    for i, row in enumerate(precautions or []):
        try:
            precaution = Precaution(plan=plan, **_only(row, PRECAUTION_FIELDS, prefix=f"precautions.{i}"))
            _validate(precaution, prefix=f"precautions.{i}", exclude=["plan"])
            new_precautions.append(precaution)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    new_flags: list[RedFlag] = []
    for i, text in enumerate(red_flags or []):
        try:
            flag = RedFlag(
                plan=plan,
                description=_clean_text(
                    text, field=f"red_flags.{i}", required=True, max_length=text_limit(RedFlag, "description")
                ),
            )
            new_flags.append(flag)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if exercises is not None:
        _keep_public_ids(plan.exercises.all(), new_exercises, key=lambda row: row.exercise_id)
        plan.exercises.all().delete()
        PlanExercise.objects.bulk_create(new_exercises)
    if precautions is not None:
        _keep_public_ids(plan.precautions.all(), new_precautions, key=lambda row: (row.kind, row.body_region))
        plan.precautions.all().delete()
        Precaution.objects.bulk_create(new_precautions)
    if red_flags is not None:
        _keep_public_ids(plan.red_flags.all(), new_flags, key=lambda row: row.description)
        plan.red_flags.all().delete()
        RedFlag.objects.bulk_create(new_flags)


def _keep_public_ids(old: QuerySet[Any], new: Sequence[Any], *, key: Callable[[Any], object]) -> None:
    """A row the edit keeps keeps its public id (its id in the guidelines snapshot), so a session log and
    a revision can name it across edits: the same library exercise, the same kind of precaution on the
    same region, the same red flag text; the first old row of a key goes to the first new row of it."""
    spare: dict[object, list[uuid.UUID]] = {}
    for row in old.order_by("pk"):
        spare.setdefault(key(row), []).append(row.public_id)
    for row in new:
        ids = spare.get(key(row))
        if ids:
            row.public_id = ids.pop(0)


def plan_create(
    *,
    patient: Patient,
    actor: User,
    diagnosis: str,
    goals: str,
    icd10_code: str = "",
    start_date: datetime.date | None = None,
    exercises: Iterable[Mapping[str, Any]] = (),
    precautions: Iterable[Mapping[str, Any]] = (),
    red_flags: Iterable[str] = (),
) -> TreatmentPlan:
    if not policies.can_edit_patient(actor, patient):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can write their plan.")
    plan = TreatmentPlan(
        patient=patient,
        physiotherapist=actor,
        diagnosis=diagnosis,
        goals=goals,
        icd10_code=(icd10_code or "").strip().upper(),
        start_date=start_date or timezone.localdate(),
    )
    _validate(plan)
    with transaction.atomic():
        plan.save()
        _build_children(plan, list(exercises), list(precautions), list(red_flags))
    return plan


def plan_update(
    *,
    plan: TreatmentPlan,
    actor: User,
    exercises: Iterable[Mapping[str, Any]] | None = None,
    precautions: Iterable[Mapping[str, Any]] | None = None,
    red_flags: Iterable[str] | None = None,
    **fields: Any,
) -> TreatmentPlan:
    """Edit a plan. A handoff already sent keeps its snapshot: what the trainer was sent does not change."""
    data = _only(fields, PLAN_FIELDS, prefix="plan")
    if "icd10_code" in data:
        data["icd10_code"] = (data["icd10_code"] or "").strip().upper()
    with transaction.atomic():
        locked = (
            TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
        )
        if not policies.can_edit_plan(actor, locked):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can edit their plan.")
        for key, value in data.items():
            setattr(locked, key, value)
        changed = [*data.keys()]
        if not _is_active_physio(locked.physiotherapist, locked.patient.clinic_id):
            # Its physiotherapist left the clinic with nobody named to take over: the colleague who edits
            # the plan takes it on (the plan always has a physiotherapist of the patient's clinic).
            locked.physiotherapist = actor
            changed.append("physiotherapist")
        _validate(locked)
        if precautions is None and "start_date" in data:
            _check_precautions_outlast_start(locked)
        locked.save(update_fields=[*changed, "updated_at"])
        _build_children(
            locked,
            None if exercises is None else list(exercises),
            None if precautions is None else list(precautions),
            None if red_flags is None else list(red_flags),
        )
    return locked


def _check_precautions_outlast_start(plan: TreatmentPlan) -> None:
    """A new start date must not come after the end of a precaution the plan keeps."""
    ends = plan.precautions.filter(valid_until__lt=plan.start_date).order_by("valid_until")
    first = ends.values_list("valid_until", flat=True).first()
    if first is not None:
        raise ValidationError(
            {"start_date": f"A precaution of this plan ends on {first:%Y-%m-%d}, before this start date."}
        )


def consent_record(*, patient: Patient, gym: Organization, scope: str, actor: User) -> Consent:
    if not policies.can_record_consent(actor, patient):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can record their consent.")
    if gym.kind != Organization.Kind.GYM:
        raise ValidationError({"gym": "Consent is given for a gym."})
    if not selectors.partner_gyms_for_clinic(clinic=patient.clinic).filter(pk=gym.pk).exists():
        raise ValidationError(
            {"gym": f"{gym.name} is not a partner gym of {patient.clinic.name}: consent is recorded for one."}
        )
    consent = Consent(patient=patient, gym=gym, scope=scope, recorded_by=actor)
    with transaction.atomic():
        if (
            Consent.objects.select_for_update()
            .filter(patient=patient, gym=gym, withdrawn_at__isnull=True)
            .exists()
        ):
            message = f"The patient already has an active consent for {gym}; withdraw it to record a new one."
            raise ValidationError({"gym": message})
        _validate(consent)
        try:
            with transaction.atomic():
                consent.save()
        except IntegrityError as exc:  # a concurrent record for the same gym won the constraint
            message = f"The patient already has an active consent for {gym}; withdraw it to record a new one."
            raise ValidationError({"gym": message}) from exc
    return consent


def consent_withdraw(*, consent: Consent, actor: User, reason: str = "") -> Consent:
    """Withdraw consent and cancel the open handoffs to that gym: the trainer loses the guidelines."""
    reason = _clean_text(
        reason, field="reason", required=False, max_length=text_limit(Consent, "withdrawal_reason")
    )
    with transaction.atomic():
        locked = (
            Consent.objects.select_for_update(of=("self",))
            .select_related("patient", "gym")
            .get(pk=consent.pk)
        )
        if not policies.can_record_consent(actor, locked.patient):
            raise NotPermitted("Only a physiotherapist of this patient's clinic can withdraw their consent.")
        if locked.withdrawn_at is not None:
            raise DomainError("This consent was already withdrawn.", code="consent_withdrawn")
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.withdrawal_reason = reason
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        # Locked and filtered in one statement: a handoff the trainer closed a moment ago is not reopened
        # to be cancelled, and none can be answered while the withdrawal runs.
        open_handoffs = (
            TrainerHandoff.objects.select_for_update(of=("self",))
            .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
            .filter(plan__patient=locked.patient, gym=locked.gym, status__in=OPEN_STATUSES)
            .order_by("pk")
        )
        for handoff in open_handoffs:
            _transition(
                handoff=handoff,
                to=S.CANCELLED,
                actor=actor,
                reason="The patient withdrew their consent to share with this gym.",
            )
    return locked


# --- handoffs ------------------------------------------------------------------------------------------


def _snapshot(plan: TreatmentPlan, consent: Consent, *, sent_at: datetime.datetime) -> dict[str, Any]:
    """What the trainer is sent, frozen: later edits to the plan do not change it. Built by the selector
    the clinic's "review before send" page uses too, so the preview and the snapshot cannot drift."""
    return selectors.guidelines_snapshot(plan=plan, consent=consent, sent_at=sent_at)


def handoff_create(*, plan: TreatmentPlan, trainer: User, gym: Organization, actor: User) -> TrainerHandoff:
    """A draft offer of the plan to a trainer. The plan may have only one open handoff at a time."""
    if not policies.can_discharge(actor, plan):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can refer them.")
    clinic = plan.patient.clinic
    _raise_organization_blockers(
        selectors.handoff_organization_blockers(clinic=clinic, trainer=trainer, gym=gym)
    )
    with transaction.atomic():
        locked_plan = TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
        existing = selectors.open_handoff_for_plan(plan=plan)
        _check_plan_can_be_offered(locked_plan, open_status=None if existing is None else existing.status)
        handoff = TrainerHandoff(
            plan=plan, clinic_id=plan.patient.clinic_id, trainer=trainer, gym=gym, created_by=actor
        )
        with transaction.atomic():
            _insert_handoff(handoff)
        _record_event(handoff=handoff, actor=actor, kind=HandoffEvent.Kind.TRANSITION, to_status=S.DRAFT)
    return handoff


def _raise_organization_blockers(blockers: list[Blocker]) -> None:
    """handoff_create's refusal: the organization blockers as a ValidationError, by field."""
    if blockers:
        errors: dict[str, list[str]] = {}
        for blocker in blockers:
            field = "gym" if blocker.code == "no_active_partnership" else "trainer"
            errors.setdefault(field, []).append(blocker.message)
        raise ValidationError(errors)


def _check_plan_can_be_offered(locked_plan: TreatmentPlan, *, open_status: str | None) -> None:
    """Not a completed plan, nor one with an open referral (`open_status`: that referral's status)."""
    if locked_plan.status == TreatmentPlan.Status.COMPLETED:
        raise InvalidTransition(
            "This plan is completed: it cannot be sent again. A new episode of care is a new plan.",
            current_status=S.COMPLETED,
            code="plan_completed",
        )
    if open_status is not None:
        raise InvalidTransition(
            "This plan already has an open referral; cancel it before offering the plan to someone else.",
            current_status=open_status,
            code="plan_has_open_handoff",
        )


def _insert_handoff(handoff: TrainerHandoff) -> None:
    try:
        handoff.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create won the one-open-handoff constraint
        raise InvalidTransition(
            "This plan already has an open referral.",
            current_status=S.DRAFT,
            code="plan_has_open_handoff",
        ) from exc


def handoff_send(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """draft -> requested: check every precondition, freeze the guidelines, discharge the plan."""
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        if not policies.can_act(actor, locked, registry.ACTIONS["send"].side):
            raise NotPermitted("Only the referring clinic can send a referral.")
        if locked.status != S.DRAFT:
            raise InvalidTransition(
                f"Only a draft can be sent; this referral is {S(locked.status).label.lower()}.",
                current_status=locked.status,
            )
        # Serialize sends to one trainer, so two sends cannot both take the last free place.
        TrainerProfile.objects.select_for_update().filter(user=locked.trainer).first()
        plan = (
            TreatmentPlan.objects.select_for_update(of=("self",))
            .select_related("patient__clinic", "physiotherapist")
            .get(pk=locked.plan_id)
        )
        blockers = selectors.handoff_send_blockers(
            plan=plan, trainer=locked.trainer, gym=locked.gym, exclude_handoff_id=locked.pk
        )
        if blockers:
            raise SendBlocked(blockers)
        consent = selectors.active_consent(patient=plan.patient, gym_id=locked.gym_id)
        assert consent is not None  # noqa: S101 - handoff_send_blockers checked it under the lock
        now = timezone.now()
        locked.consent = consent
        locked.snapshot = _snapshot(plan, consent, sent_at=now)
        locked.sent_at = now
        locked.save(update_fields=["consent", "snapshot", "sent_at", "updated_at"])
        _transition(handoff=locked, to=S.REQUESTED, actor=actor)  # the plan follows: discharged
    return locked


def plan_discharge(*, plan: TreatmentPlan, trainer: User, gym: Organization, actor: User) -> TrainerHandoff:
    """Discharge the patient to a trainer: create the handoff and send it, all or nothing.

    What `handoff_create` then `handoff_send` do, with the same checks in the same order, the same errors
    and the same rows (the handoff, its draft and requested events, the trainer's notification and
    email), in one transaction that reads each fact once: 11 queries where the two in turn made 35
    (tests/test_query_counts.py; tests/test_services.py compares the two paths). The draft is inserted
    already sent: nobody can see it before the commit, so it needs no lock of its own. The trainer is
    locked first, with the organization facts and the caseload on the same row (handoff_send's order:
    trainer, then plan), then the plan, with its referrals' facts."""
    if not policies.can_discharge(actor, plan):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can refer them.")
    clinic = plan.patient.clinic
    today = timezone.localdate()
    with transaction.atomic():
        # Serialize sends to one trainer (handoff_send), reading what the checks need of them with the lock.
        profile = (
            TrainerProfile.objects.select_for_update(of=("self",))
            .filter(user=trainer)
            .annotate(**selectors.trainer_send_columns(clinic=clinic, gym=gym, today=today))
            .first()
        )
        if profile is not None:
            at_gym, partnered = (
                bool(getattr(profile, "send_at_gym", False)),
                bool(getattr(profile, "send_partnered", False)),
            )
        else:  # no profile (the send refuses it below): the two facts on their own
            at_gym, partnered = selectors.handoff_organization_facts(clinic=clinic, trainer=trainer, gym=gym)
        _raise_organization_blockers(  # handoff_create's check
            selectors.handoff_organization_blockers_from(
                clinic=clinic, trainer=trainer, gym=gym, at_gym=at_gym, partnered=partnered
            )
        )
        locked_plan = (
            TreatmentPlan.objects.select_for_update(of=("self",))
            .select_related("patient__clinic", "physiotherapist")
            .annotate(**selectors.plan_referral_columns())
            .get(pk=plan.pk)
        )
        _check_plan_can_be_offered(locked_plan, open_status=getattr(locked_plan, "open_handoff_status", None))
        handoff = TrainerHandoff(
            plan=locked_plan, clinic_id=clinic.pk, trainer=trainer, gym=gym, created_by=actor
        )
        # handoff_send's checks, on the draft about to be inserted
        if not policies.can_act(actor, handoff, registry.ACTIONS["send"].side):
            raise NotPermitted("Only the referring clinic can send a referral.")
        consent = selectors.active_consent(patient=locked_plan.patient, gym_id=gym.pk)
        now = timezone.now()
        snapshot = None if consent is None else _snapshot(locked_plan, consent, sent_at=now)
        blockers = selectors.handoff_send_blockers_from(
            clinic=clinic,
            trainer=trainer,
            gym=gym,
            at_gym=at_gym,
            partnered=partnered,
            consented=consent is not None,
            has_exercises=bool(snapshot["exercises"]) if snapshot else locked_plan.exercises.exists(),
            profile=profile,
            caseload=0 if profile is None else int(getattr(profile, "send_caseload", 0)),
            today=today,
        )
        if blockers:
            raise SendBlocked(blockers)
        assert consent is not None and snapshot is not None  # noqa: S101 - the blockers checked them
        handoff.status, handoff.consent, handoff.snapshot, handoff.sent_at = (
            S.REQUESTED,
            consent,
            snapshot,
            now,
        )
        _check_actor(handoff=handoff, to=S.REQUESTED, actor=actor)
        _insert_handoff(handoff)
        _, requested = HandoffEvent.objects.bulk_create(  # _record_event's two rows, in one insert
            [
                HandoffEvent(
                    handoff=handoff, kind=HandoffEvent.Kind.TRANSITION, actor=actor, to_status=S.DRAFT
                ),
                HandoffEvent(
                    handoff=handoff,
                    kind=HandoffEvent.Kind.TRANSITION,
                    actor=actor,
                    from_status=S.DRAFT,
                    to_status=S.REQUESTED,
                ),
            ]
        )
        # the plan follows its referrals (plan_status_from_referrals): those sent before, and this one
        completed = bool(getattr(locked_plan, "any_completed", False))
        status = TreatmentPlan.Status.COMPLETED if completed else TreatmentPlan.Status.DISCHARGED
        discharged_at = min(getattr(locked_plan, "first_sent_at", None) or now, now)
        if (locked_plan.status, locked_plan.discharged_at) != (status, discharged_at):
            locked_plan.status, locked_plan.discharged_at = status, discharged_at
            locked_plan.save(update_fields=["status", "discharged_at", "updated_at"])
        # _recipients of a new referral: the trainer, an active trainer at the gym (checked above, locked)
        _notify(handoff, requested, recipients=[trainer] if trainer.pk != actor.pk else [])
    return handoff


def _take(action: HandoffAction, *, handoff: TrainerHandoff, actor: User, text: str = "") -> TrainerHandoff:
    """The one move of an action that only moves the status, driven by its registry entry: its sources,
    its eligibility re-check (the step's name in the refusal), its text as the reason or summary."""
    return _move(
        handoff=handoff,
        actor=actor,
        to=action.to,
        reason=text,
        only_from=action.sources,
        recheck=action.name if action.rechecked else "",
    )


def _mover(action: HandoffAction) -> Callable[..., TrainerHandoff]:
    """The service of an action that has no `handoff_<name>` function: the generic move, taking the
    action's text by its keyword (`reason` or `summary`) when it takes one."""

    def move(*, handoff: TrainerHandoff, actor: User, **text: str) -> TrainerHandoff:
        unexpected = set(text) - ({action.text_arg} if action.text_arg else set())
        if unexpected:
            raise TypeError(f"handoff_{action.name}() got unexpected keywords: {sorted(unexpected)}")
        return _take(action, handoff=handoff, actor=actor, text=text.get(action.text_arg or "", ""))

    move.__name__ = move.__qualname__ = f"handoff_{action.name}"
    return move


def handoff_accept(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """requested -> accepted, if the referral is still eligible (else NoLongerEligible, the PT told)."""
    return _take(registry.ACTIONS["accept"], handoff=handoff, actor=actor)


def handoff_reject(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(registry.ACTIONS["reject"], handoff=handoff, actor=actor, text=reason)


def handoff_start(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """accepted -> in-progress: the first session took place."""
    return _take(registry.ACTIONS["start"], handoff=handoff, actor=actor)


def handoff_hold(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(registry.ACTIONS["hold"], handoff=handoff, actor=actor, text=reason)


def handoff_resume(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """on-hold -> in-progress."""
    return _take(registry.ACTIONS["resume"], handoff=handoff, actor=actor)


def handoff_complete(*, handoff: TrainerHandoff, actor: User, summary: str = "") -> TrainerHandoff:
    return _take(registry.ACTIONS["complete"], handoff=handoff, actor=actor, text=summary)


def handoff_fail(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(registry.ACTIONS["fail"], handoff=handoff, actor=actor, text=reason)


def handoff_cancel(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _take(registry.ACTIONS["cancel"], handoff=handoff, actor=actor, text=reason)


def handoff_enter_in_error(*, handoff: TrainerHandoff, actor: User, reason: str = "") -> TrainerHandoff:
    return _take(registry.ACTIONS["enter_in_error"], handoff=handoff, actor=actor, text=reason)


def handoff_raise_concern(
    *, handoff: TrainerHandoff, actor: User, text: str, hold: bool = False
) -> HandoffEvent:
    """The trainer saw a red flag, pain, or has a question: the PT is told, urgently. With `hold`, the
    handoff is also put on hold (from in progress) with the concern as its reason: two events on the
    timeline, one notification and one email per person (the concern's, which says it was put on hold)."""
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        if not policies.can_raise_concern(actor, locked):
            raise NotPermitted("Only the trainer the referral was sent to can raise a concern on it.")
        text = _clean_text(text, field="text", required=True, max_length=CONCERN_MAX_LENGTH)
        if locked.status not in OPEN_STATUSES or locked.status == S.DRAFT:
            raise InvalidTransition(
                "A concern can be raised only on an open referral.", current_status=locked.status
            )
        if hold and locked.status != S.IN_PROGRESS:
            raise InvalidTransition(
                "Only a referral in progress can be put on hold.", current_status=locked.status
            )
        event = _record_event(
            handoff=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN, text=text, urgent=True, notify=False
        )
        Concern.objects.create(handoff=locked, event=event, put_on_hold=hold)
        if hold:
            _transition(
                handoff=locked, to=S.ON_HOLD, actor=actor, reason=text[:REASON_MAX_LENGTH], notify=False
            )
        _notify(locked, event)
    return event


def _locked_concern(concern: Concern) -> Concern:
    return (
        Concern.objects.select_for_update(of=("self",))
        .select_related(
            "event__actor",
            "handoff__plan__patient__clinic",
            "handoff__plan__physiotherapist",
            "handoff__trainer",
            "handoff__gym",
            "handoff__created_by",
        )
        .get(pk=concern.pk)
    )


def _concern_answered(*, concern: Concern, actor: User, kind: str, text: str = "") -> None:
    """Append the answer's event: the trainer who raised the concern is told while still the referral's
    active trainer at its gym (`_recipients`)."""
    _record_event(handoff=concern.handoff, actor=actor, kind=kind, text=text, regarding=concern)


def concern_acknowledge(*, concern: Concern, actor: User) -> Concern:
    """A physiotherapist of the clinic has seen the concern. Idempotent: acknowledging an acknowledged
    concern changes nothing and tells nobody again; a resolved one is closed (ConcernAlreadyResolved)."""
    with transaction.atomic():
        locked = _locked_concern(concern)
        if not policies.can_answer_concern(actor, locked.handoff):
            raise NotPermitted("Only a physiotherapist of the referring clinic can acknowledge a concern.")
        if locked.resolved_at is not None:
            raise ConcernAlreadyResolved("This concern was resolved already.")
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _concern_answered(concern=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN_ACKNOWLEDGED)
    return locked


def concern_resolve(*, concern: Concern, actor: User, note: str) -> Concern:
    """A physiotherapist of the clinic closes the concern with a note (what was done, what to do). A concern
    not yet acknowledged is acknowledged by the same act. Resolving twice is refused (ConcernAlreadyResolved):
    the first note stands."""
    note = _clean_text(note, field="note", required=True, max_length=CONCERN_NOTE_MAX_LENGTH)
    with transaction.atomic():
        locked = _locked_concern(concern)
        if not policies.can_answer_concern(actor, locked.handoff):
            raise NotPermitted("Only a physiotherapist of the referring clinic can resolve a concern.")
        if locked.resolved_at is not None:
            raise ConcernAlreadyResolved("This concern was resolved already.")
        now = timezone.now()
        fields = ["resolved_at", "resolved_by", "resolution_note"]
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by = now, actor
            fields += ["acknowledged_at", "acknowledged_by"]
        locked.resolved_at, locked.resolved_by, locked.resolution_note = now, actor, note
        locked.save(update_fields=fields)
        _concern_answered(concern=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN_RESOLVED, text=note)
    return locked


def action_services(actions: Iterable[HandoffAction]) -> dict[str, Callable[..., TrainerHandoff]]:
    """The service of each action: its `handoff_<name>` function here (send, which does more than move;
    the others kept by name for their callers), else the generic move of its registry entry."""
    here = globals()
    return {a.name: here.get(f"handoff_{a.name}") or _mover(a) for a in actions}


# Service per action name, from the registry, for adapters that dispatch on the action (pages, API).
HANDOFF_ACTIONS = action_services(registry.ACTIONS.values())


# --- organizations change ------------------------------------------------------------------------------
# Called by the Django admin (accounts/admin.py). Each says what happens to the open referrals it touches
# and tells the people concerned through the events, in the same transaction as the change.
# History: a membership that ends is deleted (the scope, the admin and every role check read memberships
# as they are now; an `ended_at` column would have to be filtered by every one of them). What happened is
# in the referrals' events, whose reason names it; a partnership is kept, inactive.


def _locked_open_handoffs(**filters: Any) -> list[TrainerHandoff]:
    return list(
        TrainerHandoff.objects.select_for_update(of=("self",))
        .select_related("plan__patient__clinic", "plan__physiotherapist", "trainer", "gym", "created_by")
        .filter(status__in=OPEN_STATUSES, **filters)
        .order_by("pk")
    )


def _cancel_all(handoffs: Iterable[TrainerHandoff], *, actor: User, reason: str) -> list[TrainerHandoff]:
    """Cancel each (a draft silently: its trainer never saw it), told as `_recipients` says."""
    cancelled = []
    for handoff in handoffs:
        _transition(handoff=handoff, to=S.CANCELLED, actor=actor, reason=reason, on_behalf=True)
        cancelled.append(handoff)
    return cancelled


def partnership_end(*, partnership: Partnership, actor: User) -> list[TrainerHandoff]:
    """The clinic no longer refers to the gym: the partnership is inactive and every open referral of the
    clinic to that gym is cancelled, naming why. Returns the cancelled referrals. Idempotent."""
    if not (
        policies.can_manage_organization(actor, partnership.clinic_id)
        or policies.can_manage_organization(actor, partnership.gym_id)
    ):
        raise NotPermitted("Only an admin of the clinic or of the gym can end their partnership.")
    with transaction.atomic():
        locked = (
            Partnership.objects.select_for_update().select_related("clinic", "gym").get(pk=partnership.pk)
        )
        if locked.active:
            locked.active = False
            locked.save(update_fields=["active"])
        reason = f"The partnership between {locked.clinic} and {locked.gym} ended."
        cancelled = _cancel_all(
            _locked_open_handoffs(clinic_id=locked.clinic_id, gym_id=locked.gym_id),
            actor=actor,
            reason=reason,
        )
    partnership.active = False
    return cancelled


def trainer_remove_from_gym(*, membership: Membership, actor: User) -> list[TrainerHandoff]:
    """The trainer no longer works at the gym: the membership goes, the trainer's open referrals at that gym
    are cancelled (the clinic is told; the trainer can no longer open them), and that gym's clients no
    longer count toward the trainer's capacity. Returns the cancelled referrals."""
    if membership.role != Membership.Role.TRAINER:
        raise ValidationError({"role": "This membership is not a trainer's."})
    if not policies.can_manage_organization(actor, membership.organization_id):
        raise NotPermitted("Only an admin of the gym can remove one of its trainers.")
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=membership.pk)
        )
        trainer, gym = locked.user, locked.organization
        locked.delete()
        reason = f"{trainer} is no longer a trainer at {gym}."
        return _cancel_all(_locked_open_handoffs(trainer=trainer, gym=gym), actor=actor, reason=reason)


def physio_leave_clinic(
    *, membership: Membership, actor: User, colleague: User | None = None
) -> list[TrainerHandoff]:
    """A physiotherapist leaves a clinic: the membership goes; their plans there that are not completed are
    handed to `colleague` (an active physiotherapist of the same clinic), and every open referral they
    treat or created there records the handover, which tells the colleague (or, without one, the clinic's
    other physiotherapists) and the trainer. Returns the referrals handed over."""
    if membership.role != Membership.Role.PHYSIOTHERAPIST:
        raise ValidationError({"role": "This membership is not a physiotherapist's."})
    if not policies.can_manage_organization(actor, membership.organization_id):
        raise NotPermitted("Only an admin of the clinic can remove one of its physiotherapists.")
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=membership.pk)
        )
        physio, clinic = locked.user, locked.organization
        if colleague is not None and (
            colleague.pk == physio.pk or not _is_active_physio(colleague, clinic.pk)
        ):
            raise ValidationError({"colleague": f"Choose another active physiotherapist of {clinic}."})
        locked.delete()
        policies.forget_roles(physio)
        return _hand_over(
            physio=physio, clinic=clinic, actor=actor, colleague=colleague, why=f"left {clinic}"
        )


def _hand_over(
    *, physio: User, clinic: Organization, actor: User, colleague: User | None, why: str
) -> list[TrainerHandoff]:
    """Hand `physio`'s plans at `clinic` to `colleague` and record it on their open referrals."""
    if colleague is not None:
        TreatmentPlan.objects.filter(patient__clinic=clinic, physiotherapist=physio).exclude(
            status=TreatmentPlan.Status.COMPLETED
        ).update(physiotherapist=colleague, updated_at=timezone.now())
        text = f"{physio} {why}; {colleague} now looks after this referral."
    else:
        text = f"{physio} {why}; no colleague was named, so the clinic's physiotherapists are told."
    handed = _locked_open_handoffs(clinic_id=clinic.pk)
    handed = [h for h in handed if physio.pk in (h.created_by_id, h.plan.physiotherapist_id)]
    for handoff in handed:
        if colleague is not None and handoff.plan.physiotherapist_id == physio.pk:
            handoff.plan.physiotherapist = colleague
        _record_event(
            handoff=handoff,
            actor=actor,
            kind=HandoffEvent.Kind.HANDOVER,
            from_status=handoff.status,
            text=text,
        )
    return handed


def membership_end(*, membership: Membership, actor: User, colleague: User | None = None) -> None:
    """Remove a membership, with what its role's service does to the referrals it touches (the admin's
    delete of a membership)."""
    if membership.role == Membership.Role.TRAINER:
        trainer_remove_from_gym(membership=membership, actor=actor)
    elif membership.role == Membership.Role.PHYSIOTHERAPIST:
        physio_leave_clinic(membership=membership, actor=actor, colleague=colleague)
    else:
        if not policies.can_manage_organization(actor, membership.organization_id):
            raise NotPermitted("Only an admin of the organization can remove one of its members.")
        with transaction.atomic():
            Membership.objects.filter(pk=membership.pk).delete()


def user_deactivate(*, user: User, actor: User) -> list[TrainerHandoff]:
    """The user can no longer log in or be told anything. As a trainer, their open referrals are cancelled
    (the clinics are told); as a physiotherapist, their open referrals record the handover to the clinic's
    other physiotherapists, who are told from now on. Returns the referrals touched. Idempotent."""
    if not policies.can_deactivate_user(actor, user):
        raise NotPermitted("You cannot deactivate this user.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
        user.is_active = False
        touched = _cancel_all(
            _locked_open_handoffs(trainer=locked), actor=actor, reason=f"{locked} was deactivated."
        )
        clinic_ids = Membership.objects.filter(user=locked, role=Membership.Role.PHYSIOTHERAPIST).values_list(
            "organization_id", flat=True
        )
        for clinic in Organization.objects.filter(pk__in=list(clinic_ids)).order_by("pk"):
            touched += _hand_over(
                physio=locked, clinic=clinic, actor=actor, colleague=None, why="was deactivated"
            )
    return touched


# --- notifications, credentials ------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor: User) -> Notification:
    if notification.recipient_id != actor.pk:
        raise NotPermitted("This notification is not yours.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def outbox_resend(*, message: OutboxMessage, actor: User) -> OutboxMessage:
    """Admin: owe the message again (after a failure, or on request) and publish it after commit."""
    if not policies.can_resend_notification(actor):
        raise NotPermitted("Only staff can re-send a notification.")
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status == OutboxMessage.Status.IN_FLIGHT:
            raise InvalidTransition("This message is being sent right now.", current_status=locked.status)
        locked.status = OutboxMessage.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.claim_token = None
        locked.lease_until = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "claim_token", "lease_until"])
        message_id = locked.pk
        transaction.on_commit(lambda: tasks.publish_deliveries([message_id]))
    return locked


def certification_verify(*, certification: Certification, actor: User) -> Certification:
    if not policies.can_verify_certification(actor):
        raise NotPermitted("Only staff can verify a certification.")
    with transaction.atomic():
        locked = Certification.objects.select_for_update().get(pk=certification.pk)
        if not locked.verified:
            locked.verified = True
            locked.verified_by = actor
            locked.verified_at = timezone.now()
            locked.save(update_fields=["verified", "verified_by", "verified_at"])
    return locked
