"""The write path: legal and illegal transitions, send preconditions, snapshot, the one-open constraint."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Partnership
from referrals.care import services as care_services
from referrals.care.models import Consent, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.errors import DomainError, InvalidTransition, NotPermitted, SendBlocked
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.progress.policies import REPORTABLE_STATUSES
from tests import factories as f
from tests.conftest import World
from tests.progress.factories_reports import submit_final_report

S = HandoffStatus
pytestmark = pytest.mark.django_db


def walk(world: World, handoff: TrainerHandoff, *steps: str) -> TrainerHandoff:
    """Drive a handoff through the named actions as the right actor."""
    for step in steps:
        actor = world.physio if step in ("cancel", "enter_in_error", "send") else world.trainer
        kwargs: dict[str, Any] = {}
        if step in ("reject", "hold", "fail", "cancel"):
            kwargs["reason"] = f"reason for {step}"
        if step == "complete" and handoff.status in REPORTABLE_STATUSES:
            submit_final_report(handoff, world.trainer)  # completing needs the final progress report
        handoff = handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=actor, **kwargs)
    return handoff


# --- legal transitions ---------------------------------------------------------------------------------

LEGAL_PATHS = [
    (("send",), S.REQUESTED),
    (("send", "accept"), S.ACCEPTED),
    (("send", "reject"), S.REJECTED),
    (("send", "accept", "start"), S.IN_PROGRESS),
    (("send", "accept", "start", "hold"), S.ON_HOLD),
    (("send", "accept", "start", "hold", "resume"), S.IN_PROGRESS),
    (("send", "accept", "complete"), S.COMPLETED),
    (("send", "accept", "start", "complete"), S.COMPLETED),
    (("send", "accept", "start", "hold", "complete"), S.COMPLETED),
    (("send", "accept", "fail"), S.FAILED),
    (("send", "accept", "start", "fail"), S.FAILED),
    (("send", "accept", "start", "hold", "fail"), S.FAILED),
    (("cancel",), S.CANCELLED),
    (("send", "cancel"), S.CANCELLED),
    (("send", "accept", "cancel"), S.CANCELLED),
    (("send", "accept", "start", "cancel"), S.CANCELLED),
    (("send", "accept", "start", "hold", "cancel"), S.CANCELLED),
    (("enter_in_error",), S.ENTERED_IN_ERROR),
    (("send", "enter_in_error"), S.ENTERED_IN_ERROR),
    (("send", "accept", "enter_in_error"), S.ENTERED_IN_ERROR),
    (("send", "accept", "start", "enter_in_error"), S.ENTERED_IN_ERROR),
    (("send", "accept", "start", "hold", "enter_in_error"), S.ENTERED_IN_ERROR),
]


@pytest.mark.parametrize(("steps", "final"), LEGAL_PATHS, ids=["-".join(p[0]) for p in LEGAL_PATHS])
def test_every_legal_transition_reaches_its_status_and_logs_one_event_per_move(
    world: World, draft: TrainerHandoff, steps: tuple[str, ...], final: str
) -> None:
    handoff = walk(world, draft, *steps)
    handoff.refresh_from_db()
    assert handoff.status == final
    events = list(handoff.events.filter(kind=HandoffEvent.Kind.TRANSITION).order_by("created_at", "id"))
    # One creation event plus one per move, chained from -> to without gaps (and the final report's).
    assert len(events) == len(steps) + 1
    reports = handoff.events.filter(kind=HandoffEvent.Kind.REPORT_SUBMITTED).count()
    assert reports == (1 if "complete" in steps else 0)
    assert handoff.events.count() == len(events) + reports
    assert events[0].from_status == "" and events[0].to_status == S.DRAFT
    for before, after in itertools.pairwise(events):
        assert after.from_status == before.to_status
    assert events[-1].to_status == final


def test_transitions_table_covers_exactly_the_documented_moves() -> None:
    legal = {(src, to) for to, (_, sources) in handoffs_lifecycle.TRANSITIONS.items() for src in sources}
    open_ = {S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD}
    expected = {
        (S.DRAFT, S.REQUESTED),
        (S.REQUESTED, S.ACCEPTED),
        (S.REQUESTED, S.REJECTED),
        (S.ACCEPTED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.ON_HOLD),
        (S.ON_HOLD, S.IN_PROGRESS),
        *((src, to) for src in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD) for to in (S.COMPLETED, S.FAILED)),
        *((src, to) for src in open_ for to in (S.CANCELLED, S.ENTERED_IN_ERROR)),
    }
    assert legal == expected
    terminal = {S.REJECTED, S.FAILED, S.COMPLETED, S.CANCELLED, S.ENTERED_IN_ERROR}
    assert not {src for src, _ in legal} & terminal, "terminal statuses stay terminal"


# --- illegal transitions -------------------------------------------------------------------------------

ILLEGAL = [
    ((), "accept"),  # a draft cannot be accepted
    (("send",), "start"),  # not accepted yet
    (("send",), "complete"),
    (("send",), "hold"),
    (("send", "accept"), "reject"),  # already accepted
    (("send", "accept"), "resume"),  # not on hold
    (("send", "accept", "start"), "start"),
    (("send", "cancel"), "accept"),
    (("send", "reject"), "accept"),
    (("send", "accept", "complete"), "start"),
    (("send", "accept", "fail"), "complete"),
    (("send", "accept", "complete"), "cancel"),
    (("send", "reject"), "cancel"),
    (("send", "enter_in_error"), "cancel"),
    (("send",), "send"),
]


@pytest.mark.parametrize(
    ("steps", "action"), ILLEGAL, ids=[f"{'-'.join(s) or 'draft'}-then-{a}" for s, a in ILLEGAL]
)
def test_illegal_moves_raise_invalid_transition_and_change_nothing(
    world: World, draft: TrainerHandoff, steps: tuple[str, ...], action: str
) -> None:
    handoff = walk(world, draft, *steps)
    handoff.refresh_from_db()
    before_status, before_events = handoff.status, handoff.events.count()
    with pytest.raises(InvalidTransition) as err:
        walk(world, handoff, action)
    assert err.value.current_status == before_status
    handoff.refresh_from_db()
    assert handoff.status == before_status
    assert handoff.events.count() == before_events


def test_trainer_cannot_accept_a_cancelled_handoff(world: World, requested: TrainerHandoff) -> None:
    handoffs_services.handoff_cancel(handoff=requested, actor=world.physio, reason="Patient moved away")
    with pytest.raises(InvalidTransition):
        handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_another_trainer_cannot_answer_someone_elses_referral(
    world: World, requested: TrainerHandoff, other_trainer: Any, action: str
) -> None:
    kwargs = {"reason": "no"} if action == "reject" else {}
    with pytest.raises(NotPermitted):
        handoffs_services.HANDOFF_ACTIONS[action](handoff=requested, actor=other_trainer, **kwargs)
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED


def test_trainer_cannot_cancel_and_physio_cannot_accept(world: World, requested: TrainerHandoff) -> None:
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_cancel(handoff=requested, actor=world.trainer, reason="not mine to cancel")
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_accept(handoff=requested, actor=world.physio)


def test_physio_of_another_clinic_cannot_cancel(requested: TrainerHandoff, other_clinic_physio: Any) -> None:
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_cancel(handoff=requested, actor=other_clinic_physio, reason="x")


def test_trainer_who_left_the_gym_loses_the_referral(world: World, requested: TrainerHandoff) -> None:
    world.trainer.memberships.all().delete()
    fresh = type(world.trainer).objects.get(pk=world.trainer.pk)
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_accept(handoff=requested, actor=fresh)


# --- reasons ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        (("send",), "reject"),
        (("send", "accept", "start"), "hold"),
        (("send", "accept"), "fail"),
        (("send",), "cancel"),
    ],
)
def test_reason_is_required_for_rejected_on_hold_cancelled_failed(
    world: World, draft: TrainerHandoff, steps: tuple[str, ...], action: str
) -> None:
    handoff = walk(world, draft, *steps)
    handoff.refresh_from_db()
    before = (handoff.status, handoff.events.count())
    actor = world.physio if action == "cancel" else world.trainer
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as err:
            handoffs_services.HANDOFF_ACTIONS[action](handoff=handoff, actor=actor, reason=blank)
        assert "reason" in err.value.message_dict
    handoff.refresh_from_db()
    assert (handoff.status, handoff.events.count()) == before


def test_reason_is_stored_on_the_handoff_and_the_event(world: World, requested: TrainerHandoff) -> None:
    handoff = handoffs_services.handoff_reject(
        handoff=requested, actor=world.trainer, reason="  Fully booked until March "
    )
    handoff.refresh_from_db()
    assert handoff.status_reason == "Fully booked until March"
    assert handoff.events.last().text == "Fully booked until March"  # type: ignore[union-attr]


def test_database_refuses_a_reason_required_status_without_reason(requested: TrainerHandoff) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainerHandoff.objects.filter(pk=requested.pk).update(status=S.REJECTED, status_reason="")


def test_completed_summary_is_kept_on_the_event_not_as_a_status_reason(
    world: World, requested: TrainerHandoff
) -> None:
    handoff = walk(world, requested, "accept", "start")
    submit_final_report(handoff, world.trainer)
    handoff = handoffs_services.handoff_complete(
        handoff=handoff, actor=world.trainer, summary="12 sessions, goals met"
    )
    handoff.refresh_from_db()
    assert handoff.status == S.COMPLETED and handoff.status_reason == ""
    assert handoff.events.last().text == "12 sessions, goals met"  # type: ignore[union-attr]


def test_oversized_reason_is_refused(world: World, requested: TrainerHandoff) -> None:
    with pytest.raises(ValidationError):
        handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="x" * 1001)
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED


# --- send preconditions --------------------------------------------------------------------------------


def _send_error(world: World, draft: TrainerHandoff) -> SendBlocked:
    with pytest.raises(SendBlocked) as err:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    draft.refresh_from_db()
    assert draft.status == S.DRAFT and draft.snapshot is None
    return err.value


def test_send_without_active_partnership_fails_with_its_own_error(
    world: World, draft: TrainerHandoff
) -> None:
    Partnership.objects.filter(gym=world.gym).update(active=False)
    assert _send_error(world, draft).codes == ["no_active_partnership"]


def test_send_without_consent_for_that_gym_fails_with_its_own_error(
    world: World, draft: TrainerHandoff
) -> None:
    Consent.objects.filter(gym=world.gym).update(
        withdrawn_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    assert _send_error(world, draft).codes == ["no_consent"]


def test_send_to_trainer_not_accepting_clients_fails(world: World, draft: TrainerHandoff) -> None:
    world.trainer.trainer_profile.accepting_new_clients = False
    world.trainer.trainer_profile.save()
    assert _send_error(world, draft).codes == ["trainer_not_accepting"]


def test_send_to_trainer_at_capacity_fails(world: World, draft: TrainerHandoff, clinic: Any) -> None:
    profile = world.trainer.trainer_profile
    profile.max_active_clients = 1
    profile.save()
    other_plan = f.PlanFactory(patient=f.PatientFactory(clinic=clinic), physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=other_plan)
    f.ConsentFactory(patient=other_plan.patient, gym=world.gym, recorded_by=world.physio)
    handoffs_sending.plan_discharge(plan=other_plan, trainer=world.trainer, gym=world.gym, actor=world.physio)
    error = _send_error(world, draft)
    assert error.codes == ["trainer_at_capacity"]
    assert "maximum of 1" in error.message


def test_send_to_trainer_with_expired_certification_fails(world: World, draft: TrainerHandoff) -> None:
    world.trainer.trainer_profile.certifications.update(expiry=f.in_days(-1))
    assert _send_error(world, draft).codes == ["certification_expired"]


def test_send_to_trainer_with_expired_cpr_aed_fails(world: World, draft: TrainerHandoff) -> None:
    world.trainer.trainer_profile.cpr_aed_expiry = f.in_days(-30)
    world.trainer.trainer_profile.save()
    assert _send_error(world, draft).codes == ["cpr_aed_expired"]


def test_send_of_a_plan_without_exercises_fails(world: World, draft: TrainerHandoff) -> None:
    world.plan.exercises.all().delete()
    assert _send_error(world, draft).codes == ["plan_has_no_exercises"]


def test_all_unmet_conditions_are_reported_together(world: World, draft: TrainerHandoff) -> None:
    Partnership.objects.filter(gym=world.gym).update(active=False)
    world.trainer.trainer_profile.accepting_new_clients = False
    world.trainer.trainer_profile.cpr_aed_expiry = None
    world.trainer.trainer_profile.save()
    assert set(_send_error(world, draft).codes) == {
        "no_active_partnership",
        "trainer_not_accepting",
        "cpr_aed_expired",
    }


def test_handoff_to_a_trainer_of_another_gym_is_refused(world: World, unpartnered_trainer: Any) -> None:
    with pytest.raises(ValidationError) as err:
        handoffs_sending.handoff_create(
            plan=world.plan, trainer=unpartnered_trainer, gym=world.gym, actor=world.physio
        )
    assert "trainer" in err.value.message_dict


def test_only_a_physio_of_the_clinic_can_discharge(world: World, other_clinic_physio: Any) -> None:
    with pytest.raises(NotPermitted):
        handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=other_clinic_physio
        )
    with pytest.raises(NotPermitted):
        handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.trainer
        )
    assert not TrainerHandoff.objects.exists()


# --- send effects and the snapshot -----------------------------------------------------------------------


def test_send_discharges_the_plan_and_freezes_the_guidelines(world: World, requested: TrainerHandoff) -> None:
    world.plan.refresh_from_db()
    assert world.plan.status == TreatmentPlan.Status.DISCHARGED and world.plan.discharged_at is not None
    snap = requested.snapshot
    assert snap is not None
    assert [x["name"] for x in snap["exercises"]] == [pe.exercise.name for pe in world.plan.exercises.all()]
    assert snap["exercises"][0]["sets"] == 3 and snap["exercises"][0]["reps"] == 12
    assert snap["exercises"][1]["hold_seconds"] == 30
    assert snap["precautions"][0]["kind"] == "load_limit" and snap["precautions"][0]["limit_value"] == "5.0"
    flag = world.plan.red_flags.get()
    assert snap["red_flags"] == [
        {"id": str(flag.public_id), "description": "Night pain or numbness down the arm"}
    ]
    assert snap["goals"] == world.plan.goals
    assert requested.consent is not None and requested.sent_at is not None


def test_diagnosis_is_in_the_snapshot_only_when_consent_covers_it(
    world: World, draft: TrainerHandoff
) -> None:
    handoff = handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    assert handoff.snapshot is not None and handoff.snapshot["diagnosis"] is None
    assert "rotator cuff" not in str(handoff.snapshot).lower()

    handoffs_services.handoff_cancel(handoff=handoff, actor=world.physio, reason="re-consent")
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym, withdrawn_at__isnull=True)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="scope widened")
    care_services.consent_record(
        patient=world.plan.patient, gym=world.gym, scope=Consent.Scope.WITH_DIAGNOSIS, actor=world.physio
    )
    second = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    assert second.snapshot is not None
    assert second.snapshot["diagnosis"] == {"text": "Right rotator cuff tendinopathy", "icd10_code": "M75.1"}


def test_snapshot_is_unaffected_by_later_plan_edits(world: World, requested: TrainerHandoff) -> None:
    before = requested.snapshot
    exercise = world.plan.exercises.first().exercise  # type: ignore[union-attr]
    care_services.plan_update(
        plan=world.plan,
        actor=world.physio,
        goals="Completely different goals",
        exercises=[{"exercise": exercise, "sets": 5, "reps": 5}],
        precautions=[],
        red_flags=["A new red flag"],
    )
    requested.refresh_from_db()
    assert requested.snapshot == before
    assert requested.snapshot is not None and requested.snapshot["goals"] != "Completely different goals"
    world.plan.refresh_from_db()
    assert world.plan.goals == "Completely different goals" and world.plan.precautions.count() == 0


# --- one open handoff per plan, re-offer ---------------------------------------------------------------


def test_a_plan_cannot_have_two_open_handoffs(
    world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    with pytest.raises(InvalidTransition) as err:
        handoffs_sending.handoff_create(
            plan=world.plan, trainer=other_trainer, gym=world.gym, actor=world.physio
        )
    assert err.value.code == "plan_has_open_handoff" and err.value.current_status == S.REQUESTED


def test_database_constraint_refuses_a_second_open_handoff(world: World, requested: TrainerHandoff) -> None:
    with (
        pytest.raises(
            IntegrityError,
            match=r"handoff_one_open_per_plan|UNIQUE constraint failed: referrals_trainerhandoff\.plan_id",
        ),
        transaction.atomic(),
    ):
        TrainerHandoff.objects.create(
            plan=world.plan,
            clinic=world.plan.patient.clinic,
            trainer=world.trainer,
            gym=world.gym,
            created_by=world.physio,
        )


@pytest.mark.parametrize("ending", ["reject", "cancel", "fail"])
def test_after_reject_cancel_or_failure_the_plan_can_go_to_another_trainer(
    world: World, requested: TrainerHandoff, other_trainer: Any, ending: str
) -> None:
    steps = {"reject": ("reject",), "cancel": ("cancel",), "fail": ("accept", "fail")}[ending]
    walk(world, requested, *steps)
    second = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=other_trainer, gym=world.gym, actor=world.physio
    )
    assert second.status == S.REQUESTED and second.trainer == other_trainer
    assert TrainerHandoff.objects.filter(plan=world.plan).count() == 2


def test_two_trainers_at_capacity_counts_exclude_finished_referrals(
    world: World, requested: TrainerHandoff
) -> None:
    profile = world.trainer.trainer_profile
    profile.max_active_clients = 1
    profile.save()
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="no slot")
    again = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    assert again.status == S.REQUESTED


# --- concerns ------------------------------------------------------------------------------------------


def test_concern_reaches_the_physio_as_urgent(world: World, requested: TrainerHandoff) -> None:
    handoff = walk(world, requested, "accept", "start")
    event = concerns_services.handoff_raise_concern(
        handoff=handoff, actor=world.trainer, text="Sharp pain on overhead press"
    )
    assert event.kind == HandoffEvent.Kind.CONCERN and event.urgent
    note = Notification.objects.get(event=event)
    assert note.recipient == world.physio and note.urgent
    assert "concern" in note.title.lower() and "pain" not in note.title.lower()
    handoff.refresh_from_db()
    assert handoff.status == S.IN_PROGRESS


def test_concern_can_put_the_handoff_on_hold(world: World, requested: TrainerHandoff) -> None:
    handoff = walk(world, requested, "accept", "start")
    concerns_services.handoff_raise_concern(
        handoff=handoff, actor=world.trainer, text="Numbness in the arm", hold=True
    )
    handoff.refresh_from_db()
    assert handoff.status == S.ON_HOLD and handoff.status_reason == "Numbness in the arm"
    kinds = list(handoff.events.values_list("kind", "to_status"))
    assert kinds[-2:] == [("concern", ""), ("transition", S.ON_HOLD)]


def test_concern_needs_text_and_an_open_handoff_and_the_right_trainer(
    world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    with pytest.raises(ValidationError):
        concerns_services.handoff_raise_concern(handoff=requested, actor=world.trainer, text="  ")
    with pytest.raises(NotPermitted):
        concerns_services.handoff_raise_concern(handoff=requested, actor=other_trainer, text="hi")
    with pytest.raises(InvalidTransition):
        concerns_services.handoff_raise_concern(
            handoff=requested, actor=world.trainer, text="hold please", hold=True
        )
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="no")
    with pytest.raises(InvalidTransition):
        concerns_services.handoff_raise_concern(handoff=requested, actor=world.trainer, text="late")
    assert not HandoffEvent.objects.filter(kind=HandoffEvent.Kind.CONCERN).exists()


# --- who is told ---------------------------------------------------------------------------------------


def _recipients(handoff: TrainerHandoff, to_status: str) -> set[int]:
    return set(
        Notification.objects.filter(event__handoff=handoff, event__to_status=to_status).values_list(
            "recipient_id", flat=True
        )
    )


def test_who_is_told_of_each_transition(world: World, draft: TrainerHandoff) -> None:
    handoff = walk(world, draft, "send", "accept", "start", "hold", "resume", "complete")
    trainer, physio = {world.trainer.pk}, {world.physio.pk}
    assert _recipients(handoff, S.DRAFT) == set()
    assert _recipients(handoff, S.REQUESTED) == trainer
    for status in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED):
        assert _recipients(handoff, status) == physio, status
    # the final progress report before completing tells the physiotherapist too
    assert (
        set(
            Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_SUBMITTED).values_list(
                "recipient_id", flat=True
            )
        )
        == physio
    )
    # every in-app notification has exactly one email outbox row beside it
    assert OutboxMessage.objects.count() == Notification.objects.count() == 7


@pytest.mark.parametrize("action", ["cancel", "enter_in_error"])
def test_trainer_is_told_of_cancellation_but_not_of_a_cancelled_draft(
    world: World, draft: TrainerHandoff, action: str
) -> None:
    walk(world, draft, action)
    assert not Notification.objects.exists()
    plan = world.plan
    second = handoffs_sending.plan_discharge(
        plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    walk(world, second, action)
    to = S.CANCELLED if action == "cancel" else S.ENTERED_IN_ERROR
    assert _recipients(second, to) == {world.trainer.pk}


def test_rejection_and_failure_are_told_to_the_physio(world: World, requested: TrainerHandoff) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="full")
    assert _recipients(requested, S.REJECTED) == {world.physio.pk}


# --- consent -------------------------------------------------------------------------------------------


def test_withdrawing_consent_cancels_open_handoffs_to_that_gym(
    world: World, requested: TrainerHandoff
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="patient asked")
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED
    assert "withdrew their consent" in requested.status_reason
    assert _recipients(requested, S.CANCELLED) == {world.trainer.pk}


def test_consent_cannot_be_recorded_twice_for_the_same_gym(world: World) -> None:
    with pytest.raises(ValidationError) as err:
        care_services.consent_record(
            patient=world.plan.patient, gym=world.gym, scope=Consent.Scope.GUIDELINES, actor=world.physio
        )
    assert "gym" in err.value.message_dict


def test_consent_only_for_a_gym_and_only_by_the_clinic(
    world: World, clinic: Any, other_clinic_physio: Any
) -> None:
    with pytest.raises(ValidationError):
        care_services.consent_record(
            patient=world.plan.patient, gym=clinic, scope="guidelines", actor=world.physio
        )
    with pytest.raises(NotPermitted):
        care_services.consent_record(
            patient=world.plan.patient, gym=world.gym, scope="guidelines", actor=other_clinic_physio
        )


def test_a_concern_reaches_the_clinic_when_the_treating_physio_has_left(
    world: World, requested: TrainerHandoff, clinic: Any
) -> None:
    from tests.conftest import make_physio

    colleague = make_physio(clinic)
    handoff = walk(world, requested, "accept")
    type(world.physio).objects.filter(pk=world.physio.pk).update(is_active=False)
    event = concerns_services.handoff_raise_concern(
        handoff=handoff, actor=world.trainer, text="Dizzy during cardio"
    )
    assert list(Notification.objects.filter(event=event).values_list("recipient_id", flat=True)) == [
        colleague.pk
    ]
    assert OutboxMessage.objects.filter(event=event, recipient=colleague).exists()


def test_withdrawing_consent_leaves_closed_handoffs_alone(
    world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="full")
    second = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=other_trainer, gym=world.gym, actor=world.physio
    )
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    care_services.consent_withdraw(consent=consent, actor=world.physio)
    requested.refresh_from_db()
    second.refresh_from_db()
    assert (requested.status, second.status) == (S.REJECTED, S.CANCELLED)
    with pytest.raises(DomainError) as refused:  # a state conflict (the API's 409), not bad input
        care_services.consent_withdraw(consent=consent, actor=world.physio)
    assert refused.value.code == "consent_withdrawn"
