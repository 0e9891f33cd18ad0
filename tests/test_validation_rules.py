"""Issue 13, "Validation" and "One rule for pages and API": ICD-10 chapter U, dates a clinic would not mean,
rows capped per plan, one text limit per field on the page, the API and the admin, consent only for a
partner gym. Each rule lives in a model or a service; the page and the API are both asked here."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Organization, User
from referrals.api.serializers import care as serializers_care
from referrals.api.serializers import concerns as serializers_concerns
from referrals.api.serializers import handoffs as serializers_handoffs
from referrals.care import services as care_services
from referrals.care.models import (
    PLAN_MAX_EXERCISES,
    PLAN_MAX_PRECAUTIONS,
    PLAN_MAX_RED_FLAGS,
    Consent,
    Patient,
    PlanExercise,
    Precaution,
    RedFlag,
    TreatmentPlan,
)
from referrals.common import text_limit
from referrals.concerns.models import CONCERN_MAX_LENGTH, CONCERN_NOTE_MAX_LENGTH
from referrals.handoffs.models import REASON_MAX_LENGTH, TrainerHandoff
from referrals.library.models import Exercise
from referrals.web import forms as web_forms
from tests import factories as f
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import World, login, login_with_second_factor
from tests.test_views import plan_post, url

pytestmark = pytest.mark.django_db


def _plan_body(patient: Patient, **extra: Any) -> dict[str, Any]:
    return {"patient": str(patient.public_id), "diagnosis": "Knee pain", "goals": "Stairs"} | extra


# --- ICD-10 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["U07.1", "U09.9", "u09.9", "U07"])
def test_icd10_codes_of_chapter_u_are_accepted_by_the_service_and_the_api(world: World, code: str) -> None:
    patient = world.plan.patient
    plan = care_services.plan_create(
        patient=patient, actor=world.physio, diagnosis="Post-COVID", goals="Walk", icd10_code=code
    )
    assert plan.icd10_code == code.upper()
    response = token_client(world.physio).post(
        f"{API}/plans/", _plan_body(patient, icd10_code=code), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["icd10_code"] == code.upper()


@pytest.mark.parametrize("code", ["U0", "UU7.1", "7U0.1", "U07.12345", "U07-1", "COVID"])
def test_icd10_nonsense_is_still_refused(world: World, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        care_services.plan_create(
            patient=world.plan.patient, actor=world.physio, diagnosis="x", goals="y", icd10_code=code
        )
    assert "icd10_code" in caught.value.message_dict


# --- dates ----------------------------------------------------------------------------------------------


def test_a_plan_cannot_start_before_the_patient_was_born_on_the_page_and_in_the_api(
    client: Client, world: World
) -> None:
    patient = world.plan.patient  # born 1968-05-17
    before = TreatmentPlan.objects.count()
    page = login(client, world.physio).post(
        url("plan_create", patient), plan_post([], start_date="1960-01-01")
    )
    assert page.status_code == 400
    assert page.context["form"].errors["start_date"] == ["The plan cannot start before the patient was born."]
    body = assert_error(
        token_client(world.physio).post(
            f"{API}/plans/", _plan_body(patient, start_date="1968-05-16"), format="json"
        ),
        400,
        "invalid",
    )
    assert body["fields"] == {"start_date": ["The plan cannot start before the patient was born."]}
    assert TreatmentPlan.objects.count() == before
    care_services.plan_create(
        patient=patient, actor=world.physio, diagnosis="x", goals="y", start_date=datetime.date(1968, 5, 17)
    )  # the day of birth itself is a date a clinic can mean (a newborn)


def test_moving_a_plan_start_before_birth_is_refused_and_the_plan_is_unchanged(world: World) -> None:
    plan = world.plan
    start = plan.start_date
    response = token_client(world.physio).patch(
        f"{API}/plans/{plan.public_id}/", {"start_date": "1900-01-01"}, format="json"
    )
    assert assert_error(response, 400)["fields"] == {
        "start_date": ["The plan cannot start before the patient was born."]
    }
    plan.refresh_from_db()
    assert plan.start_date == start


def test_a_precaution_ending_before_the_plan_starts_is_a_field_error_of_its_row(
    client: Client, world: World
) -> None:
    patient = world.plan.patient
    row = {"kind": "load_limit", "body_region": "knee", "limit_value": "10", "limit_unit": "kg"}
    before = TreatmentPlan.objects.count()
    page = login(client, world.physio).post(
        url("plan_create", patient),
        plan_post([], [row | {"valid_until": "2026-01-31"}], start_date="2026-02-01"),
    )
    assert page.status_code == 400
    assert page.context["precaution_rows"].forms[0].errors["valid_until"] == [
        "A precaution cannot end before the plan starts (2026-02-01)."
    ]
    api_row = row | {"valid_until": "2026-01-31"}  # the API takes decimals as text, as documented
    body = assert_error(
        token_client(world.physio).post(
            f"{API}/plans/",
            _plan_body(patient, start_date="2026-02-01", precautions=[api_row]),
            format="json",
        ),
        400,
    )
    assert body["fields"] == {
        "precautions.0.valid_until": ["A precaution cannot end before the plan starts (2026-02-01)."]
    }
    assert TreatmentPlan.objects.count() == before
    ok = care_services.plan_create(
        patient=patient,
        actor=world.physio,
        diagnosis="x",
        goals="y",
        start_date=datetime.date(2026, 2, 1),
        precautions=[row | {"valid_until": datetime.date(2026, 2, 1)}],
    )
    assert ok.precautions.count() == 1  # ending on the first day is fine


def test_moving_the_start_after_a_kept_precaution_ends_is_refused(world: World) -> None:
    plan = world.plan
    ends = plan.precautions.get().valid_until
    assert ends is not None
    later = ends + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        care_services.plan_update(plan=plan, actor=world.physio, start_date=later)
    assert list(caught.value.message_dict) == ["start_date"]
    plan.refresh_from_db()
    assert plan.start_date != later
    # with new precautions in the same edit, the rows are what is checked
    care_services.plan_update(plan=plan, actor=world.physio, start_date=later, precautions=[])
    plan.refresh_from_db()
    assert plan.start_date == later


def test_a_future_date_of_birth_is_refused_by_the_api_and_the_admin(
    client: Client, physio: User, clinic: Organization, superuser: User
) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    body = assert_error(
        token_client(physio).post(
            f"{API}/patients/",
            {"full_name": "Ruth Park", "date_of_birth": tomorrow.isoformat()},
            format="json",
        ),
        400,
    )
    assert body["fields"] == {"date_of_birth": ["The date of birth cannot be in the future."]}
    admin = login_with_second_factor(client, superuser)
    response = admin.post(
        "/admin/referrals/patient/add/",
        {"full_name": "Ruth Park", "clinic": clinic.pk, "date_of_birth": tomorrow.isoformat()},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date_of_birth"] == [
        "The date of birth cannot be in the future."
    ]
    assert not Patient.objects.filter(full_name="Ruth Park").exists()


# --- rows per plan --------------------------------------------------------------------------------------


def test_the_row_caps_are_the_agreed_constants() -> None:
    assert (PLAN_MAX_EXERCISES, PLAN_MAX_PRECAUTIONS, PLAN_MAX_RED_FLAGS) == (60, 30, 30)


def _rows(key: str, n: int, exercise: Exercise) -> list[Any]:
    if key == "exercises":
        return [{"exercise": exercise.pk, "sets": 3, "reps": 10} for _ in range(n)]
    if key == "precautions":
        return [{"kind": "avoid_movement", "detail": "No deep squats"} for _ in range(n)]
    return ["Knee gives way"] * n


CAPS = [
    ("exercises", PLAN_MAX_EXERCISES, "At most 60 exercises per plan."),
    ("precautions", PLAN_MAX_PRECAUTIONS, "At most 30 precautions per plan."),
    ("red_flags", PLAN_MAX_RED_FLAGS, "At most 30 red flags per plan."),
]


@pytest.mark.parametrize(("key", "cap", "message"), CAPS)
def test_the_service_refuses_one_row_more_than_the_cap_and_keeps_the_plan(
    world: World, key: str, cap: int, message: str
) -> None:
    exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    plan = world.plan
    kept = (plan.exercises.count(), plan.precautions.count(), plan.red_flags.count())
    with pytest.raises(ValidationError) as caught:
        care_services.plan_update(plan=plan, actor=world.physio, **{key: _rows(key, cap + 1, exercise)})
    assert caught.value.message_dict == {key: [message]}
    assert (plan.exercises.count(), plan.precautions.count(), plan.red_flags.count()) == kept
    care_services.plan_update(plan=plan, actor=world.physio, **{key: _rows(key, cap, exercise)})
    assert getattr(plan, key).count() == cap


@pytest.mark.parametrize(("key", "cap", "message"), CAPS)
def test_the_api_refuses_one_row_more_than_the_cap_with_the_same_message(
    world: World, key: str, cap: int, message: str
) -> None:
    exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    client = token_client(world.physio)
    before = TreatmentPlan.objects.count()
    rows = _rows(key, cap + 1, exercise)
    body = assert_error(
        client.post(f"{API}/plans/", _plan_body(world.plan.patient, **{key: rows}), format="json"), 400
    )
    assert body["fields"] == {key: [message]}
    patch = client.patch(f"{API}/plans/{world.plan.public_id}/", {key: rows}, format="json")
    assert assert_error(patch, 400)["fields"] == {key: [message]}
    assert TreatmentPlan.objects.count() == before


def test_the_page_refuses_31_red_flags_with_the_services_message(client: Client, world: World) -> None:
    patient = world.plan.patient
    data = plan_post([], [], **{"red_flags-TOTAL_FORMS": "31"})
    data |= {f"red_flags-{i}-description": f"Flag {i}" for i in range(31)}
    response = login(client, world.physio).post(url("plan_create", patient), data)
    assert response.status_code == 400
    # more rows than a plan may hold are refused before any row is read, with the service's message
    assert "At most 30 red flags per plan." in response.context["refused"]
    assert not TreatmentPlan.objects.filter(patient=patient).exclude(pk=world.plan.pk).exists()


def test_the_admin_refuses_one_red_flag_more_than_the_cap(
    client: Client, world: World, superuser: User
) -> None:
    plan = world.plan
    admin = login_with_second_factor(client, superuser)
    form = admin.get(f"/admin/referrals/treatmentplan/{plan.pk}/change/").context["adminform"].form
    data: dict[str, Any] = {
        name: (value.pk if hasattr(value, "pk") else value)
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data["start_date"] = plan.start_date.isoformat()
    for prefix in ("exercises", "precautions"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    data |= {"handoffs-TOTAL_FORMS": 0, "handoffs-INITIAL_FORMS": 0}
    flags = plan.red_flags.all()
    data |= {"red_flags-TOTAL_FORMS": 31, "red_flags-INITIAL_FORMS": flags.count()}
    for i, flag in enumerate(flags):
        data |= {
            f"red_flags-{i}-id": flag.pk,
            f"red_flags-{i}-plan": plan.pk,
            f"red_flags-{i}-description": "x",
        }
    for i in range(flags.count(), 31):
        data |= {f"red_flags-{i}-plan": plan.pk, f"red_flags-{i}-description": f"Flag {i}"}
    # the exercises and precautions already there are kept as they are
    for prefix, rows_qs in (("exercises", plan.exercises.all()), ("precautions", plan.precautions.all())):
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = rows_qs.count()
        for i, row in enumerate(rows_qs):
            data |= {f"{prefix}-{i}-id": row.pk, f"{prefix}-{i}-plan": plan.pk}
            for field in (
                care_services.EXERCISE_FIELDS if prefix == "exercises" else care_services.PRECAUTION_FIELDS
            ):
                value = getattr(row, f"{field}_id", None) if field == "exercise" else getattr(row, field)
                data[f"{prefix}-{i}-{field}"] = "" if value is None else value
            if isinstance(row, PlanExercise):
                data[f"{prefix}-{i}-position"] = row.position
    response = admin.post(f"/admin/referrals/treatmentplan/{plan.pk}/change/", data)
    assert response.status_code == 200, response.content[:500]
    errors = [
        str(e)
        for formset in response.context["inline_admin_formsets"]
        for e in formset.formset.non_form_errors()
    ]
    assert "At most 30 red flags per plan." in errors
    assert plan.red_flags.count() == 1


# --- one limit per text field ---------------------------------------------------------------------------


def test_every_text_input_reads_the_models_limit() -> None:
    """Forms, serializers and the model agree, so no limit can drift from another."""
    red_flags = serializers_care.PlanInputSerializer().fields["red_flags"]
    assert isinstance(red_flags, serializers.ListField)
    pairs: list[tuple[django_forms.Field, serializers.Field[Any, Any, Any, Any], int]] = [
        (
            web_forms.PatientForm.base_fields["full_name"],
            serializers_care.PatientInputSerializer().fields["full_name"],
            text_limit(Patient, "full_name"),
        ),
        (
            web_forms.PatientForm.base_fields["phone"],
            serializers_care.PatientInputSerializer().fields["phone"],
            text_limit(Patient, "phone"),
        ),
        (
            web_forms.PlanForm.base_fields["diagnosis"],
            serializers_care.PlanInputSerializer().fields["diagnosis"],
            text_limit(TreatmentPlan, "diagnosis"),
        ),
        (
            web_forms.PlanForm.base_fields["goals"],
            serializers_care.PlanInputSerializer().fields["goals"],
            text_limit(TreatmentPlan, "goals"),
        ),
        (
            web_forms.PlanForm.base_fields["icd10_code"],
            serializers_care.PlanUpdateSerializer().fields["icd10_code"],
            text_limit(TreatmentPlan, "icd10_code"),
        ),
        (
            web_forms.PlanExerciseForm.base_fields["notes"],
            serializers_care.PlanExerciseInputSerializer().fields["notes"],
            text_limit(PlanExercise, "notes"),
        ),
        (
            web_forms.PlanExerciseForm.base_fields["progression_note"],
            serializers_care.PlanExerciseInputSerializer().fields["progression_note"],
            text_limit(PlanExercise, "progression_note"),
        ),
        (
            web_forms.PlanExerciseForm.base_fields["tempo"],
            serializers_care.PlanExerciseInputSerializer().fields["tempo"],
            text_limit(PlanExercise, "tempo"),
        ),
        (
            web_forms.PrecautionForm.base_fields["detail"],
            serializers_care.PrecautionInputSerializer().fields["detail"],
            text_limit(Precaution, "detail"),
        ),
        (
            web_forms.RedFlagForm.base_fields["description"],
            red_flags.child,
            text_limit(RedFlag, "description"),
        ),
        (
            web_forms.WithdrawConsentForm.base_fields["reason"],
            serializers_care.ConsentWithdrawSerializer().fields["reason"],
            text_limit(Consent, "withdrawal_reason"),
        ),
        (
            web_forms.ReasonForm().fields["text"],
            serializers_handoffs.ReasonInputSerializer().fields["reason"],
            REASON_MAX_LENGTH,
        ),
        (
            web_forms.concern_form().fields["text"],
            serializers_concerns.ConcernInputSerializer().fields["text"],
            CONCERN_MAX_LENGTH,
        ),
        (
            web_forms.ConcernResolveForm().fields["note"],
            serializers_concerns.ConcernResolveInputSerializer().fields["note"],
            CONCERN_NOTE_MAX_LENGTH,
        ),
    ]
    for form_field, api_field, limit in pairs:
        assert isinstance(form_field, django_forms.CharField), form_field
        assert isinstance(api_field, serializers.CharField), api_field
        assert form_field.max_length == api_field.max_length == limit, (form_field, api_field, limit)
    assert text_limit(TreatmentPlan, "diagnosis") == 4000  # the API's limit, now the page's too
    assert text_limit(TrainerHandoff, "status_reason") == REASON_MAX_LENGTH


def _too_long(limit: int) -> str:
    return "x" * (limit + 1)


PLAN_TEXT = [
    ("diagnosis", text_limit(TreatmentPlan, "diagnosis")),
    ("goals", text_limit(TreatmentPlan, "goals")),
    ("icd10_code", text_limit(TreatmentPlan, "icd10_code")),
]
EXERCISE_TEXT = [
    ("notes", text_limit(PlanExercise, "notes")),
    ("progression_note", text_limit(PlanExercise, "progression_note")),
    ("tempo", text_limit(PlanExercise, "tempo")),
]


@pytest.mark.parametrize(("field", "limit"), [("full_name", 150), ("phone", 40)])
def test_a_patient_text_one_over_its_limit_is_a_field_error_on_page_and_api(
    client: Client, physio: User, field: str, limit: int
) -> None:
    assert text_limit(Patient, field) == limit
    data = {"full_name": "Ruth Park", "date_of_birth": "1980-02-03", "phone": ""} | {field: _too_long(limit)}
    page = login(client, physio).post(url("patient_create"), data)
    assert list(page.context["form"].errors) == [field]
    api = assert_error(token_client(physio).post(f"{API}/patients/", data, format="json"), 400)
    assert list(api["fields"]) == [field]
    assert not Patient.objects.filter(date_of_birth=datetime.date(1980, 2, 3)).exists()


@pytest.mark.parametrize(("field", "limit"), PLAN_TEXT)
def test_a_plan_text_one_over_its_limit_is_a_field_error_on_page_and_api(
    client: Client, world: World, field: str, limit: int
) -> None:
    patient = world.plan.patient
    before = TreatmentPlan.objects.count()
    page = login(client, world.physio).post(
        url("plan_create", patient), plan_post([], [], **{field: _too_long(limit)})
    )
    assert list(page.context["form"].errors) == [field]
    api = assert_error(
        token_client(world.physio).post(
            f"{API}/plans/", _plan_body(patient, **{field: _too_long(limit)}), format="json"
        ),
        400,
    )
    assert list(api["fields"]) == [field]
    assert TreatmentPlan.objects.count() == before


@pytest.mark.parametrize(("field", "limit"), EXERCISE_TEXT)
def test_an_exercise_text_one_over_its_limit_is_a_field_error_on_page_and_api(
    client: Client, world: World, field: str, limit: int
) -> None:
    patient = world.plan.patient
    exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    before = TreatmentPlan.objects.count()
    row = {"exercise": exercise.pk, "reps": "10", field: _too_long(limit)}
    page = login(client, world.physio).post(url("plan_create", patient), plan_post([row]))
    assert field in page.context["exercise_rows"].forms[0].errors
    api_row = {"exercise": exercise.pk, "reps": 10, field: _too_long(limit)}
    api = assert_error(
        token_client(world.physio).post(
            f"{API}/plans/", _plan_body(patient, exercises=[api_row]), format="json"
        ),
        400,
    )
    assert list(api["fields"]) == [f"exercises.0.{field}"]
    assert TreatmentPlan.objects.count() == before


def test_a_precaution_detail_and_a_red_flag_one_over_their_limits_are_field_errors_on_page_and_api(
    client: Client, world: World
) -> None:
    patient = world.plan.patient
    before = TreatmentPlan.objects.count()
    detail = _too_long(text_limit(Precaution, "detail"))
    flag = _too_long(text_limit(RedFlag, "description"))
    page = login(client, world.physio).post(
        url("plan_create", patient),
        plan_post([], [{"kind": "avoid_movement", "detail": detail}], **{"red_flags-0-description": flag}),
    )
    assert "detail" in page.context["precaution_rows"].forms[0].errors
    assert "description" in page.context["red_flag_rows"].forms[0].errors
    api = assert_error(
        token_client(world.physio).post(
            f"{API}/plans/",
            _plan_body(patient, precautions=[{"kind": "avoid_movement", "detail": detail}], red_flags=[flag]),
            format="json",
        ),
        400,
    )
    assert set(api["fields"]) == {"precautions.0.detail", "red_flags.0"}
    assert TreatmentPlan.objects.count() == before


def test_a_consent_withdrawal_reason_one_over_its_limit_is_refused_on_page_and_api(
    client: Client, world: World
) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    reason = _too_long(text_limit(Consent, "withdrawal_reason"))
    page = login(client, world.physio).post(url("consent_withdraw", consent), {"reason": reason}, follow=True)
    assert any("at most" in str(m) for m in page.context["messages"])
    api = assert_error(
        token_client(world.physio).post(
            f"{API}/consents/{consent.public_id}/withdraw/", {"reason": reason}, format="json"
        ),
        400,
    )
    assert list(api["fields"]) == ["reason"]
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def test_a_decline_reason_and_a_concern_one_over_their_limits_are_field_errors_on_page_and_api(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    trainer = login(client, world.trainer)
    reason = _too_long(REASON_MAX_LENGTH)
    page = trainer.post(url("handoff_action", requested, action="reject"), {"reject-text": reason})
    assert page.status_code == 400
    api = assert_error(
        token_client(world.trainer).post(
            f"{API}/handoffs/{requested.public_id}/reject/", {"reason": reason}, format="json"
        ),
        400,
    )
    assert list(api["fields"]) == ["reason"]
    text = _too_long(CONCERN_MAX_LENGTH)
    page = trainer.post(url("handoff_concern", requested), {"concern-text": text})
    assert page.status_code == 400 and "text" in page.context["concern_form"].errors
    api = assert_error(
        token_client(world.trainer).post(
            f"{API}/handoffs/{requested.public_id}/concern/", {"text": text}, format="json"
        ),
        400,
    )
    assert list(api["fields"]) == ["text"]
    requested.refresh_from_db()
    assert requested.status == "requested" and not requested.events.filter(kind="concern").exists()


# --- consent only for a partner gym ---------------------------------------------------------------------


def test_the_api_records_consent_only_for_a_partner_gym(world: World, unpartnered_gym: Organization) -> None:
    patient = world.plan.patient
    client = token_client(world.physio)
    body = {"patient": str(patient.public_id), "gym": str(unpartnered_gym.public_id), "scope": "guidelines"}
    error = assert_error(client.post(f"{API}/consents/", body, format="json"), 400, "invalid")
    assert list(error["fields"]) == ["gym"]
    assert not Consent.objects.filter(gym=unpartnered_gym).exists()
    f.PartnershipFactory(clinic=patient.clinic, gym=unpartnered_gym)
    assert client.post(f"{API}/consents/", body, format="json").status_code == 201


def test_the_service_refuses_consent_for_a_gym_whose_partnership_ended(world: World) -> None:
    patient = world.plan.patient
    gym = f.GymFactory(name="Former Partner Gym")
    f.PartnershipFactory(clinic=patient.clinic, gym=gym, active=False)
    with pytest.raises(ValidationError) as caught:
        care_services.consent_record(
            patient=patient, gym=gym, scope=Consent.Scope.GUIDELINES, actor=world.physio
        )
    assert list(caught.value.message_dict) == ["gym"]
