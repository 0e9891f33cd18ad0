"""The plan's report interval (TreatmentPlan.report_interval_weeks, 1-26, default 4) in every editor: the
plan page's form, the API and the admin; a field error when out of range, nothing stored; shown on the
plan page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from referrals.care.models import TreatmentPlan
from referrals.library.models import Exercise
from tests import factories as f
from tests.conftest import World, login
from tests.test_views import plan_post

pytestmark = pytest.mark.django_db


def _rows() -> list[dict[str, object]]:
    exercise = Exercise.objects.order_by("name").first()
    assert exercise is not None
    return [{"exercise": exercise.pk, "reps": "10"}]


def test_a_new_plan_from_the_page_gets_the_default_or_the_interval_given(
    client: Client, world: World
) -> None:
    login(client, world.physio)
    patient = world.plan.patient
    target = reverse("plan_create", kwargs={"public_id": patient.public_id})
    assert client.post(target, plan_post(_rows(), diagnosis="Default")).status_code == 302
    assert TreatmentPlan.objects.get(diagnosis="Default").report_interval_weeks == 4
    data = plan_post(_rows(), diagnosis="Every two", report_interval_weeks="2")
    assert client.post(target, data).status_code == 302
    plan = TreatmentPlan.objects.get(diagnosis="Every two")
    assert plan.report_interval_weeks == 2
    page = client.get(reverse("plan_detail", kwargs={"public_id": plan.public_id}))
    assert b"Progress report every 2 weeks" in page.content


@pytest.mark.parametrize("bad", ["0", "27", "x"])
def test_an_interval_out_of_range_is_a_field_error_on_the_page_and_nothing_is_stored(
    client: Client, world: World, bad: str
) -> None:
    login(client, world.physio)
    target = reverse("plan_edit", kwargs={"public_id": world.plan.public_id})
    response = client.post(target, plan_post(_rows(), diagnosis="Changed", report_interval_weeks=bad))
    assert response.status_code == 400
    assert response.context["form"].errors["report_interval_weeks"]
    world.plan.refresh_from_db()
    assert (world.plan.diagnosis, world.plan.report_interval_weeks) != ("Changed", 4)
    assert world.plan.report_interval_weeks == 4


def test_the_plan_editor_starts_from_the_plans_interval(client: Client, world: World) -> None:
    TreatmentPlan.objects.filter(pk=world.plan.pk).update(report_interval_weeks=6)
    login(client, world.physio)
    page = client.get(reverse("plan_edit", kwargs={"public_id": world.plan.public_id}))
    assert page.context["form"]["report_interval_weeks"].value() == 6
    detail = client.get(reverse("plan_detail", kwargs={"public_id": world.plan.public_id}))
    assert b"Progress report every 6 weeks" in detail.content


def test_the_api_reads_and_writes_the_interval_with_field_level_errors(client: Client, world: World) -> None:
    login(client, world.physio)
    url = reverse("api:plan_detail", args=[world.plan.public_id])
    assert client.get(url).json()["report_interval_weeks"] == 4
    bad = client.patch(url, {"report_interval_weeks": 27}, content_type="application/json")
    assert bad.status_code == 400 and "report_interval_weeks" in bad.json()["fields"]
    world.plan.refresh_from_db()
    assert world.plan.report_interval_weeks == 4
    good = client.patch(url, {"report_interval_weeks": 1}, content_type="application/json")
    assert good.status_code == 200 and good.json()["report_interval_weeks"] == 1
    created = client.post(
        reverse("api:plan_list"),
        {"patient": str(world.plan.patient.public_id), "diagnosis": "New", "goals": "Walk"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["report_interval_weeks"] == 4


def test_the_admin_plan_form_has_the_interval_with_its_range(world: World) -> None:
    from referrals.admin.care import TreatmentPlanAdmin

    fields = [name for _, options in TreatmentPlanAdmin.fieldsets for name in options["fields"]]
    assert "report_interval_weeks" in fields
    field = TreatmentPlan._meta.get_field("report_interval_weeks")
    plan = f.PlanFactory(patient=world.plan.patient, physiotherapist=world.physio)
    plan.report_interval_weeks = 30
    with pytest.raises(ValidationError) as raised:
        plan.full_clean()
    assert "report_interval_weeks" in raised.value.message_dict
    assert field.default == 4
