"""One error shape for every failure; bad input is a 400 naming the field, never a 500, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from referrals.care.models import Consent, Patient, PlanExercise, TreatmentPlan
from tests.api.conftest import API, assert_error


def patient_body(**overrides: Any) -> dict[str, Any]:
    return {"full_name": "Robin Reyes", "date_of_birth": "1980-02-03", **overrides}


def plan_body(patient: Patient, **overrides: Any) -> dict[str, Any]:
    return {
        "patient": str(patient.public_id),
        "diagnosis": "Patellofemoral pain",
        "goals": "Climb stairs without pain.",
        "exercises": [{"exercise": 1, "sets": 3, "reps": 10}],
        "precautions": [{"kind": "pain_rule", "limit_value": "3", "limit_unit": "pain"}],
        "red_flags": ["Swelling after a session"],
        **overrides,
    }


def test_malformed_json_is_a_400_parse_error(api_for: Any, physio: Any) -> None:
    response = api_for(physio).post(f"{API}/patients/", data="{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Patient.objects.exists()


def test_another_media_type_is_a_415(api_for: Any, physio: Any) -> None:
    response = api_for(physio).post(f"{API}/patients/", data="full_name=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_a_wrong_method_is_a_405(api_for: Any, physio: Any) -> None:
    assert_error(api_for(physio).delete(f"{API}/patients/"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"full_name": "x" * 151}, "full_name"),
        ({"full_name": 12}, "full_name"),  # the schema says text: a number is refused, not coerced
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"email": "not-an-email"}, "email"),
        ({"full_name": ["a", "list"]}, "full_name"),
        ({"full_name": "nul\x00byte"}, "full_name"),
    ],
)
def test_bad_patient_input_names_the_field_and_stores_nothing(
    api_for: Any, physio: Any, override: dict[str, Any], field: str | None
) -> None:
    response = api_for(physio).post(f"{API}/patients/", patient_body(**override), format="json")
    if field is None:
        assert response.status_code == 201
        return
    body = assert_error(response, 400, "invalid")
    assert field in body["fields"], body
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"diagnosis": "x" * 4001}, "diagnosis"),
        ({"exercises": [{"exercise": 1, "sets": "three", "reps": 10}]}, "exercises.0.sets"),
        ({"exercises": [{"exercise": 1, "sets": 99, "reps": 10}]}, "exercises.0.sets"),
        ({"exercises": [{"exercise": 1, "reps": 10, "load_unit": "stone"}]}, "exercises.0.load_unit"),
        ({"exercises": [{"exercise": 999999, "reps": 10}]}, "exercises.0.exercise"),
        ({"exercises": [{"exercise": 1}]}, "exercises.0.reps"),
        ({"exercises": [{"exercise": 1, "reps": 10, "hold_seconds": 30}]}, "exercises.0.hold_seconds"),
        ({"precautions": [{"kind": "telepathy"}]}, "precautions.0.kind"),
        (
            {"precautions": [{"kind": "rom_limit", "limit_value": "90", "limit_unit": "deg"}]},
            "precautions.0.body_region",
        ),
        ({"red_flags": ["x" * 501]}, "red_flags.0"),
        ({"icd10_code": "nonsense"}, "icd10_code"),
        ({"exercises": "not a list"}, "exercises"),
    ],
)
def test_bad_plan_input_names_the_nested_field_and_stores_nothing(
    api_for: Any, world: Any, override: dict[str, Any], field: str
) -> None:
    before = (TreatmentPlan.objects.count(), PlanExercise.objects.count())
    response = api_for(world.physio).post(
        f"{API}/plans/", plan_body(world.plan.patient, **override), format="json"
    )
    body = assert_error(response, 400, "invalid")
    assert field in body["fields"], body
    assert (TreatmentPlan.objects.count(), PlanExercise.objects.count()) == before


def test_a_plan_is_written_with_its_rows_nested(api_for: Any, world: Any) -> None:
    response = api_for(world.physio).post(f"{API}/plans/", plan_body(world.plan.patient), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exercises"][0]["exercise"] == 1 and body["exercises"][0]["reps"] == 10
    assert body["precautions"][0]["kind"] == "pain_rule"
    assert body["red_flags"] == ["Swelling after a session"]
    # a PATCH with a list replaces the rows; without one it leaves them
    url = f"{API}/plans/{body['id']}/"
    response = api_for(world.physio).patch(url, {"red_flags": []}, format="json")
    assert response.json()["red_flags"] == [] and len(response.json()["exercises"]) == 1


def test_a_reference_outside_your_scope_is_a_400_that_discloses_nothing(
    api_for: Any, world: Any, other_clinic_physio: Any
) -> None:
    response = api_for(other_clinic_physio).post(
        f"{API}/plans/", plan_body(world.plan.patient), format="json"
    )
    assert assert_error(response, 400)["fields"] == {"patient": ["No such patient."]}


def test_unknown_enum_values_in_query_strings_are_400s(api_for: Any, physio: Any) -> None:
    client = api_for(physio)
    for url, field in (
        (f"{API}/handoffs/?status=lost", "status"),
        (f"{API}/handoffs/?updated_since=last-tuesday", "updated_since"),
        (f"{API}/handoffs/?ordering=patient", "ordering"),
        (f"{API}/notifications/?updated_since=2026-13-45", "updated_since"),
        (f"{API}/exercises/?category=yoga", "category"),
        (f"{API}/trainers/?specialization=astrology", "specialization"),
        (f"{API}/handoffs/?page_size=101", "page_size"),
        (f"{API}/handoffs/?page_size=0", "page_size"),
        (f"{API}/handoffs/?cursor=garbage", "cursor"),
    ):
        assert field in assert_error(client.get(url), 400, "invalid")["fields"], url


def test_a_duplicate_consent_is_a_400_on_the_gym(api_for: Any, world: Any) -> None:
    body = {
        "patient": str(world.plan.patient.public_id),
        "gym": str(world.gym.public_id),
        "scope": "guidelines",
    }
    error = assert_error(api_for(world.physio).post(f"{API}/consents/", body, format="json"), 400)
    assert "gym" in error["fields"]
    assert Consent.objects.count() == 1


def test_a_trainer_cannot_add_patients(api_for: Any, trainer: Any) -> None:
    response = api_for(trainer).post(f"{API}/patients/", patient_body(), format="json")
    assert_error(response, 403, "not_permitted")
    assert not Patient.objects.exists()


def test_anonymous_requests_get_a_401_in_the_error_shape(client: Any, db: Any) -> None:
    body = assert_error(APIClient().get(f"{API}/handoffs/"), 401, "not_authenticated")
    assert body["detail"]


def test_a_revoked_or_made_up_token_is_a_401(db: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer hnd_madeup")
    assert_error(client.get(f"{API}/handoffs/"), 401, "authentication_failed")


def test_throttling_is_a_429_in_the_error_shape(
    api_for: Any, physio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})
    cache.clear()
    client = api_for(physio)
    for _ in range(3):
        assert client.get(f"{API}/exercises/").status_code == 200
    body = assert_error(client.get(f"{API}/exercises/"), 429, "throttled")
    assert body["retry_after"] > 0
    anonymous = APIClient()
    statuses = [anonymous.get(f"{API}/schema/").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_withdrawing_a_withdrawn_consent_is_a_409_and_changes_nothing(api_for: Any, world: Any) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    client = api_for(world.physio)
    url = f"{API}/consents/{consent.public_id}/withdraw/"
    assert client.post(url, {"reason": "moved away"}, format="json").status_code == 200
    consent.refresh_from_db()
    withdrawn_at = consent.withdrawn_at
    assert_error(client.post(url, {"reason": "again"}, format="json"), 409, "consent_withdrawn")
    consent.refresh_from_db()
    assert consent.withdrawn_at == withdrawn_at and consent.withdrawal_reason == "moved away"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("patients/", {"full_name": "Robin Reyes", "date_of_birth": "1980-02-03", "phone": 5}, "phone"),
        ("patients/", {"full_name": True, "date_of_birth": "1980-02-03"}, "full_name"),
        ("patients/", {"full_name": "Robin Reyes", "date_of_birth": 19800203}, "date_of_birth"),
        (
            "patients/",
            {"full_name": "R", "date_of_birth": "1980-02-03", "confirm_distinct": 1},
            "confirm_distinct",
        ),
    ],
)
def test_a_json_value_of_another_type_than_the_schema_says_is_refused_not_coerced(
    api_for: Any, physio: Any, url: str, body: dict[str, Any], field: str
) -> None:
    response = api_for(physio).post(f"{API}/{url}", body, format="json")
    assert field in assert_error(response, 400, "invalid")["fields"]
    assert not Patient.objects.exists()


def test_nested_rows_of_another_type_are_named_by_their_path(api_for: Any, world: Any) -> None:
    body = plan_body(
        world.plan.patient,
        exercises=[{"exercise": 1, "sets": "3"}],
        red_flags=["fine", 7],
        precautions=[{"kind": "pain_rule", "limit_value": 3}],
    )
    before = TreatmentPlan.objects.count()
    fields = assert_error(api_for(world.physio).post(f"{API}/plans/", body, format="json"), 400)["fields"]
    assert {"exercises.0.sets", "red_flags.1", "precautions.0.limit_value"} <= set(fields), fields
    assert TreatmentPlan.objects.count() == before


def test_a_concern_with_a_number_for_hold_is_refused(api_for: Any, world: Any, requested: Any) -> None:
    url = f"{API}/handoffs/{requested.public_id}/concern/"
    response = api_for(world.trainer).post(url, {"text": "Knee pain", "hold": 0}, format="json")
    assert "hold" in assert_error(response, 400)["fields"]
    assert not requested.events.filter(kind="concern").exists()


def test_the_page_tells_that_a_consent_was_already_withdrawn(client: Any, world: Any) -> None:
    from django.contrib.messages import get_messages
    from django.urls import reverse

    from tests.conftest import login

    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    login(client, world.physio)
    url = reverse("consent_withdraw", args=[consent.public_id])
    assert client.post(url, {"reason": "moved away"}).status_code == 302
    again = client.post(url, {"reason": "again"})
    assert again.status_code == 302
    assert any("already withdrawn" in str(m) for m in get_messages(again.wsgi_request))
    consent.refresh_from_db()
    assert consent.withdrawal_reason == "moved away"
