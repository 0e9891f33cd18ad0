"""The shared read paths used by the pages and the API: the exercise library and the trainers directory."""

from __future__ import annotations

from typing import Any

from accounts.models import Organization, Specialization, User
from referrals import selectors
from referrals.models import Exercise
from tests import factories as f
from tests.conftest import make_trainer


def test_exercise_search_matches_every_word_of_the_name(db: Any) -> None:
    name = Exercise.objects.order_by("name").values_list("name", flat=True)[3]
    words = name.lower().split()
    found = list(selectors.exercise_list(search=" ".join(reversed(words))))
    assert name in [e.name for e in found]
    assert all(all(w in e.name.lower() for w in words) for e in found)


def test_exercise_filters_by_category_and_region(db: Any) -> None:
    found = list(selectors.exercise_list(category="strength", body_region="knee"))
    assert found
    assert {(e.category, e.body_region) for e in found} == {("strength", "knee")}


def test_physio_sees_trainers_of_active_partner_gyms_only(
    physio: User, trainer: User, unpartnered_trainer: User, gym: Organization
) -> None:
    users = [m.user for m in selectors.trainer_directory_for_user(user=physio)]
    assert trainer in users
    assert unpartnered_trainer not in users
    gym.clinic_partnerships.update(active=False)
    assert list(selectors.trainer_directory_for_user(user=physio)) == []


def test_trainer_directory_filters(
    physio: User, trainer: User, other_trainer: User, gym: Organization
) -> None:
    f.TrainerSpecializationFactory(profile=trainer.trainer_profile, specialization=Specialization.POST_REHAB)
    other_trainer.trainer_profile.accepting_new_clients = False
    other_trainer.trainer_profile.save()
    by_spec = selectors.trainer_directory_for_user(user=physio, specialization=Specialization.POST_REHAB)
    assert [m.user for m in by_spec] == [trainer]
    accepting = selectors.trainer_directory_for_user(user=physio, accepting=True)
    assert [m.user for m in accepting] == [trainer]
    at_gym = selectors.trainer_directory_for_user(user=physio, gym_public_id=gym.public_id)
    assert {m.user for m in at_gym} == {trainer, other_trainer}


def test_a_trainer_sees_colleagues_of_their_own_gym(trainer: User, other_trainer: User, db: Any) -> None:
    elsewhere = make_trainer(f.GymFactory())
    users = {m.user for m in selectors.trainer_directory_for_user(user=trainer)}
    assert users == {trainer, other_trainer}
    assert elsewhere not in users


def test_anonymous_sees_no_trainer(anonymous: Any, trainer: User) -> None:
    assert list(selectors.trainer_directory_for_user(user=anonymous)) == []
