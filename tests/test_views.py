"""The pages of this issue: login, home, the handoff page emails link to, notifications. Who gets what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals import services
from referrals.models import Consent, Notification, TrainerHandoff
from tests import factories as f
from tests.conftest import World, login

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


def test_trainer_home_shows_new_referral_without_clinical_detail(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    body = login(client, world.trainer).get(reverse("home")).content.decode()
    assert "New referrals" in body and "Lakeside Physio" in body
    assert "rotator cuff" not in body.lower() and "Jamie Patient" not in body
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
    services.consent_withdraw(consent=consent, actor=world.physio, reason="changed mind")
    body = login(client, world.trainer).get(detail_url(requested)).content.decode()
    assert "Cancelled" in body
    assert "no longer shared" in body and "Night pain" not in body


def test_timeline_lists_every_event_with_who(client: Client, world: World, requested: TrainerHandoff) -> None:
    services.handoff_reject(handoff=requested, actor=world.trainer, reason="Fully booked")
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
            services.handoff_create(plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio)

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
    services.handoff_reject(handoff=requested, actor=world.trainer, reason="Fully booked")
    login(client, world.physio)
    attention = client.get(reverse("home")).context["attention"]
    assert [h.pk for h in attention] == [requested.pk]
    services.plan_discharge(plan=world.plan, trainer=other_trainer, gym=world.gym, actor=world.physio)
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
        services.handoff_reject(handoff=requested, actor=world.trainer, reason="full")
    else:
        services.handoff_cancel(handoff=requested, actor=world.physio, reason="patient moved")
    body = login(client, world.trainer).get(detail_url(requested)).content.decode()
    assert "no longer shared" in body
    assert "Night pain" not in body and "Jamie Patient" not in body
    physio_body = login(client, world.physio).get(detail_url(requested)).content.decode()
    assert "Night pain" in physio_body
