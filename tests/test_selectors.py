"""The shared read paths used by the pages and the API: the exercise library and the trainers directory."""

from __future__ import annotations

from typing import Any

from accounts.models import Organization, Specialization, User
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.library import selectors as library_selectors
from referrals.library.models import Exercise
from tests import factories as f
from tests.conftest import make_trainer


def test_exercise_search_matches_every_word_of_the_name(db: Any) -> None:
    name = Exercise.objects.order_by("name").values_list("name", flat=True)[3]
    words = name.lower().split()
    found = list(library_selectors.exercise_list(search=" ".join(reversed(words))))
    assert name in [e.name for e in found]
    assert all(all(w in e.name.lower() for w in words) for e in found)


def test_exercise_filters_by_category_and_region(db: Any) -> None:
    found = list(library_selectors.exercise_list(category="strength", body_region="knee"))
    assert found
    assert {(e.category, e.body_region) for e in found} == {("strength", "knee")}


def test_physio_sees_trainers_of_active_partner_gyms_only(
    physio: User, trainer: User, unpartnered_trainer: User, gym: Organization
) -> None:
    users = [m.user for m in handoffs_eligibility.trainer_list_for_user(user=physio)]
    assert trainer in users
    assert unpartnered_trainer not in users
    gym.clinic_partnerships.update(active=False)
    assert list(handoffs_eligibility.trainer_list_for_user(user=physio)) == []


def test_trainer_directory_filters(
    physio: User, trainer: User, other_trainer: User, gym: Organization
) -> None:
    f.TrainerSpecializationFactory(profile=trainer.trainer_profile, specialization=Specialization.POST_REHAB)
    other_trainer.trainer_profile.accepting_new_clients = False
    other_trainer.trainer_profile.save()
    by_spec = handoffs_eligibility.trainer_list_for_user(
        user=physio, specialization=Specialization.POST_REHAB
    )
    assert [m.user for m in by_spec] == [trainer]
    accepting = handoffs_eligibility.trainer_list_for_user(user=physio, accepting=True)
    assert [m.user for m in accepting] == [trainer]
    at_gym = handoffs_eligibility.trainer_list_for_user(user=physio, gym_public_id=gym.public_id)
    assert {m.user for m in at_gym} == {trainer, other_trainer}


def test_a_trainer_sees_colleagues_of_their_own_gym(trainer: User, other_trainer: User, db: Any) -> None:
    elsewhere = make_trainer(f.GymFactory())
    users = {m.user for m in handoffs_eligibility.trainer_list_for_user(user=trainer)}
    assert users == {trainer, other_trainer}
    assert elsewhere not in users


def test_anonymous_sees_no_trainer(anonymous: Any, trainer: User) -> None:
    assert list(handoffs_eligibility.trainer_list_for_user(user=anonymous)) == []


# --- the PT home's lists: the handoff's own clinic column ------------------------------------------------


def _sent(physio: User, trainer: User, gym: Organization, clinic: Organization) -> Any:
    patient = f.PatientFactory(clinic=clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=gym, recorded_by=physio)
    return handoffs_sending.plan_discharge(plan=plan, trainer=trainer, gym=gym, actor=physio)


def test_the_pt_home_lists_hold_the_clinic_s_handoffs_only(
    physio: User,
    trainer: User,
    other_trainer: User,
    gym: Organization,
    clinic: Organization,
    other_clinic: Organization,
    other_clinic_physio: User,
) -> None:
    f.PartnershipFactory(clinic=other_clinic, gym=gym)
    waiting_old = _sent(physio, trainer, gym, clinic)
    waiting_new = _sent(physio, other_trainer, gym, clinic)
    declined = _sent(physio, trainer, gym, clinic)
    handoffs_services.handoff_reject(handoff=declined, actor=trainer, reason="Full.")
    elsewhere = _sent(other_clinic_physio, trainer, gym, other_clinic)
    handoffs_services.handoff_reject(
        handoff=_sent(other_clinic_physio, trainer, gym, other_clinic), actor=trainer, reason="No."
    )
    assert {h.clinic_id for h in (waiting_old, declined)} == {
        clinic.pk
    } and elsewhere.clinic_id == other_clinic.pk
    assert list(handoffs_selectors.handoff_list_waiting_for_clinic_user(user=physio)) == [
        waiting_old,
        waiting_new,
    ]
    assert set(handoffs_selectors.handoff_list_open_for_clinic_user(user=physio)) == {
        waiting_old,
        waiting_new,
    }
    assert list(handoffs_selectors.handoff_attention_list_for_user(user=physio)) == [declined]
    # offered again since: no longer needs the PT's attention
    handoffs_sending.plan_discharge(plan=declined.plan, trainer=other_trainer, gym=gym, actor=physio)
    assert list(handoffs_selectors.handoff_attention_list_for_user(user=physio)) == []
    # a trainer is no physiotherapist: none of the clinic's lists
    assert list(handoffs_selectors.handoff_list_waiting_for_clinic_user(user=trainer)) == []
    assert list(handoffs_selectors.handoff_list_open_for_clinic_user(user=trainer)) == []
    assert list(handoffs_selectors.handoff_attention_list_for_user(user=trainer)) == []
