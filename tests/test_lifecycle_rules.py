"""The referral's rules hold at every step, not only at send (issue 13):

- a referral goes only to a verified trainer (`certification_unverified`), never to a deactivated one
  (`trainer_inactive`), and a draft only to a trainer at a gym that partners the plan's own clinic;
- accept, start and resume re-check what still matters with the send's conditions, refuse with a code
  per reason, record the refusal and tell the PT;
- answers reach a physiotherapist who can act on them;
- the plan's status follows its referrals.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Certification, Membership, Organization, Partnership, TrainerProfile, User
from referrals.care.models import TreatmentPlan
from referrals.errors import InvalidTransition, NoLongerEligible, NotPermitted, SendBlocked
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from tests import factories as f
from tests.conftest import World, login, make_physio, make_trainer
from tests.progress.factories_reports import submit_final_report

S = HandoffStatus
P = TreatmentPlan.Status
API = "/api/v1"
pytestmark = pytest.mark.django_db


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def act(step: str, handoff: TrainerHandoff, actor: User, **kwargs: Any) -> TrainerHandoff:
    return handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=actor, **kwargs)


# --- 1. a referral goes only to a verified trainer -------------------------------------------------------


def test_an_unverified_certification_blocks_the_send_with_its_own_code(world: World, draft: Any) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(verified=False)
    with pytest.raises(SendBlocked) as caught:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    assert caught.value.codes == ["certification_unverified"]
    draft.refresh_from_db()
    assert draft.status == S.DRAFT and draft.sent_at is None


def test_an_expired_certification_is_expired_not_unverified(world: World, draft: Any) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    with pytest.raises(SendBlocked) as caught:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    assert caught.value.codes == ["certification_expired"]


def test_a_verified_certification_counts_only_while_current(world: World, draft: Any) -> None:
    """An expired verified one and a current unverified one: the current one is what matters."""
    profile = TrainerProfile.objects.get(user=world.trainer)
    Certification.objects.filter(profile=profile).update(expiry=yesterday())
    f.CertificationFactory(profile=profile, verified=False)
    with pytest.raises(SendBlocked) as caught:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    assert caught.value.codes == ["certification_unverified"]


def test_the_discharge_page_lists_an_unverified_trainer_with_that_reason(
    client: Client, world: World
) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(verified=False)
    response = login(client, world.physio).get(reverse("plan_discharge", args=[world.plan.public_id]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-code="certification_unverified"' in content
    assert "has not been verified by an admin yet" in content
    choice = next(
        c
        for c in handoffs_eligibility.trainer_choice_list_for_plan(user=world.physio, plan=world.plan)
        if c.trainer == world.trainer
    )
    assert [b.code for b in choice.blockers] == ["certification_unverified"]


def test_the_api_send_names_certification_unverified_in_its_blockers(world: World) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(verified=False)
    body = {
        "plan": str(world.plan.public_id),
        "trainer": str(world.trainer.public_id),
        "gym": str(world.gym.public_id),
        "send": True,
    }
    response = api(world.physio).post(f"{API}/handoffs/", body, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "send_blocked"
    assert [b["code"] for b in response.json()["blockers"]] == ["certification_unverified"]
    assert not TrainerHandoff.objects.exists()


# --- 2. never to a deactivated trainer, only to a partner of the plan's own clinic --------------------


def test_a_draft_cannot_be_sent_to_a_trainer_deactivated_since(world: World, draft: Any) -> None:
    User.objects.filter(pk=world.trainer.pk).update(is_active=False)
    with pytest.raises(SendBlocked) as caught:
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
    assert caught.value.codes == ["trainer_inactive"]


def test_a_draft_is_not_created_for_a_deactivated_trainer(world: World) -> None:
    User.objects.filter(pk=world.trainer.pk).update(is_active=False)
    world.trainer.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        handoffs_sending.handoff_create(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
    assert "trainer" in caught.value.message_dict
    assert not TrainerHandoff.objects.exists()


def test_a_draft_is_created_only_for_a_gym_partnering_the_plans_own_clinic(
    world: World, other_clinic: Organization
) -> None:
    """A PT at two clinics: the gym partners the other clinic only, so not this plan's."""
    f.MembershipFactory(user=world.physio, organization=other_clinic, role=Membership.Role.PHYSIOTHERAPIST)
    other_gym = f.GymFactory(name="Other Clinic's Gym")
    f.PartnershipFactory(clinic=other_clinic, gym=other_gym)
    trainer = make_trainer(other_gym)
    with pytest.raises(ValidationError) as caught:
        handoffs_sending.handoff_create(plan=world.plan, trainer=trainer, gym=other_gym, actor=world.physio)
    assert list(caught.value.message_dict) == ["gym"]
    body = {
        "plan": str(world.plan.public_id),
        "trainer": str(trainer.public_id),
        "gym": str(other_gym.public_id),
    }
    response = api(world.physio).post(f"{API}/handoffs/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["gym"]
    assert not TrainerHandoff.objects.exists()


def test_a_draft_is_not_created_for_someone_who_is_not_a_trainer_at_the_gym(
    world: World, unpartnered_trainer: User
) -> None:
    with pytest.raises(ValidationError) as caught:
        handoffs_sending.handoff_create(
            plan=world.plan, trainer=unpartnered_trainer, gym=world.gym, actor=world.physio
        )
    assert list(caught.value.message_dict) == ["trainer"]


# --- 3. accept, start and resume re-check what still matters -------------------------------------------


def test_accept_is_refused_when_the_partnership_ended_and_the_pt_is_told(
    world: World, requested: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    Partnership.objects.update(active=False)  # not through partnership_end: nothing cancelled it
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NoLongerEligible) as caught:
        handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    assert caught.value.codes == ["no_active_partnership"]
    assert caught.value.code == "no_longer_eligible"
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED
    refusal = HandoffEvent.objects.get(handoff=requested, kind=HandoffEvent.Kind.REFUSAL)
    assert refusal.actor == world.trainer and refusal.text.startswith("Could not accept:")
    note = Notification.objects.get(event=refusal)
    assert note.recipient == world.physio
    assert OutboxMessage.objects.filter(event=refusal, recipient=world.physio).exists()
    assert [m.to for m in mail.outbox] == [[world.physio.email]]
    assert "no longer eligible" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("step", "before", "change", "code"),
    [
        ("start", ("accept",), "certification_expired", "certification_expired"),
        ("start", ("accept",), "certification_unverified", "certification_unverified"),
        ("resume", ("accept", "start", "hold"), "cpr_aed_expired", "cpr_aed_expired"),
        ("accept", (), "cpr_aed_expired", "cpr_aed_expired"),
        ("resume", ("accept", "start", "hold"), "no_active_partnership", "no_active_partnership"),
    ],
)
def test_each_step_that_takes_the_patient_on_is_refused_with_the_reason(
    world: World, requested: TrainerHandoff, step: str, before: tuple[str, ...], change: str, code: str
) -> None:
    handoff = requested
    for earlier in before:
        kwargs = {"reason": "Knee flared up."} if earlier == "hold" else {}
        handoff = act(earlier, handoff, world.trainer, **kwargs)
    status = handoff.status
    if change == "certification_expired":
        Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    elif change == "certification_unverified":
        Certification.objects.filter(profile__user=world.trainer).update(verified=False)
    elif change == "cpr_aed_expired":
        TrainerProfile.objects.filter(user=world.trainer).update(cpr_aed_expiry=yesterday())
    else:
        Partnership.objects.update(active=False)
    with pytest.raises(NoLongerEligible) as caught:
        act(step, handoff, world.trainer)
    assert caught.value.codes == [code]
    handoff.refresh_from_db()
    assert handoff.status == status
    assert Notification.objects.filter(
        event__handoff=handoff, event__kind=HandoffEvent.Kind.REFUSAL, recipient=world.physio
    ).exists()


def test_accept_does_not_recheck_capacity_reserved_at_send(world: World, requested: TrainerHandoff) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(
        max_active_clients=1, accepting_new_clients=False
    )
    f.CertificationFactory(profile=TrainerProfile.objects.get(user=world.trainer))
    handoff = handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    assert handoff.status == S.ACCEPTED


def test_the_same_refusal_repeated_is_recorded_once(world: World, requested: TrainerHandoff) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    for _ in range(3):
        with pytest.raises(NoLongerEligible):
            handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    assert HandoffEvent.objects.filter(handoff=requested, kind=HandoffEvent.Kind.REFUSAL).count() == 1
    assert Notification.objects.filter(event__kind=HandoffEvent.Kind.REFUSAL).count() == 1


def test_a_refused_step_by_the_wrong_user_is_forbidden_not_recorded(
    world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    Partnership.objects.update(active=False)
    with pytest.raises(NotPermitted):
        handoffs_services.handoff_accept(handoff=requested, actor=other_trainer)
    with pytest.raises(InvalidTransition):
        handoffs_services.handoff_resume(handoff=requested, actor=world.trainer)
    assert not HandoffEvent.objects.filter(kind=HandoffEvent.Kind.REFUSAL).exists()


def test_the_api_answers_409_with_one_code_per_reason(world: World, requested: TrainerHandoff) -> None:
    Partnership.objects.update(active=False)
    Certification.objects.filter(profile__user=world.trainer).update(verified=False)
    response = api(world.trainer).post(f"{API}/handoffs/{requested.public_id}/accept/", {}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "no_longer_eligible"
    assert [b["code"] for b in body["blockers"]] == ["no_active_partnership", "certification_unverified"]
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED
    assert HandoffEvent.objects.filter(handoff=requested, kind=HandoffEvent.Kind.REFUSAL).count() == 1


def test_the_page_shows_the_refusal_as_a_message_and_on_the_timeline(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    url = reverse("handoff_action", args=[requested.public_id, "accept"])
    response = login(client, world.trainer).post(url, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Not done:" in content and "no current (unexpired) trainer certification" in content
    assert 'data-testid="refusal"' in content
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED


# --- 5. notifications reach someone who can act ----------------------------------------------------------


def test_an_answer_goes_to_the_treating_pt_while_they_are_a_pt_of_the_clinic(
    world: World, requested: TrainerHandoff, clinic: Organization
) -> None:
    colleague = make_physio(clinic)
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    event = HandoffEvent.objects.get(handoff=requested, to_status=S.ACCEPTED)
    assert [n.recipient for n in Notification.objects.filter(event=event)] == [world.physio]
    assert colleague not in [m.recipient for m in OutboxMessage.objects.filter(event=event)]


@pytest.mark.parametrize("how", ["left", "deactivated", "moved"])
def test_an_answer_goes_to_the_clinics_active_pts_once_the_treating_pt_cannot_act(
    world: World, requested: TrainerHandoff, clinic: Organization, other_clinic: Organization, how: str
) -> None:
    colleague = make_physio(clinic)
    inactive = make_physio(clinic, is_active=False)
    membership = Membership.objects.get(user=world.physio, organization=clinic)
    if how == "deactivated":
        User.objects.filter(pk=world.physio.pk).update(is_active=False)
    else:
        membership.delete()
        if how == "moved":
            f.MembershipFactory(
                user=world.physio, organization=other_clinic, role=Membership.Role.PHYSIOTHERAPIST
            )
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    event = HandoffEvent.objects.get(handoff=requested, to_status=S.ACCEPTED)
    told = {n.recipient for n in Notification.objects.filter(event=event)}
    assert told == {colleague}
    assert inactive not in told
    assert {m.recipient for m in OutboxMessage.objects.filter(event=event)} == {colleague}
    assert handoffs_selectors.handoff_list_for_user(user=colleague).filter(pk=requested.pk).exists()


def test_the_creator_is_told_only_while_a_pt_of_the_clinic(
    world: World, clinic: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    creator = make_physio(clinic)
    handoff = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=creator
    )
    Membership.objects.filter(user=creator).delete()
    handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
    event = HandoffEvent.objects.get(handoff=handoff, to_status=S.ACCEPTED)
    assert {n.recipient for n in Notification.objects.filter(event=event)} == {world.physio}


def test_a_cancellation_reaches_the_trainer_only_while_still_at_the_gym(
    world: World, requested: TrainerHandoff
) -> None:
    Membership.objects.filter(user=world.trainer).delete()
    handoffs_services.handoff_cancel(handoff=requested, actor=world.physio, reason="The patient moved away.")
    event = HandoffEvent.objects.get(handoff=requested, to_status=S.CANCELLED)
    assert not Notification.objects.filter(event=event).exists()
    assert not OutboxMessage.objects.filter(event=event).exists()


# --- 6. the plan's status follows its referrals ---------------------------------------------------------


def plan_of(handoff: TrainerHandoff) -> TreatmentPlan:
    return TreatmentPlan.objects.get(pk=handoff.plan_id)


def test_sending_discharges_the_plan(world: World, requested: TrainerHandoff) -> None:
    plan = plan_of(requested)
    assert plan.status == P.DISCHARGED and plan.discharged_at == requested.sent_at


def test_a_referral_entered_in_error_undoes_the_discharge(world: World, requested: TrainerHandoff) -> None:
    handoffs_services.handoff_enter_in_error(handoff=requested, actor=world.physio, reason="Wrong patient.")
    plan = plan_of(requested)
    assert plan.status == P.ACTIVE and plan.discharged_at is None


@pytest.mark.parametrize("ending", ["reject", "cancel", "fail"])
def test_a_plan_waits_for_a_new_trainer_after_a_decline_cancellation_or_failure(
    world: World, requested: TrainerHandoff, ending: str
) -> None:
    handoff = requested
    if ending == "fail":
        handoff = act("accept", handoff, world.trainer)
    actor = world.physio if ending == "cancel" else world.trainer
    act(ending, handoff, actor, reason="It did not work out.")
    plan = plan_of(requested)
    assert plan.status == P.AWAITING_TRAINER
    assert plan.discharged_at == requested.sent_at
    # offered again: discharged again
    again = handoffs_sending.plan_discharge(
        plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    assert plan_of(again).status == P.DISCHARGED


def test_an_earlier_decline_still_counts_after_a_later_referral_is_entered_in_error(
    world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Full.")
    again = handoffs_sending.plan_discharge(
        plan=plan_of(requested), trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    handoffs_services.handoff_enter_in_error(handoff=again, actor=world.physio, reason="Sent twice.")
    plan = plan_of(requested)
    assert plan.status == P.AWAITING_TRAINER and plan.discharged_at == requested.sent_at


def test_cancelling_a_draft_leaves_the_plan_active(world: World, draft: TrainerHandoff) -> None:
    handoffs_services.handoff_cancel(handoff=draft, actor=world.physio, reason="Changed my mind.")
    assert plan_of(draft).status == P.ACTIVE


def test_a_completed_referral_completes_the_plan_which_cannot_be_sent_again(
    world: World, requested: TrainerHandoff, other_trainer: User
) -> None:
    handoff = act("accept", requested, world.trainer)
    submit_final_report(handoff, world.trainer)
    act("complete", handoff, world.trainer, summary="Goals met.")
    plan = plan_of(requested)
    assert plan.status == P.COMPLETED
    with pytest.raises(InvalidTransition) as caught:
        handoffs_sending.handoff_create(plan=plan, trainer=other_trainer, gym=world.gym, actor=world.physio)
    assert caught.value.code == "plan_completed"
    assert "new plan" in caught.value.message
    body = {
        "plan": str(plan.public_id),
        "trainer": str(other_trainer.public_id),
        "gym": str(world.gym.public_id),
    }
    response = api(world.physio).post(f"{API}/handoffs/", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "plan_completed"
    assert TrainerHandoff.objects.filter(plan=plan).count() == 1


def test_the_discharge_page_of_a_completed_plan_offers_no_trainer(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    submit_final_report(act("accept", requested, world.trainer), world.trainer)
    act("complete", requested, world.trainer, summary="Goals met.")
    response = login(client, world.physio).get(reverse("plan_discharge", args=[world.plan.public_id]))
    content = response.content.decode()
    assert response.status_code == 200 and 'data-testid="plan-completed"' in content
    assert reverse("plan_discharge_review", args=[world.plan.public_id]) not in content


def test_the_pages_and_the_api_show_a_plan_awaiting_a_new_trainer(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Full.")
    login(client, world.physio)
    for url in (
        reverse("plan_detail", args=[world.plan.public_id]),
        reverse("patient_detail", args=[world.plan.patient.public_id]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "Awaiting a new trainer" in response.content.decode()
    answer = api(world.physio).get(f"{API}/plans/{world.plan.public_id}/")
    assert answer.status_code == 200 and answer.json()["status"] == "awaiting_trainer"


def test_the_database_refuses_an_unknown_plan_status(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=world.plan.pk).update(status="sort_of_done")


# --- 4 (capacity). a trainer removed from a gym no longer counts that gym's clients ---------------------


def test_a_trainer_removed_from_a_gym_no_longer_counts_its_clients(
    world: World, requested: TrainerHandoff, clinic: Organization
) -> None:
    second_gym = f.GymFactory(name="Second Gym")
    f.PartnershipFactory(clinic=clinic, gym=second_gym)
    f.MembershipFactory(user=world.trainer, organization=second_gym, role=Membership.Role.TRAINER)
    TrainerProfile.objects.filter(user=world.trainer).update(max_active_clients=1)

    new_plan = f.PlanFactory(patient=world.plan.patient, physiotherapist=world.physio)

    def at_second_gym() -> Any:
        choices = handoffs_eligibility.trainer_choice_list_for_plan(user=world.physio, plan=new_plan)
        return next(c for c in choices if c.trainer == world.trainer and c.gym == second_gym)

    assert handoffs_selectors.caseload_get_for_trainer(trainer=world.trainer) == 1
    assert "trainer_at_capacity" in [b.code for b in at_second_gym().blockers]
    Membership.objects.filter(user=world.trainer, organization=world.gym).delete()  # the referral stays open
    assert handoffs_selectors.caseload_get_for_trainer(trainer=world.trainer) == 0
    choice = at_second_gym()
    assert getattr(choice.membership, "caseload", None) == 0
    assert "trainer_at_capacity" not in [b.code for b in choice.blockers]


def test_the_daily_review_tells_the_pt_once_when_a_credential_lapsed_during_care(
    world: World, requested: TrainerHandoff
) -> None:
    handoff = act("start", act("accept", requested, world.trainer), world.trainer)
    assert handoffs_services.handoff_review_eligibility() == []
    TrainerProfile.objects.filter(user=world.trainer).update(cpr_aed_expiry=yesterday())
    flagged = handoffs_services.handoff_review_eligibility()
    assert [h.pk for h in flagged] == [handoff.pk]
    assert handoffs_services.handoff_review_eligibility() == []  # once per reason
    refusal = HandoffEvent.objects.get(handoff=handoff, kind=HandoffEvent.Kind.REFUSAL)
    assert "CPR/AED" in refusal.text
    assert [n.recipient for n in Notification.objects.filter(event=refusal)] == [world.physio]
    handoff.refresh_from_db()
    assert handoff.status == S.IN_PROGRESS  # the care goes on; the PT decides


def test_beat_runs_the_eligibility_review_daily_and_the_command_runs_it_by_hand(
    world: World, requested: TrainerHandoff
) -> None:
    from django.conf import settings
    from django.core.management import call_command

    entry = settings.CELERY_BEAT_SCHEDULE["review-eligibility"]
    assert entry["task"] == "referrals.tasks.review_eligibility"
    assert entry["schedule"] == datetime.timedelta(hours=24)
    handoff = act("accept", requested, world.trainer)
    TrainerProfile.objects.filter(user=world.trainer).update(cpr_aed_expiry=yesterday())
    out = io.StringIO()
    call_command("review_eligibility", stdout=out)
    assert out.getvalue().startswith("1 referral(s) newly flagged")
    call_command("review_eligibility", stdout=out)  # idempotent: nobody is told twice
    assert HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.REFUSAL).count() == 1
