"""Organizations change (issue 13): ending a partnership, removing a trainer from a gym, deactivating a user
and a PT leaving a clinic are services, the admin calls them, and each says what happens to the open
referrals it touches and tells the people concerned."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Membership, Organization, Partnership, User
from referrals import access as referrals_access
from referrals.care import services as care_services
from referrals.care.models import TreatmentPlan
from referrals.errors import NotPermitted
from referrals.handoffs import organizations as handoffs_organizations
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from tests import factories as f
from tests.conftest import World, login_with_second_factor, make_physio, make_trainer
from tests.test_admin import admin_url, messages_of

S = HandoffStatus
pytestmark = pytest.mark.django_db


def new_plan(world: World) -> TreatmentPlan:
    plan = f.PlanFactory(patient=world.plan.patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    return plan


def referral_in(
    world: World, status: str, *, trainer: User | None = None, gym: Organization | None = None
) -> Any:
    """A referral of a new plan of the world's patient, driven to `status`."""
    trainer, gym = trainer or world.trainer, gym or world.gym
    plan = new_plan(world)
    if status == S.DRAFT:
        return handoffs_sending.handoff_create(plan=plan, trainer=trainer, gym=gym, actor=world.physio)
    handoff = handoffs_sending.plan_discharge(plan=plan, trainer=trainer, gym=gym, actor=world.physio)
    steps_to: dict[str, list[str]] = {
        S.REQUESTED: [],
        S.ACCEPTED: ["accept"],
        S.IN_PROGRESS: ["accept", "start"],
        S.ON_HOLD: ["accept", "start", "hold"],
    }
    steps = steps_to[status]
    for step in steps:
        kwargs = {"reason": "Flare-up."} if step == "hold" else {}
        handoff = handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=trainer, **kwargs)
    return handoff


def told(handoff: TrainerHandoff, **event: Any) -> set[User]:
    events = HandoffEvent.objects.filter(handoff=handoff, **event)
    notified = {n.recipient for n in Notification.objects.filter(event__in=events)}
    emailed = {m.recipient for m in OutboxMessage.objects.filter(event__in=events)}
    assert notified == emailed  # in-app and email always together
    return notified


OPEN_SENT = [S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD]


@pytest.fixture
def open_referrals(world: World) -> dict[str, TrainerHandoff]:
    return {status: referral_in(world, status) for status in [S.DRAFT, *OPEN_SENT]}


# --- ending a partnership -------------------------------------------------------------------------------


def test_ending_a_partnership_cancels_its_open_referrals_and_tells_both_sides(
    world: World,
    open_referrals: dict[str, TrainerHandoff],
    clinic_admin: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    partnership = Partnership.objects.get(clinic=world.plan.patient.clinic, gym=world.gym)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = handoffs_organizations.partnership_end(partnership=partnership, actor=clinic_admin)
    assert {h.pk for h in cancelled} == {h.pk for h in open_referrals.values()}
    partnership.refresh_from_db()
    assert not partnership.active
    for status, handoff in open_referrals.items():
        handoff.refresh_from_db()
        assert handoff.status == S.CANCELLED
        assert handoff.status_reason == f"The partnership between Lakeside Physio and {world.gym} ended."
        expected = set() if status == S.DRAFT else {world.physio, world.trainer}
        assert told(handoff, to_status=S.CANCELLED) == expected, status
    assert len(mail.outbox) == 2 * len(OPEN_SENT)
    assert all("was cancelled" in m.subject for m in mail.outbox)


def test_ending_a_partnership_leaves_other_gyms_referrals_alone(
    world: World, clinic: Organization, clinic_admin: User
) -> None:
    other_gym = f.GymFactory(name="Other Gym")
    f.PartnershipFactory(clinic=clinic, gym=other_gym)
    f.ConsentFactory(patient=world.plan.patient, gym=other_gym, recorded_by=world.physio)
    elsewhere = referral_in(world, S.ACCEPTED, trainer=make_trainer(other_gym), gym=other_gym)
    handoffs_organizations.partnership_end(
        partnership=Partnership.objects.get(gym=world.gym), actor=clinic_admin
    )
    elsewhere.refresh_from_db()
    assert elsewhere.status == S.ACCEPTED


def test_only_an_admin_of_the_clinic_or_gym_ends_a_partnership(
    world: World, requested: TrainerHandoff, other_clinic: Organization
) -> None:
    partnership = Partnership.objects.get(gym=world.gym)
    outsider = f.UserFactory(is_staff=True)
    f.MembershipFactory(user=outsider, organization=other_clinic, role=Membership.Role.ORG_ADMIN)
    for actor in (world.physio, world.trainer, outsider):
        with pytest.raises(NotPermitted):
            handoffs_organizations.partnership_end(partnership=partnership, actor=actor)
    partnership.refresh_from_db()
    requested.refresh_from_db()
    assert partnership.active and requested.status == S.REQUESTED
    gym_admin = f.UserFactory(is_staff=True)
    f.MembershipFactory(user=gym_admin, organization=world.gym, role=Membership.Role.ORG_ADMIN)
    handoffs_organizations.partnership_end(partnership=partnership, actor=gym_admin)
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED


# --- removing a trainer from a gym ----------------------------------------------------------------------


def test_removing_a_trainer_from_a_gym_cancels_their_referrals_there_and_tells_the_clinic(
    world: World, open_referrals: dict[str, TrainerHandoff], clinic: Organization, superuser: User
) -> None:
    second_gym = f.GymFactory(name="Second Gym")
    f.PartnershipFactory(clinic=clinic, gym=second_gym)
    f.MembershipFactory(user=world.trainer, organization=second_gym, role=Membership.Role.TRAINER)
    f.ConsentFactory(patient=world.plan.patient, gym=second_gym, recorded_by=world.physio)
    referrals_access.forget_roles(world.trainer)  # a new role since the fixtures ran
    at_second_gym = referral_in(world, S.IN_PROGRESS, gym=second_gym)
    membership = Membership.objects.get(user=world.trainer, organization=world.gym)
    handoffs_organizations.trainer_remove_from_gym(membership=membership, actor=superuser)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    for status, handoff in open_referrals.items():
        handoff.refresh_from_db()
        assert handoff.status == S.CANCELLED
        assert handoff.status_reason == f"{world.trainer} is no longer a trainer at {world.gym}."
        # the trainer can no longer open them: only the clinic is told
        assert told(handoff, to_status=S.CANCELLED) == (set() if status == S.DRAFT else {world.physio})
    at_second_gym.refresh_from_db()
    assert at_second_gym.status == S.IN_PROGRESS
    assert handoffs_selectors.caseload_get_for_trainer(trainer=world.trainer) == 1


def test_removing_needs_an_admin_of_the_gym(
    world: World, requested: TrainerHandoff, clinic_admin: User
) -> None:
    membership = Membership.objects.get(user=world.trainer, organization=world.gym)
    with pytest.raises(NotPermitted):
        handoffs_organizations.trainer_remove_from_gym(membership=membership, actor=clinic_admin)
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- deactivating a user --------------------------------------------------------------------------------


def test_deactivating_a_trainer_cancels_their_open_referrals_and_tells_the_clinic(
    world: World, open_referrals: dict[str, TrainerHandoff], superuser: User
) -> None:
    handoffs_organizations.user_deactivate(user=world.trainer, actor=superuser)
    world.trainer.refresh_from_db()
    assert not world.trainer.is_active
    for status, handoff in open_referrals.items():
        handoff.refresh_from_db()
        assert handoff.status == S.CANCELLED and handoff.status_reason == f"{world.trainer} was deactivated."
        assert told(handoff, to_status=S.CANCELLED) == (set() if status == S.DRAFT else {world.physio})


def test_an_org_admin_deactivates_only_people_of_their_own_organizations(
    world: World, clinic_admin: User, other_clinic_physio: User
) -> None:
    with pytest.raises(NotPermitted):
        handoffs_organizations.user_deactivate(user=world.trainer, actor=clinic_admin)  # a gym's trainer
    with pytest.raises(NotPermitted):
        handoffs_organizations.user_deactivate(user=other_clinic_physio, actor=clinic_admin)
    handoffs_organizations.user_deactivate(user=world.physio, actor=clinic_admin)
    world.physio.refresh_from_db()
    assert not world.physio.is_active


def test_deactivating_a_pt_tells_the_clinics_other_pts_from_then_on(
    world: World, requested: TrainerHandoff, clinic: Organization, superuser: User
) -> None:
    colleague = make_physio(clinic)
    handoffs_organizations.user_deactivate(user=world.physio, actor=superuser)
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED  # the clinic still refers the patient
    assert told(requested, kind=HandoffEvent.Kind.HANDOVER) == {colleague, world.trainer}
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    assert told(requested, to_status=S.ACCEPTED) == {colleague}


# --- a PT leaving a clinic ------------------------------------------------------------------------------


def test_a_pt_leaving_hands_their_plans_and_referrals_to_the_colleague(
    world: World, requested: TrainerHandoff, clinic: Organization, clinic_admin: User
) -> None:
    colleague = make_physio(clinic)
    bystander = make_physio(clinic)
    unsent = new_plan(world)
    membership = Membership.objects.get(user=world.physio, organization=clinic)
    handed = handoffs_organizations.physio_leave_clinic(
        membership=membership, actor=clinic_admin, colleague=colleague
    )
    assert [h.pk for h in handed] == [requested.pk]
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert set(
        TreatmentPlan.objects.filter(pk__in=[world.plan.pk, unsent.pk]).values_list(
            "physiotherapist", flat=True
        )
    ) == {colleague.pk}
    event = HandoffEvent.objects.get(handoff=requested, kind=HandoffEvent.Kind.HANDOVER)
    assert str(colleague) in event.text and str(world.physio) in event.text
    assert told(requested, kind=HandoffEvent.Kind.HANDOVER) == {colleague, world.trainer}
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    assert told(requested, to_status=S.ACCEPTED) == {colleague}
    assert bystander not in told(requested)


def test_a_pt_leaving_without_a_colleague_tells_the_clinics_other_pts(
    world: World, requested: TrainerHandoff, clinic: Organization, clinic_admin: User
) -> None:
    others = {make_physio(clinic), make_physio(clinic)}
    membership = Membership.objects.get(user=world.physio, organization=clinic)
    handoffs_organizations.physio_leave_clinic(membership=membership, actor=clinic_admin)
    assert told(requested, kind=HandoffEvent.Kind.HANDOVER) == others | {world.trainer}
    world.plan.refresh_from_db()
    assert world.plan.physiotherapist == world.physio  # nobody was named to take it over


def test_a_colleague_who_edits_the_plan_of_a_pt_who_left_takes_it_on(
    world: World, requested: TrainerHandoff, clinic: Organization, clinic_admin: User
) -> None:
    colleague = make_physio(clinic)
    membership = Membership.objects.get(user=world.physio, organization=clinic)
    handoffs_organizations.physio_leave_clinic(membership=membership, actor=clinic_admin)
    plan = care_services.plan_update(plan=world.plan, actor=colleague, goals="Run 5 km again.")
    plan.refresh_from_db()
    assert plan.goals == "Run 5 km again." and plan.physiotherapist == colleague


def test_the_colleague_must_be_another_active_pt_of_the_same_clinic(
    world: World,
    requested: TrainerHandoff,
    clinic: Organization,
    clinic_admin: User,
    other_clinic_physio: User,
) -> None:
    membership = Membership.objects.get(user=world.physio, organization=clinic)
    inactive = make_physio(clinic, is_active=False)
    for colleague in (other_clinic_physio, inactive, world.physio, world.trainer):
        with pytest.raises(ValidationError) as caught:
            handoffs_organizations.physio_leave_clinic(
                membership=membership, actor=clinic_admin, colleague=colleague
            )
        assert list(caught.value.message_dict) == ["colleague"]
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not HandoffEvent.objects.filter(kind=HandoffEvent.Kind.HANDOVER).exists()


# --- the admin calls the services -----------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    return login_with_second_factor(client, superuser)


def partnership_form(partnership: Partnership, **changes: str) -> dict[str, str]:
    data = {
        "clinic": str(partnership.clinic_id),
        "gym": str(partnership.gym_id),
        "active": "on",
        "started_on": partnership.started_on.isoformat(),
        "notes": partnership.notes,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""} | {"notes": partnership.notes}


def test_unticking_active_on_the_partnership_form_ends_it_through_the_service(
    admin_client: Client, world: World, requested: TrainerHandoff
) -> None:
    partnership = Partnership.objects.get(gym=world.gym)
    data = partnership_form(partnership)
    del data["active"]
    response = admin_client.post(admin_url(partnership, "change", partnership.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    partnership.refresh_from_db()
    requested.refresh_from_db()
    assert not partnership.active
    assert requested.status == S.CANCELLED and "partnership" in requested.status_reason


def test_the_end_partnerships_action(admin_client: Client, world: World, requested: TrainerHandoff) -> None:
    partnership = Partnership.objects.get(gym=world.gym)
    response = admin_client.post(
        admin_url(Partnership, "changelist"),
        {"action": "end_partnerships", ACTION_CHECKBOX_NAME: [str(partnership.pk)], "index": "0"},
        follow=True,
    )
    assert ("success", "1 partnership(s) ended.") in messages_of(response)
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED


def test_deleting_a_trainer_membership_in_the_admin_cancels_their_referrals(
    admin_client: Client, world: World, requested: TrainerHandoff
) -> None:
    membership = Membership.objects.get(user=world.trainer, organization=world.gym)
    response = admin_client.post(admin_url(membership, "delete", membership.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED and "no longer a trainer" in requested.status_reason


def test_the_bulk_delete_of_memberships_goes_through_the_service(
    admin_client: Client, world: World, requested: TrainerHandoff
) -> None:
    membership = Membership.objects.get(user=world.trainer, organization=world.gym)
    response = admin_client.post(
        admin_url(Membership, "changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(membership.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED


def user_form(
    user: User, memberships: list[tuple[Membership, dict[str, str]]], **changes: str
) -> dict[str, str]:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "date_joined_0": "2024-01-02",
        "date_joined_1": "09:00:00",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, (membership, extra) in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-user": str(user.pk),
            f"memberships-{i}-organization": str(membership.organization_id),
            f"memberships-{i}-role": membership.role,
        }
        data |= {f"memberships-{i}-{k}": v for k, v in extra.items()}
    data.update(changes)
    return data


def test_unticking_active_on_the_user_form_deactivates_through_the_service(
    admin_client: Client, world: World, requested: TrainerHandoff
) -> None:
    membership = Membership.objects.get(user=world.trainer)
    data = user_form(world.trainer, [(membership, {})])
    del data["is_active"]
    response = admin_client.post(admin_url(world.trainer, "change", world.trainer.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.trainer.refresh_from_db()
    requested.refresh_from_db()
    assert not world.trainer.is_active
    assert requested.status == S.CANCELLED and "deactivated" in requested.status_reason


def test_deleting_a_pt_membership_in_the_users_inline_hands_over_to_the_clinic(
    admin_client: Client, world: World, requested: TrainerHandoff, clinic: Organization
) -> None:
    colleague = make_physio(clinic)
    membership = Membership.objects.get(user=world.physio)
    data = user_form(world.physio, [(membership, {"DELETE": "on"})])
    response = admin_client.post(admin_url(world.physio, "change", world.physio.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=world.physio).exists()
    assert told(requested, kind=HandoffEvent.Kind.HANDOVER) == {colleague, world.trainer}


def test_moving_a_pt_membership_to_another_clinic_in_the_admin_is_leaving_then_joining(
    admin_client: Client,
    world: World,
    requested: TrainerHandoff,
    clinic: Organization,
    other_clinic: Organization,
) -> None:
    colleague = make_physio(clinic)
    membership = Membership.objects.get(user=world.physio)
    response = admin_client.post(
        admin_url(membership, "change", membership.pk),
        {"user": str(world.physio.pk), "organization": str(other_clinic.pk), "role": membership.role},
    )
    assert response.status_code == 302
    assert list(Membership.objects.filter(user=world.physio).values_list("organization", flat=True)) == [
        other_clinic.pk
    ]
    assert told(requested, kind=HandoffEvent.Kind.HANDOVER) == {colleague, world.trainer}
    assert (
        not handoffs_selectors.handoff_list_for_user(user=User.objects.get(pk=world.physio.pk))
        .filter(pk=requested.pk)
        .exists()
    )
