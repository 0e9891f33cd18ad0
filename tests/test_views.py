"""The pages of this issue: login, home, the handoff page emails link to, notifications. Who gets what."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import TrainerProfile, User
from referrals.care import selectors as care_selectors
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.library.models import Exercise
from referrals.notify.models import Notification
from tests import factories as f
from tests.conftest import World, login, make_trainer

pytestmark = pytest.mark.django_db


def detail_url(handoff: TrainerHandoff) -> str:
    return reverse("handoff_detail", kwargs={"public_id": handoff.public_id})


def test_login_with_email_and_password_leads_home(client: Client, physio: Any) -> None:
    response = client.post(
        reverse("login"), {"username": physio.email, "password": f.TEST_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert b"Hello, Pat Physio" in response.content


def test_wrong_password_shows_a_form_error(client: Client, physio: Any) -> None:
    response = client.post(reverse("login"), {"username": physio.email, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


@pytest.mark.parametrize("name", ["home", "notification_list"])
def test_anonymous_is_sent_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_physio_home_lists_patients_and_handoffs_waiting(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    response = login(client, world.physio).get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Jamie Patient" in body and "Waiting for an answer" in body


def test_trainer_home_names_the_new_client_without_clinical_detail(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    body = login(client, world.trainer).get(reverse("home")).content.decode()
    assert "New referrals" in body and "Lakeside Physio" in body
    # the client by name (consent stands), not a fragment of the referral's id
    assert f'<a href="{detail_url(requested)}" data-testid="client-name">Jamie Patient</a>' in body
    assert str(requested.public_id)[:8] not in body.replace(detail_url(requested), "")
    assert "rotator cuff" not in body.lower() and "M75.1" not in body
    assert 'data-testid="unread-count">1<' in body


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physio", 200),
        ("trainer", 200),
        ("other_trainer", 404),
        ("other_clinic_physio", 404),
        ("unpartnered_trainer", 404),
        ("clinic_admin", 404),
    ],
)
def test_handoff_page_is_seen_only_by_its_clinic_and_its_trainer(
    client: Client, requested: TrainerHandoff, request: Any, persona: str, expected: int
) -> None:
    user = request.getfixturevalue(persona)
    assert login(client, user).get(detail_url(requested)).status_code == expected


def test_handoff_page_for_anonymous_redirects_to_login(client: Client, requested: TrainerHandoff) -> None:
    response = client.get(detail_url(requested))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_draft_is_invisible_to_the_trainer(client: Client, world: World, draft: TrainerHandoff) -> None:
    assert login(client, world.trainer).get(detail_url(draft)).status_code == 404


def test_trainer_sees_guidelines_with_precautions_but_not_the_undisclosed_diagnosis(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    body = login(client, world.trainer).get(detail_url(requested)).content.decode()
    assert "Load limit (Shoulder): 5 kg" in body
    assert "Night pain or numbness down the arm" in body
    assert "rotator cuff" not in body.lower() and "M75.1" not in body


def test_trainer_loses_the_guidelines_when_consent_is_withdrawn(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="changed mind")
    body = login(client, world.trainer).get(detail_url(requested)).content.decode()
    assert "Cancelled" in body
    assert "no longer shared" in body and "Night pain" not in body


def test_timeline_lists_every_event_with_who(client: Client, world: World, requested: TrainerHandoff) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Fully booked")
    body = login(client, world.physio).get(detail_url(requested)).content.decode()
    assert body.count('data-testid="event"') == 3  # created, sent, rejected
    assert "Fully booked" in body and world.trainer.full_name in body


def test_opening_a_notification_marks_it_read_and_leads_to_its_handoff(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    note = Notification.objects.get(recipient=world.trainer)
    response = login(client, world.trainer).get(
        reverse("notification_open", kwargs={"public_id": note.public_id})
    )
    assert response.status_code == 302 and response["Location"] == detail_url(requested)
    note.refresh_from_db()
    assert note.read_at is not None


def test_someone_elses_notification_is_a_404_and_stays_unread(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    note = Notification.objects.get(recipient=world.trainer)
    url = reverse("notification_open", kwargs={"public_id": note.public_id})
    assert login(client, other_trainer).get(url).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_notification_list_shows_own_notifications(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    body = login(client, world.trainer).get(reverse("notification_list")).content.decode()
    assert "New referral from Lakeside Physio" in body


def test_pages_refuse_post(client: Client, world: World) -> None:
    assert login(client, world.physio).post(reverse("home")).status_code == 405


def test_home_query_count_does_not_grow_with_handoffs(
    client: Client, world: World, clinic: Any, django_assert_max_num_queries: Any
) -> None:
    def add_handoffs(n: int) -> None:
        for _ in range(n):
            plan = f.PlanFactory(patient=f.PatientFactory(clinic=clinic), physiotherapist=world.physio)
            f.PlanExerciseFactory(plan=plan)
            f.ConsentFactory(patient=plan.patient, gym=world.gym, recorded_by=world.physio)
            handoffs_sending.handoff_create(
                plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
            )

    login(client, world.physio)
    add_handoffs(5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("home")).status_code == 200
    add_handoffs(45)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse("home")).status_code == 200


def test_a_declined_referral_leaves_needs_attention_once_the_plan_is_offered_again(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Fully booked")
    login(client, world.physio)
    attention = client.get(reverse("home")).context["attention"]
    assert [h.pk for h in attention] == [requested.pk]
    handoffs_sending.plan_discharge(plan=world.plan, trainer=other_trainer, gym=world.gym, actor=world.physio)
    assert list(client.get(reverse("home")).context["attention"]) == []


def test_login_email_is_case_insensitive(client: Client, physio: Any) -> None:
    response = client.post(
        reverse("login"), {"username": "  PAT@Lakeside.TEST ", "password": f.TEST_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.parametrize("ending", ["reject", "cancel"])
def test_a_trainer_who_declined_or_was_cancelled_no_longer_sees_the_guidelines(
    client: Client, world: World, requested: TrainerHandoff, ending: str
) -> None:
    if ending == "reject":
        handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="full")
    else:
        handoffs_services.handoff_cancel(handoff=requested, actor=world.physio, reason="patient moved")
    body = login(client, world.trainer).get(detail_url(requested)).content.decode()
    assert "no longer shared" in body
    assert "Night pain" not in body and "Jamie Patient" not in body
    physio_body = login(client, world.physio).get(detail_url(requested)).content.decode()
    assert "Night pain" in physio_body


# --- the pages of the physiotherapist's and the trainer's day -----------------------------------------

PERSONAS = ("physio", "other_clinic_physio", "trainer", "other_trainer", "unpartnered_trainer")


def url(name: str, obj: Any = None, **kwargs: Any) -> str:
    if obj is not None:
        kwargs["public_id"] = obj.public_id
    return reverse(name, kwargs=kwargs or None)


def as_user(client: Client, request: Any, persona: str) -> Client:
    if persona == "anonymous":
        return client
    return login(client, request.getfixturevalue(persona))


def assert_outcome(response: Any, expected: int | str) -> None:
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physio", 200),
        ("other_clinic_physio", 404),
        ("trainer", 404),
        ("other_trainer", 404),
        ("unpartnered_trainer", 404),
        ("anonymous", "login"),
    ],
)
@pytest.mark.parametrize("name", ["patient_detail", "patient_edit", "plan_create"])
def test_patient_pages_are_the_clinics_own(
    client: Client, world: World, request: Any, persona: str, expected: Any, name: str
) -> None:
    assert_outcome(as_user(client, request, persona).get(url(name, world.plan.patient)), expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physio", 200),
        ("other_clinic_physio", 404),
        ("trainer", 404),
        ("other_trainer", 404),
        ("unpartnered_trainer", 404),
        ("anonymous", "login"),
    ],
)
@pytest.mark.parametrize("name", ["plan_detail", "plan_edit", "plan_discharge"])
def test_plan_pages_are_the_clinics_own(
    client: Client, world: World, request: Any, persona: str, expected: Any, name: str
) -> None:
    assert_outcome(as_user(client, request, persona).get(url(name, world.plan)), expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    # another clinic's physiotherapist gets a page of their own clinic (the list test checks the scope)
    [("physio", 200), ("other_clinic_physio", 200), ("trainer", 403), ("anonymous", "login")],
)
@pytest.mark.parametrize("name", ["patient_list", "patient_create"])
def test_patient_list_and_create_are_for_physiotherapists(
    client: Client, request: Any, persona: str, expected: Any, name: str
) -> None:
    assert_outcome(as_user(client, request, persona).get(url(name)), expected)


def test_patient_list_shows_only_the_clinics_patients(
    client: Client, world: World, other_clinic_physio: Any, other_clinic: Any
) -> None:
    f.PatientFactory(clinic=other_clinic, full_name="Hidden Person")
    body = login(client, world.physio).get(url("patient_list")).content.decode()
    assert "Jamie Patient" in body and "Hidden Person" not in body
    searched = client.post(url("patient_list"), {"q": "nobody"}, follow=True)
    assert searched.redirect_chain == [(url("patient_list"), 302)]
    assert "No patient matches" in searched.content.decode()


def test_patient_search_keeps_the_name_out_of_every_url(client: Client, world: World, clinic: Any) -> None:
    for i in range(30):
        f.PatientFactory(clinic=clinic, full_name=f"Robin Searchable {i:02d}")
    login(client, world.physio)
    response = client.post(url("patient_list"), {"q": "Robin Searchable"}, follow=True)
    body = response.content.decode()
    assert "Jamie Patient" not in body and "Robin Searchable 00" in body
    assert all("Robin" not in target and "Searchable" not in target for target, _ in response.redirect_chain)
    assert 'rel="next"' in body and "q=" not in body.split('rel="next"')[0].rsplit("<a", 1)[-1]
    second = client.get(url("patient_list") + "?page=2").content.decode()
    assert "Robin Searchable" in second and "Jamie Patient" not in second  # the search holds across pages
    cleared = client.post(url("patient_list"), {"q": ""}, follow=True).content.decode()
    assert "Jamie Patient" in cleared


def test_physio_adds_a_patient(client: Client, physio: Any, clinic: Any) -> None:
    response = login(client, physio).post(
        url("patient_create"), {"full_name": "Ruth Park", "date_of_birth": "1980-02-03", "email": ""}
    )
    patient = Patient.objects.get(full_name="Ruth Park")
    assert response.status_code == 302 and response["Location"] == url("patient_detail", patient)
    assert patient.clinic == clinic and patient.created_by == physio


def test_a_future_date_of_birth_is_a_field_error_and_nothing_is_stored(client: Client, physio: Any) -> None:
    response = login(client, physio).post(
        url("patient_create"), {"full_name": "Ruth Park", "date_of_birth": "2999-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date_of_birth": ["The date of birth cannot be in the future."]
    }
    assert not Patient.objects.filter(full_name="Ruth Park").exists()


def test_physio_edits_a_patient(client: Client, world: World) -> None:
    patient = world.plan.patient
    data = {"full_name": "Jamie Patient-Lee", "date_of_birth": "1968-05-17", "phone": "555 0100"}
    response = login(client, world.physio).post(url("patient_edit", patient), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.full_name == "Jamie Patient-Lee" and patient.phone == "555 0100"


def test_other_clinic_cannot_edit_a_patient(client: Client, world: World, other_clinic_physio: Any) -> None:
    patient = world.plan.patient
    data = {"full_name": "Hacked", "date_of_birth": "1968-05-17"}
    assert login(client, other_clinic_physio).post(url("patient_edit", patient), data).status_code == 404
    patient.refresh_from_db()
    assert patient.full_name == "Jamie Patient"


# --- consent -------------------------------------------------------------------------------------------


def test_physio_records_and_withdraws_consent(client: Client, physio: Any, clinic: Any, gym: Any) -> None:
    patient = f.PatientFactory(clinic=clinic)
    login(client, physio)
    response = client.post(url("consent_record", patient), {"gym": str(gym.public_id), "scope": "guidelines"})
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert consent.gym == gym and consent.is_active
    again = client.post(url("consent_record", patient), {"gym": str(gym.public_id), "scope": "guidelines"})
    assert again.status_code == 400
    assert "already has an active consent" in again.context["consent_form"].errors["gym"][0]
    assert Consent.objects.filter(patient=patient).count() == 1
    response = client.post(url("consent_withdraw", consent), {"reason": "moved away"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawal_reason == "moved away"


def test_consent_only_for_a_partner_gym(
    client: Client, physio: Any, clinic: Any, unpartnered_gym: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    response = login(client, physio).post(
        url("consent_record", patient), {"gym": str(unpartnered_gym.public_id), "scope": "guidelines"}
    )
    assert response.status_code == 400 and "gym" in response.context["consent_form"].errors
    assert not Consent.objects.filter(patient=patient).exists()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("other_clinic_physio", 404),
        ("trainer", 404),
        ("other_trainer", 404),
        ("unpartnered_trainer", 404),
        ("anonymous", "login"),
    ],
)
def test_outsiders_cannot_record_or_withdraw_consent(
    client: Client, world: World, request: Any, persona: str, expected: Any
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient)
    as_user(client, request, persona)
    data = {"gym": str(world.gym.public_id), "scope": "with_diagnosis"}
    assert_outcome(client.post(url("consent_record", world.plan.patient), data), expected)
    assert_outcome(client.post(url("consent_withdraw", consent), {}), expected)
    consent.refresh_from_db()
    assert consent.withdrawn_at is None and Consent.objects.count() == 1


def test_forms_need_csrf(world: World, requested: TrainerHandoff) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.physio)
    consent = Consent.objects.get(patient=world.plan.patient)
    assert strict.post(url("consent_withdraw", consent), {}).status_code == 403
    assert (
        strict.post(url("handoff_action", requested, action="cancel"), {"cancel-text": "x"}).status_code
        == 403
    )
    strict.force_login(world.trainer)
    assert strict.post(url("handoff_action", requested, action="accept"), {}).status_code == 403
    consent.refresh_from_db()
    requested.refresh_from_db()
    assert consent.withdrawn_at is None and requested.status == "requested"


# --- plans ---------------------------------------------------------------------------------------------


def plan_post(
    exercises: list[dict[str, Any]], precautions: Sequence[dict[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "diagnosis": "Patellofemoral pain",
        "goals": "Stairs without pain",
        "icd10_code": "",
        "start_date": "",
        "exercises-TOTAL_FORMS": str(len(exercises)),
        "exercises-INITIAL_FORMS": "0",
        "precautions-TOTAL_FORMS": str(len(precautions)),
        "precautions-INITIAL_FORMS": "0",
        "red_flags-TOTAL_FORMS": "1",
        "red_flags-INITIAL_FORMS": "0",
        "red_flags-0-description": "Knee gives way",
    }
    for i, row in enumerate(exercises):
        base = {"sets": "3", "frequency_per_week": "3"} | row
        data |= {f"exercises-{i}-{k}": v for k, v in base.items()}
    for i, row in enumerate(precautions):
        data |= {f"precautions-{i}-{k}": v for k, v in row.items()}
    return data | extra


def first_exercises(n: int) -> list[Exercise]:
    return list(Exercise.objects.order_by("name")[:n])


def test_physio_writes_a_plan_with_exercises_precautions_and_a_red_flag(
    client: Client, physio: Any, clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    a, b = first_exercises(2)
    data = plan_post(
        [
            {"exercise": a.pk, "reps": "10", "progression_note": "Add 2 reps a week if pain-free"},
            {"exercise": b.pk, "hold_seconds": "30", "sets": "2"},
        ],
        [{"kind": "load_limit", "body_region": "knee", "limit_value": "10", "limit_unit": "kg"}],
    )
    response = login(client, physio).post(url("plan_create", patient), data)
    plan = TreatmentPlan.objects.get(patient=patient)
    assert [x.progression_note for x in plan.exercises.all()] == ["Add 2 reps a week if pain-free", ""]
    assert response.status_code == 302 and response["Location"] == url("plan_detail", plan)
    assert [(x.exercise_id, x.sets, x.reps, x.hold_seconds) for x in plan.exercises.all()] == [
        (a.pk, 3, 10, None),
        (b.pk, 2, None, 30),
    ]
    assert [p.summary for p in plan.precautions.all()] == ["Load limit (Knee): 10 kg"]
    assert [flag.description for flag in plan.red_flags.all()] == ["Knee gives way"]


def test_invalid_dose_is_an_error_on_its_row_and_nothing_is_stored(
    client: Client, physio: Any, clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    a, b = first_exercises(2)
    data = plan_post([{"exercise": a.pk, "reps": "10"}, {"exercise": b.pk, "sets": "50", "reps": "12"}])
    response = login(client, physio).post(url("plan_create", patient), data)
    assert response.status_code == 400
    rows = response.context["exercise_rows"]
    assert rows.forms[0].errors == {}
    assert "sets" in rows.forms[1].errors
    assert not TreatmentPlan.objects.filter(patient=patient).exists()


def test_cross_field_errors_from_the_service_land_on_the_right_row(
    client: Client, physio: Any, clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    (a,) = first_exercises(1)
    data = plan_post(
        [{"exercise": a.pk}],  # no reps, hold or duration: the model says which field
        [{"kind": "load_limit", "body_region": "knee", "limit_value": "10", "limit_unit": "deg"}],
    )
    response = login(client, physio).post(url("plan_create", patient), data)
    assert response.status_code == 400
    assert "reps" in response.context["exercise_rows"].forms[0].errors
    assert "limit_unit" in response.context["precaution_rows"].forms[0].errors
    body = response.content.decode()
    assert "Give reps, a hold time in seconds or a duration in minutes." in body
    assert not TreatmentPlan.objects.filter(patient=patient).exists()


def test_add_and_remove_rows_keep_what_was_typed_and_store_nothing(
    client: Client, physio: Any, clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    a, b, c = first_exercises(3)
    rows = [{"exercise": a.pk, "reps": "5"}, {"exercise": b.pk, "reps": "6"}, {"exercise": c.pk, "reps": "7"}]
    login(client, physio)
    added = client.post(url("plan_create", patient), plan_post(rows, add="exercises"))
    forms_ = added.context["exercise_rows"].forms
    assert len(forms_) == 4 and [fm["reps"].value() for fm in forms_] == ["5", "6", "7", None]
    assert forms_[3]["sets"].value() == "3"  # a new row starts from the usual dose
    assert added.context["form"]["diagnosis"].value() == "Patellofemoral pain"
    removed = client.post(url("plan_create", patient), plan_post(rows, remove="exercises-1"))
    forms_ = removed.context["exercise_rows"].forms
    assert [fm["exercise"].value() for fm in forms_] == [str(a.pk), str(c.pk)]
    assert [fm["reps"].value() for fm in forms_] == ["5", "7"]
    assert added.status_code == removed.status_code == 200
    assert not TreatmentPlan.objects.filter(patient=patient).exists()


def test_the_library_filter_narrows_the_choices_but_keeps_the_chosen_one(
    client: Client, physio: Any, clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    chosen = Exercise.objects.get(name="Ankle Alphabet")
    data = plan_post([{"exercise": chosen.pk, "reps": "5"}], q="wall slides", filter="1")
    response = login(client, physio).post(url("plan_create", patient), data)
    choices = [
        label for value, label in response.context["exercise_rows"].forms[0].fields["exercise"].choices
    ]
    assert any(label.startswith("Wall Slides") for label in choices)
    assert any(label.startswith("Ankle Alphabet") for label in choices)
    assert len(choices) == 3  # the placeholder, the match, the one already chosen


def test_physio_edits_a_plan_and_the_sent_snapshot_stays(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    (a,) = first_exercises(1)
    data = plan_post([{"exercise": a.pk, "duration_minutes": "20"}], diagnosis="Changed")
    response = login(client, world.physio).post(url("plan_edit", world.plan), data)
    assert response.status_code == 302
    world.plan.refresh_from_db()
    assert world.plan.diagnosis == "Changed" and world.plan.exercises.count() == 1
    requested.refresh_from_db()
    assert requested.snapshot is not None
    assert len(requested.snapshot["exercises"]) == 2


def test_plan_edit_form_starts_from_the_plan(client: Client, world: World) -> None:
    response = login(client, world.physio).get(url("plan_edit", world.plan))
    rows = response.context["exercise_rows"]
    assert rows.initial_form_count() == 2 and len(rows.forms) == 3  # two rows and a blank one
    assert response.context["precaution_rows"].forms[0]["limit_value"].value() == Decimal("5.0")


def test_other_clinic_cannot_post_a_plan(client: Client, world: World, other_clinic_physio: Any) -> None:
    (a,) = first_exercises(1)
    login(client, other_clinic_physio)
    data = plan_post([{"exercise": a.pk, "reps": "5"}])
    assert client.post(url("plan_create", world.plan.patient), data).status_code == 404
    assert client.post(url("plan_edit", world.plan), data).status_code == 404
    assert TreatmentPlan.objects.count() == 1 and world.plan.exercises.count() == 2


# --- discharge -----------------------------------------------------------------------------------------


def test_discharge_page_shows_why_a_trainer_cannot_be_chosen(
    client: Client, world: World, gym: Any, unpartnered_trainer: Any
) -> None:
    full = make_trainer(gym, max_active_clients=1)
    other_plan = f.PlanFactory(
        patient=f.PatientFactory(clinic=world.plan.patient.clinic), physiotherapist=world.physio
    )
    f.PlanExerciseFactory(plan=other_plan)
    f.ConsentFactory(patient=other_plan.patient, gym=gym, recorded_by=world.physio)
    handoffs_sending.plan_discharge(plan=other_plan, trainer=full, gym=gym, actor=world.physio)
    expired = make_trainer(gym)
    expired.trainer_profile.certifications.update(expiry=f.in_days(-1))
    closed = make_trainer(gym, accepting_new_clients=False)
    response = login(client, world.physio).get(url("plan_discharge", world.plan))
    choices = {c.trainer.pk: c for c in response.context["choices"]}
    assert unpartnered_trainer.pk not in choices
    assert choices[world.trainer.pk].can_choose
    assert [b.code for b in choices[full.pk].blockers] == ["trainer_at_capacity"]
    assert [b.code for b in choices[expired.pk].blockers] == ["certification_expired"]
    assert [b.code for b in choices[closed.pk].blockers] == ["trainer_not_accepting"]
    body = response.content.decode()
    assert "no current (unexpired) trainer certification" in body and "not accepting new clients" in body
    for trainer_id, choice in choices.items():  # the page agrees with the check the send makes
        send_check = handoffs_eligibility.handoff_send_blockers(
            plan=world.plan, trainer=choice.trainer, gym=gym
        )
        assert [b.code for b in send_check] == [b.code for b in choice.blockers], trainer_id


def test_discharge_filters_by_specialization_and_accepting(client: Client, world: World, gym: Any) -> None:
    senior = make_trainer(gym)
    f.TrainerSpecializationFactory(profile=senior.trainer_profile, specialization="senior_fitness")
    closed = make_trainer(gym, accepting_new_clients=False)
    login(client, world.physio)
    by_spec = client.get(url("plan_discharge", world.plan) + "?specialization=senior_fitness")
    assert [c.trainer.pk for c in by_spec.context["choices"]] == [senior.pk]
    accepting = client.get(url("plan_discharge", world.plan) + "?accepting=on")
    assert closed.pk not in [c.trainer.pk for c in accepting.context["choices"]]


def test_without_consent_the_trainer_is_shown_with_the_reason(client: Client, world: World) -> None:
    Consent.objects.filter(patient=world.plan.patient).update(withdrawn_at=timezone.now())
    response = login(client, world.physio).get(url("plan_discharge", world.plan))
    assert [b.code for b in response.context["choices"][0].blockers] == ["no_consent"]
    review = client.get(review_url(world))
    assert review.status_code == 302 and review["Location"] == url("plan_discharge", world.plan)


def review_url(world: World, trainer: Any = None) -> str:
    trainer = trainer or world.trainer
    return f"{url('plan_discharge_review', world.plan)}?trainer={trainer.public_id}&gym={world.gym.public_id}"


def test_review_shows_the_guidelines_as_the_trainer_will_see_them(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, world.physio)
    review = client.get(review_url(world))
    assert review.status_code == 200
    preview = review.context["guidelines"]
    assert "rotator cuff" not in review.content.decode().lower()  # consent is guidelines only
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            url("plan_discharge_send", world.plan),
            {"trainer": str(world.trainer.public_id), "gym": str(world.gym.public_id)},
        )
    handoff = TrainerHandoff.objects.get(plan=world.plan)
    assert sent.status_code == 302 and sent["Location"] == url("handoff_detail", handoff)
    assert handoff.status == "requested"
    assert handoff.snapshot is not None
    assert {k: v for k, v in handoff.snapshot.items() if k != "sent_at"} == {
        k: v for k, v in preview.items() if k != "sent_at"
    }
    trainer_page = login(client, world.trainer).get(url("handoff_detail", handoff)).content.decode()
    # the very same fragment, character for character
    assert guidelines_section(trainer_page) == guidelines_section(review.content.decode())
    for item in preview["precautions"]:
        assert item["summary"] in trainer_page


def guidelines_section(body: str) -> str:
    found = re.search(r'<section class="card guidelines".*?</section>', body, re.S)
    assert found is not None
    return found.group(0)


def test_sending_to_a_blocked_trainer_is_a_message_not_a_500(client: Client, world: World) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(accepting_new_clients=False)
    response = login(client, world.physio).post(
        url("plan_discharge_send", world.plan),
        {"trainer": str(world.trainer.public_id), "gym": str(world.gym.public_id)},
        follow=True,
    )
    assert response.status_code == 200
    assert "is not accepting new clients" in response.content.decode()
    assert not TrainerHandoff.objects.filter(plan=world.plan).exists()


def test_a_second_send_while_one_is_open_is_a_message(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: Any
) -> None:
    response = login(client, world.physio).post(
        url("plan_discharge_send", world.plan),
        {"trainer": str(other_trainer.public_id), "gym": str(world.gym.public_id)},
        follow=True,
    )
    assert response.status_code == 200 and "already has an open referral" in response.content.decode()
    assert TrainerHandoff.objects.filter(plan=world.plan).count() == 1


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("other_clinic_physio", 404),
        ("trainer", 404),
        ("other_trainer", 404),
        ("unpartnered_trainer", 404),
        ("anonymous", "login"),
    ],
)
def test_outsiders_cannot_review_or_send(
    client: Client, world: World, request: Any, persona: str, expected: Any
) -> None:
    as_user(client, request, persona)
    assert_outcome(client.get(review_url(world)), expected)
    data = {"trainer": str(world.trainer.public_id), "gym": str(world.gym.public_id)}
    assert_outcome(client.post(url("plan_discharge_send", world.plan), data), expected)
    assert not TrainerHandoff.objects.exists()


def test_a_trainer_of_an_unpartnered_gym_cannot_be_chosen(
    client: Client, world: World, unpartnered_trainer: Any, unpartnered_gym: Any
) -> None:
    login(client, world.physio)
    data = {"trainer": str(unpartnered_trainer.public_id), "gym": str(unpartnered_gym.public_id)}
    assert client.post(url("plan_discharge_send", world.plan), data).status_code == 404
    assert not TrainerHandoff.objects.exists()


# --- handoff actions -----------------------------------------------------------------------------------


def act(client: Client, handoff: TrainerHandoff, action: str, text: str = "", **extra: Any) -> Any:
    prefix = "concern" if action == "concern" else action
    target = (
        url("handoff_concern", handoff)
        if action == "concern"
        else url("handoff_action", handoff, action=action)
    )
    return client.post(target, {f"{prefix}-text": text, **{f"{prefix}-{k}": v for k, v in extra.items()}})


def test_trainer_walks_a_referral_to_completion(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.trainer)
    for action, text, status in [
        ("accept", "", "accepted"),
        ("start", "", "in-progress"),
        ("hold", "Knee swelling", "on-hold"),
        ("resume", "", "in-progress"),
    ]:
        response = act(client, requested, action, text)
        assert response.status_code == 302, (action, response.content[:300])
        requested.refresh_from_db()
        assert requested.status == status
    # completing asks for the final progress report first: a message, the status unchanged
    refused = act(client, requested, "complete", "Twelve sessions, back to hiking")
    assert "Write the final progress report first" in client.get(refused["Location"]).content.decode()
    requested.refresh_from_db()
    assert requested.status == "in-progress"
    today = timezone.localdate().isoformat()
    report = {"period_start": today, "period_end": today, "impressions": "Back to hiking.", "final": "on"}
    sent = client.post(reverse("report_new", args=[requested.public_id]), {**report, "goal_0": "met"})
    assert sent.status_code == 302, sent.content[:500]
    response = act(client, requested, "complete", "Twelve sessions, back to hiking")
    requested.refresh_from_db()
    assert requested.status == "completed"
    last = requested.events.order_by("created_at", "id").last()
    assert last is not None and last.text == "Twelve sessions, back to hiking"
    page = client.get(url("handoff_detail", requested)).content.decode()
    assert page.count('data-testid="event"') == 8  # the report's event too


def test_declining_without_a_reason_is_a_field_error(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    response = act(login(client, world.trainer), requested, "reject", "  ")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_an_action_from_the_wrong_status_is_a_message_not_a_500(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    response = act(login(client, world.trainer), requested, "complete", "done")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "cannot become completed" in page
    requested.refresh_from_db()
    assert requested.status == "requested"


@pytest.mark.parametrize(
    ("persona", "action", "expected"),
    [
        ("physio", "accept", 403),
        ("other_trainer", "accept", 404),
        ("unpartnered_trainer", "accept", 404),
        ("other_clinic_physio", "cancel", 404),
        ("trainer", "cancel", 403),
        ("other_trainer", "concern", 404),
        ("physio", "concern", 403),
        ("anonymous", "accept", "login"),
    ],
)
def test_handoff_actions_persona_matrix(
    client: Client, requested: TrainerHandoff, request: Any, persona: str, action: str, expected: Any
) -> None:
    response = act(as_user(client, request, persona), requested, action, "some reason")
    assert_outcome(response, expected)
    requested.refresh_from_db()
    assert requested.status == "requested" and not requested.events.filter(kind="concern").exists()


def test_unknown_action_is_a_404_and_get_is_refused(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.trainer)
    assert act(client, requested, "explode").status_code == 404
    assert client.get(url("handoff_action", requested, action="accept")).status_code == 405


def test_physio_cancels_and_then_offers_the_plan_again(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.physio)
    assert act(client, requested, "cancel", "Patient moved").status_code == 302
    requested.refresh_from_db()
    assert requested.status == "cancelled" and requested.status_reason == "Patient moved"
    page = client.get(url("handoff_detail", requested))
    assert page.context["can_reoffer"] and "Offer the plan to another trainer" in page.content.decode()


def test_trainer_raises_an_urgent_concern_and_the_physio_sees_it(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    handoffs_services.handoff_start(handoff=requested, actor=world.trainer)
    login(client, world.trainer)
    assert act(client, requested, "concern", "").status_code == 400
    assert act(client, requested, "concern", "Sharp pain at 90 degrees", hold="on").status_code == 302
    requested.refresh_from_db()
    assert requested.status == "on-hold"
    note = Notification.objects.filter(recipient=world.physio, urgent=True).get()
    assert "raised a concern" in note.title
    home = login(client, world.physio).get(reverse("home")).content.decode()
    assert "Concern from" in home


def test_trainer_gets_the_actions_the_status_allows(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.trainer)
    names = [name for name, _, _ in client.get(url("handoff_detail", requested)).context["actions"]]
    assert names == ["accept", "reject"]
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    names = [name for name, _, _ in client.get(url("handoff_detail", requested)).context["actions"]]
    assert names == ["start", "complete", "fail"]
    physio_names = [
        name
        for name, _, _ in login(client, world.physio).get(url("handoff_detail", requested)).context["actions"]
    ]
    assert physio_names == ["cancel", "enter_in_error"]


def test_physio_withdraws_a_referral_sent_in_error_and_the_trainer_loses_the_guidelines(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.physio)
    assert act(client, requested, "enter_in_error", "Wrong patient chosen").status_code == 302
    requested.refresh_from_db()
    assert requested.status == "entered-in-error"
    assert requested.events.filter(to_status="entered-in-error", actor=world.physio).count() == 1
    assert act(client, requested, "enter_in_error", "again").status_code == 302  # a message, not a 500
    assert requested.events.filter(to_status="entered-in-error").count() == 1
    page = login(client, world.trainer).get(url("handoff_detail", requested))
    assert page.status_code == 200 and not page.context["show_guidelines"]


def test_trainer_cannot_mark_a_referral_entered_in_error(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    assert act(login(client, world.trainer), requested, "enter_in_error", "x").status_code == 403
    requested.refresh_from_db()
    assert requested.status == "requested"


# --- handout -------------------------------------------------------------------------------------------


def test_handout_is_printable_without_navigation(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    response = login(client, world.trainer).get(url("handoff_handout", requested))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="Main"' not in body and "css/handout.css" in body
    assert "Load limit (Shoulder): 5 kg" in body and "Night pain or numbness" in body
    assert "rotator cuff" not in body.lower()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physio", 200),
        ("trainer", 200),
        ("other_trainer", 404),
        ("other_clinic_physio", 404),
        ("unpartnered_trainer", 404),
        ("anonymous", "login"),
    ],
)
def test_handout_persona_matrix(
    client: Client, requested: TrainerHandoff, request: Any, persona: str, expected: Any
) -> None:
    assert_outcome(as_user(client, request, persona).get(url("handoff_handout", requested)), expected)


def test_no_handout_once_the_trainer_declined(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="full")
    assert login(client, world.trainer).get(url("handoff_handout", requested)).status_code == 404


# --- notifications -------------------------------------------------------------------------------------


def test_mark_all_read(client: Client, world: World, requested: TrainerHandoff) -> None:
    login(client, world.trainer)
    response = client.post(url("notification_mark_all_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=world.trainer, read_at__isnull=True).exists()
    assert client.get(url("notification_mark_all_read")).status_code == 405


# --- pages never leak markup that a Content-Security-Policy would block ---------------------------------


def test_pages_have_no_inline_script_style_or_handlers(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.physio)
    pages = [
        reverse("home"),
        url("patient_list"),
        url("patient_detail", world.plan.patient),
        url("plan_detail", world.plan),
        url("plan_edit", world.plan),
        url("plan_discharge", world.plan),
        url("handoff_detail", requested),
        url("handoff_handout", requested),
        url("notification_list"),
    ]
    for page in pages:
        body = client.get(page).content.decode()
        assert "<script>" not in body and " style=" not in body, page
        assert not re.search(r"\son[a-z]+=", body), page
        assert "https://" not in body and "http://" not in body.replace("http://www.w3.org", ""), page


# --- query counts: constant as the lists grow ----------------------------------------------------------


def assert_constant_queries(
    client: Client, page: str, grow: Callable[[int], object], assert_max: Any
) -> None:
    grow(5)
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    grow(45)
    with assert_max(len(small.captured_queries)):
        assert client.get(page).status_code == 200


def new_requested(world: World, clinic: Any, trainer: Any = None) -> TrainerHandoff:
    plan = f.PlanFactory(patient=f.PatientFactory(clinic=clinic), physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=plan.patient, gym=world.gym, recorded_by=world.physio)
    return handoffs_sending.plan_discharge(
        plan=plan, trainer=trainer or world.trainer, gym=world.gym, actor=world.physio
    )


def test_trainer_home_query_count_is_constant(
    client: Client, world: World, clinic: Any, django_assert_max_num_queries: Any
) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(max_active_clients=100)

    def grow(n: int) -> None:
        for i in range(n):
            handoff = new_requested(world, clinic)
            if i % 2:
                handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)

    login(client, world.trainer)
    assert_constant_queries(client, reverse("home"), grow, django_assert_max_num_queries)


def test_patient_list_query_count_is_constant(
    client: Client, physio: Any, clinic: Any, django_assert_max_num_queries: Any
) -> None:
    login(client, physio)
    grow = lambda n: f.PatientFactory.create_batch(n, clinic=clinic)  # noqa: E731
    assert_constant_queries(client, url("patient_list"), grow, django_assert_max_num_queries)


def test_patient_page_query_count_is_constant(
    client: Client, world: World, clinic: Any, other_trainer: Any, django_assert_max_num_queries: Any
) -> None:
    patient = world.plan.patient
    gyms = []

    def grow(n: int) -> None:
        for _ in range(n):
            plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
            f.PlanExerciseFactory(plan=plan)
            handoffs_sending.handoff_create(
                plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
            )
            gym = f.GymFactory()
            f.PartnershipFactory(clinic=clinic, gym=gym)
            gyms.append(f.ConsentFactory(patient=patient, gym=gym, recorded_by=world.physio))

    login(client, world.physio)
    assert_constant_queries(client, url("patient_detail", patient), grow, django_assert_max_num_queries)


def test_notification_list_query_count_is_constant(
    client: Client, world: World, clinic: Any, django_assert_max_num_queries: Any
) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(max_active_clients=100)
    login(client, world.trainer)
    grow = lambda n: [new_requested(world, clinic) for _ in range(n)]  # noqa: E731
    assert_constant_queries(client, url("notification_list"), grow, django_assert_max_num_queries)


def test_discharge_page_query_count_is_constant(
    client: Client, world: World, gym: Any, django_assert_max_num_queries: Any
) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            trainer = make_trainer(gym, accepting_new_clients=bool(i % 2))
            f.TrainerSpecializationFactory(profile=trainer.trainer_profile)

    login(client, world.physio)
    assert_constant_queries(client, url("plan_discharge", world.plan), grow, django_assert_max_num_queries)


def test_handoff_timeline_query_count_is_constant(
    client: Client, world: World, requested: TrainerHandoff, django_assert_max_num_queries: Any
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)

    def grow(n: int) -> None:
        for i in range(n):
            concerns_services.handoff_raise_concern(
                handoff=requested, actor=world.trainer, text=f"Concern {i}"
            )

    login(client, world.physio)
    assert_constant_queries(client, url("handoff_detail", requested), grow, django_assert_max_num_queries)


@pytest.mark.parametrize("name", ["plan_edit", "plan_detail"])
def test_plan_pages_query_count_is_constant(
    client: Client, world: World, django_assert_max_num_queries: Any, name: str
) -> None:
    exercises = list(Exercise.objects.order_by("name"))

    def grow(n: int) -> None:
        start = world.plan.exercises.count()
        for i in range(n):
            f.PlanExerciseFactory(plan=world.plan, position=start + i, exercise=exercises[(start + i) % 90])
            f.RedFlagFactory(plan=world.plan)

    login(client, world.physio)
    assert_constant_queries(client, url(name, world.plan), grow, django_assert_max_num_queries)


def test_home_paginates_open_handoffs(client: Client, world: World, clinic: Any) -> None:
    for _ in range(27):
        plan = f.PlanFactory(patient=f.PatientFactory(clinic=clinic), physiotherapist=world.physio)
        handoffs_sending.handoff_create(plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio)
    login(client, world.physio)
    first = client.get(reverse("home"))
    assert sum(len(rows) for _, rows in first.context["open_by_status"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(reverse("home") + "?open_page=2")
    assert sum(len(rows) for _, rows in second.context["open_by_status"]) == 2


def test_trainer_inbox_lists_new_referrals_first_then_active_clients(
    client: Client, world: World, clinic: Any, requested: TrainerHandoff
) -> None:
    later = new_requested(world, clinic)
    handoffs_services.handoff_accept(handoff=later, actor=world.trainer)  # changed last, but not new
    done = new_requested(world, clinic)
    handoffs_services.handoff_reject(handoff=done, actor=world.trainer, reason="full")
    response = login(client, world.trainer).get(reverse("home"))
    assert [h.pk for h in response.context["inbox_page"].object_list] == [requested.pk, later.pk]
    assert [h.pk for h, _, _ in response.context["new_referrals"]] == [requested.pk]
    assert [h.pk for h, _, _ in response.context["active_clients"]] == [later.pk]


def test_every_page_renders_for_every_demo_user(
    client: Client, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """The demo world (`manage.py seed_demo`) walked by each of its people: no page of theirs fails."""
    monkeypatch.setenv("HANDOFF_DEMO_PASSWORD", "a-test-demo-password")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=StringIO())
    pages = 0
    for user in User.objects.filter(memberships__isnull=False).distinct():
        login(client, user)
        urls = [reverse("home"), url("notification_list")]
        if care_selectors.patient_list_for_user(user=user).exists():
            urls.append(url("patient_list"))
        for patient in care_selectors.patient_list_for_user(user=user):
            urls += [
                url("patient_detail", patient),
                url("patient_edit", patient),
                url("plan_create", patient),
            ]
        for plan in care_selectors.plan_list_for_user(user=user):
            urls += [url("plan_detail", plan), url("plan_edit", plan), url("plan_discharge", plan)]
        for handoff in handoffs_selectors.handoff_list_for_user(user=user):
            urls.append(url("handoff_detail", handoff))
            if handoff.snapshot and handoffs_policies.can_view_guidelines(user, handoff):
                urls.append(url("handoff_handout", handoff))
        for page in urls:
            response = client.get(page)
            assert response.status_code == 200, (user.email, page, response.status_code)
            pages += 1
    assert pages > 30


def as_posted(*forms_: Any) -> dict[str, str]:
    """What a browser would post back for these forms, as rendered."""
    data: dict[str, str] = {}
    for form in forms_:
        for field in form:
            value = field.value()
            data[field.html_name] = "" if value is None else str(value)
    return data


def management(formset: Any) -> dict[str, str]:
    return {f"{formset.prefix}-{k}": str(v) for k, v in formset.management_form.initial.items()}


def test_removing_a_saved_row_then_saving_keeps_the_others(client: Client, world: World) -> None:
    login(client, world.physio)
    page = client.get(url("plan_edit", world.plan)).context
    kept = world.plan.exercises.all()[1]
    data = as_posted(page["form"])
    for name in ("exercise_rows", "precaution_rows", "red_flag_rows"):
        data |= as_posted(*page[name].forms) | management(page[name])
    removed = client.post(url("plan_edit", world.plan), data | {"remove": "exercises-0"}).context
    rows = removed["exercise_rows"]
    assert len(rows.forms) == 2  # the second saved row and the blank one
    assert rows.forms[0]["hold_seconds"].value() == str(kept.hold_seconds)
    repost = {k: v for k, v in data.items() if not k.startswith("exercises-")}
    repost |= as_posted(*rows.forms) | {"exercises-TOTAL_FORMS": "2", "exercises-INITIAL_FORMS": "1"}
    saved = client.post(url("plan_edit", world.plan), repost)
    assert saved.status_code == 302
    assert [(x.exercise_id, x.hold_seconds) for x in world.plan.exercises.all()] == [
        (kept.exercise_id, kept.hold_seconds)
    ]
