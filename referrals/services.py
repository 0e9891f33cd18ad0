"""Every write of the referral domain: one function per business action.

Each action runs in one transaction, re-reads and locks the row it changes, checks the policy, changes
state, appends an event and writes the notifications it owes beside it. Celery is told after commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Certification, Membership, Organization, TrainerProfile, User
from referrals import notifications, policies, selectors, tasks
from referrals.errors import DomainError, InvalidTransition, NotPermitted, SendBlocked
from referrals.models import (
    OPEN_STATUSES,
    REASON_REQUIRED_STATUSES,
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
)

S = HandoffStatus
Side = Literal["clinic", "trainer"]

# The one transition table: target status -> (who sets it, the statuses it may be reached from).
TRANSITIONS: dict[str, tuple[Side, frozenset[str]]] = {
    S.REQUESTED: ("clinic", frozenset({S.DRAFT})),
    S.ACCEPTED: ("trainer", frozenset({S.REQUESTED})),
    S.REJECTED: ("trainer", frozenset({S.REQUESTED})),
    S.IN_PROGRESS: ("trainer", frozenset({S.ACCEPTED, S.ON_HOLD})),
    S.ON_HOLD: ("trainer", frozenset({S.IN_PROGRESS})),
    S.COMPLETED: ("trainer", frozenset({S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})),
    S.FAILED: ("trainer", frozenset({S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})),
    S.CANCELLED: ("clinic", frozenset(OPEN_STATUSES)),
    S.ENTERED_IN_ERROR: ("clinic", frozenset(OPEN_STATUSES)),
}
REASON_MAX_LENGTH = 1000
TEXT_MAX_LENGTH = 4000


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
    """Who is told: the trainer of a new, cancelled or withdrawn referral; the clinic of everything else."""
    transition = event.kind == HandoffEvent.Kind.TRANSITION
    if transition and event.to_status == S.DRAFT:
        people = []
    elif transition and event.to_status == S.REQUESTED:
        people = [handoff.trainer]
    elif transition and event.to_status in (S.CANCELLED, S.ENTERED_IN_ERROR):
        # A draft was never seen by the trainer: cancelling it tells nobody.
        people = [handoff.trainer] if event.from_status != S.DRAFT else []
    else:
        people = [handoff.plan.physiotherapist, handoff.created_by]
    chosen = _active_others(people, event)
    if not chosen and people:
        # The treating PT left or was deactivated: the clinic's other physiotherapists hear of it, so
        # a concern or an answer never reaches nobody.
        clinic_physios = User.objects.filter(
            is_active=True,
            memberships__organization_id=handoff.plan.patient.clinic_id,
            memberships__role=Membership.Role.PHYSIOTHERAPIST,
        ).order_by("pk")
        chosen = _active_others(list(clinic_physios), event)
    return chosen


def _active_others(people: Sequence[User], event: HandoffEvent) -> list[User]:
    unique: dict[int, User] = {}
    for person in people:
        if person.pk != event.actor_id and person.is_active:
            unique.setdefault(person.pk, person)
    return list(unique.values())


def _record_event(
    *,
    handoff: TrainerHandoff,
    actor: User,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    urgent: bool = False,
) -> HandoffEvent:
    """Append the audit row and, in the same transaction, the notifications it causes."""
    event = HandoffEvent.objects.create(
        handoff=handoff,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        text=text,
        urgent=urgent,
    )
    recipients = _recipients(handoff, event)
    if recipients:
        title = notifications.notification_title(event)
        Notification.objects.bulk_create(
            [Notification(recipient=r, event=event, title=title, urgent=urgent) for r in recipients]
        )
        messages = OutboxMessage.objects.bulk_create(
            [OutboxMessage(event=event, recipient=r, channel=OutboxMessage.Channel.EMAIL) for r in recipients]
        )
        ids = [m.pk for m in messages]
        transaction.on_commit(lambda: tasks.publish_deliveries(ids))
    return event


def _transition(
    *,
    handoff: TrainerHandoff,
    to: str,
    actor: User,
    reason: str = "",
    only_from: frozenset[str] | None = None,
) -> HandoffEvent:
    """Check the move against TRANSITIONS and the actor against the side that sets it; apply it.

    `handoff` must be the row locked by the caller's transaction. `only_from` narrows the legal sources
    for actions that share a target status (start and resume both lead to in-progress).
    """
    side, sources = TRANSITIONS[to]
    if only_from is not None:
        sources = sources & only_from
    allowed = (
        policies.can_act_for_clinic(actor, handoff)
        if side == "clinic"
        else policies.can_act_for_trainer(actor, handoff)
    )
    if not allowed:
        who = "the referring clinic" if side == "clinic" else "the trainer the referral was sent to"
        raise NotPermitted(f"Only {who} can set a referral to {S(to).label.lower()}.")
    current = handoff.status
    if current not in sources:
        raise InvalidTransition(
            f"A referral that is {S(current).label.lower()} cannot become {S(to).label.lower()}.",
            current_status=current,
        )
    reason = _clean_text(
        reason, field="reason", required=to in REASON_REQUIRED_STATUSES, max_length=REASON_MAX_LENGTH
    )
    handoff.status = to
    handoff.status_reason = reason if to in REASON_REQUIRED_STATUSES else ""
    handoff.save(update_fields=["status", "status_reason", "updated_at"])
    return _record_event(
        handoff=handoff,
        actor=actor,
        kind=HandoffEvent.Kind.TRANSITION,
        from_status=current,
        to_status=to,
        text=reason,
    )


def _move(
    *,
    handoff: TrainerHandoff,
    actor: User,
    to: str,
    reason: str = "",
    only_from: frozenset[str] | None = None,
) -> TrainerHandoff:
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        _transition(handoff=locked, to=to, actor=actor, reason=reason, only_from=only_from)
    return locked


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


def patient_create(
    *,
    clinic: Organization,
    actor: User,
    full_name: str,
    date_of_birth: datetime.date,
    email: str = "",
    phone: str = "",
) -> Patient:
    if not policies.can_create_patient(actor, clinic.pk):
        raise NotPermitted("Only a physiotherapist of this clinic can add its patients.")
    patient = Patient(
        clinic=clinic,
        created_by=actor,
        full_name=full_name,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
    _validate(patient)
    with transaction.atomic():
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


def _build_children(
    plan: TreatmentPlan,
    exercises: Iterable[Mapping[str, Any]] | None,
    precautions: Iterable[Mapping[str, Any]] | None,
    red_flags: Iterable[str] | None,
) -> None:
    """Validate every child row first, then replace the plan's rows: all or nothing."""
    errors: dict[str, Any] = {}
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
                description=_clean_text(text, field=f"red_flags.{i}", required=True, max_length=500),
            )
            new_flags.append(flag)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if exercises is not None:
        plan.exercises.all().delete()
        PlanExercise.objects.bulk_create(new_exercises)
    if precautions is not None:
        plan.precautions.all().delete()
        Precaution.objects.bulk_create(new_precautions)
    if red_flags is not None:
        plan.red_flags.all().delete()
        RedFlag.objects.bulk_create(new_flags)


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
        _validate(locked)
        locked.save(update_fields=[*data.keys(), "updated_at"])
        _build_children(
            locked,
            None if exercises is None else list(exercises),
            None if precautions is None else list(precautions),
            None if red_flags is None else list(red_flags),
        )
    return locked


def consent_record(*, patient: Patient, gym: Organization, scope: str, actor: User) -> Consent:
    if not policies.can_record_consent(actor, patient):
        raise NotPermitted("Only a physiotherapist of this patient's clinic can record their consent.")
    if gym.kind != Organization.Kind.GYM:
        raise ValidationError({"gym": "Consent is given for a gym."})
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
    reason = _clean_text(reason, field="reason", required=False, max_length=500)
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
    if not Membership.objects.filter(user=trainer, organization=gym, role=Membership.Role.TRAINER).exists():
        raise ValidationError({"trainer": f"{trainer} is not a trainer at {gym}."})
    with transaction.atomic():
        TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
        existing = selectors.open_handoff_for_plan(plan=plan)
        if existing is not None:
            raise InvalidTransition(
                "This plan already has an open referral; cancel it before offering the plan to someone else.",
                current_status=existing.status,
                code="plan_has_open_handoff",
            )
        try:
            with transaction.atomic():
                handoff = TrainerHandoff.objects.create(
                    plan=plan, clinic_id=plan.patient.clinic_id, trainer=trainer, gym=gym, created_by=actor
                )
        except IntegrityError as exc:  # a concurrent create won the one-open-handoff constraint
            raise InvalidTransition(
                "This plan already has an open referral.",
                current_status=S.DRAFT,
                code="plan_has_open_handoff",
            ) from exc
        _record_event(handoff=handoff, actor=actor, kind=HandoffEvent.Kind.TRANSITION, to_status=S.DRAFT)
    return handoff


def handoff_send(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """draft -> requested: check every precondition, freeze the guidelines, discharge the plan."""
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        if not policies.can_act_for_clinic(actor, locked):
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
        if plan.status == TreatmentPlan.Status.ACTIVE:
            plan.status = TreatmentPlan.Status.DISCHARGED
            plan.discharged_at = now
            plan.save(update_fields=["status", "discharged_at", "updated_at"])
        _transition(handoff=locked, to=S.REQUESTED, actor=actor)
    return locked


def plan_discharge(*, plan: TreatmentPlan, trainer: User, gym: Organization, actor: User) -> TrainerHandoff:
    """Discharge the patient to a trainer: create the handoff and send it, all or nothing."""
    with transaction.atomic():
        handoff = handoff_create(plan=plan, trainer=trainer, gym=gym, actor=actor)
        return handoff_send(handoff=handoff, actor=actor)


def handoff_accept(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.ACCEPTED)


def handoff_reject(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.REJECTED, reason=reason)


def handoff_start(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """accepted -> in-progress: the first session took place."""
    return _move(handoff=handoff, actor=actor, to=S.IN_PROGRESS, only_from=frozenset({S.ACCEPTED}))


def handoff_hold(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.ON_HOLD, reason=reason)


def handoff_resume(*, handoff: TrainerHandoff, actor: User) -> TrainerHandoff:
    """on-hold -> in-progress."""
    return _move(handoff=handoff, actor=actor, to=S.IN_PROGRESS, only_from=frozenset({S.ON_HOLD}))


def handoff_complete(*, handoff: TrainerHandoff, actor: User, summary: str = "") -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.COMPLETED, reason=summary)


def handoff_fail(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.FAILED, reason=reason)


def handoff_cancel(*, handoff: TrainerHandoff, actor: User, reason: str) -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.CANCELLED, reason=reason)


def handoff_enter_in_error(*, handoff: TrainerHandoff, actor: User, reason: str = "") -> TrainerHandoff:
    return _move(handoff=handoff, actor=actor, to=S.ENTERED_IN_ERROR, reason=reason)


def handoff_raise_concern(
    *, handoff: TrainerHandoff, actor: User, text: str, hold: bool = False
) -> HandoffEvent:
    """The trainer saw a red flag, pain, or has a question: the PT is told, urgently. With `hold`, the
    handoff is also put on hold (from in progress) with the concern as its reason."""
    with transaction.atomic():
        locked = _locked_handoff(handoff)
        if not policies.can_raise_concern(actor, locked):
            raise NotPermitted("Only the trainer the referral was sent to can raise a concern on it.")
        text = _clean_text(text, field="text", required=True, max_length=TEXT_MAX_LENGTH)
        if locked.status not in OPEN_STATUSES or locked.status == S.DRAFT:
            raise InvalidTransition(
                "A concern can be raised only on an open referral.", current_status=locked.status
            )
        if hold and locked.status != S.IN_PROGRESS:
            raise InvalidTransition(
                "Only a referral in progress can be put on hold.", current_status=locked.status
            )
        event = _record_event(
            handoff=locked, actor=actor, kind=HandoffEvent.Kind.CONCERN, text=text, urgent=True
        )
        if hold:
            _transition(handoff=locked, to=S.ON_HOLD, actor=actor, reason=text[:REASON_MAX_LENGTH])
    return event


# Service per action name, for adapters that dispatch on the action (API, admin).
HANDOFF_ACTIONS = {
    "send": handoff_send,
    "accept": handoff_accept,
    "reject": handoff_reject,
    "start": handoff_start,
    "hold": handoff_hold,
    "resume": handoff_resume,
    "complete": handoff_complete,
    "fail": handoff_fail,
    "cancel": handoff_cancel,
    "enter_in_error": handoff_enter_in_error,
}


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
