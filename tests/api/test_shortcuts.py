"""The hand-built performance shortcuts that stayed (issue 14: each earns its place with a figure from
`make bench` in its comment, and a test that runs it against the straightforward path it replaces, on
PostgreSQL and SQLite alike). The compiled token query (accounts.selectors.CompiledQuery) has its own in
tests/test_request_context.py; the email's title subquery (notifications._TITLE) in
tests/test_notifications.py; plan_discharge's one pass in tests/test_discharge_one_pass.py."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.db.models.fields.json import KT
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from referrals.api.serializers import handoffs as serializers_handoffs
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from tests.api.conftest import API
from tests.conftest import World


@pytest.fixture
def handoffs(world: World, requested: TrainerHandoff, other_trainer: Any) -> list[TrainerHandoff]:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    from tests import factories as f

    plan = f.PlanFactory(
        patient=f.PatientFactory(clinic=world.plan.patient.clinic), physiotherapist=world.physio
    )
    f.PlanExerciseFactory(plan=plan)
    draft = handoffs_sending.handoff_create(
        plan=plan, trainer=other_trainer, gym=world.gym, actor=world.physio
    )
    return [requested, draft]


@pytest.mark.parametrize("clinic_side", [True, False])
def test_the_summary_columns_set_up_once_give_the_rows_of_a_values_query_built_now(
    world: World, handoffs: list[TrainerHandoff], clinic_side: bool
) -> None:
    fields = handoffs_selectors.HANDOFF_SUMMARY_FIELDS + (
        handoffs_selectors.HANDOFF_SUMMARY_CLINIC_FIELDS if clinic_side else ()
    )
    built_now = TrainerHandoff.objects.values(
        *fields,
        snapshot_clinic=KT("snapshot__clinic"),
        snapshot_physiotherapist=KT("snapshot__physiotherapist"),
        snapshot_patient=KT("snapshot__patient__name"),
    )
    cached = handoffs_selectors._summary_columns(clinic_side)
    assert cached is handoffs_selectors._summary_columns(clinic_side)  # the one per process
    assert list(cached.order_by("id")) == list(built_now.order_by("id"))
    assert len(list(cached)) == 2


def test_the_list_s_hand_made_rows_say_what_the_detail_s_serializer_says(
    api_for: Any, world: World, handoffs: list[TrainerHandoff]
) -> None:
    for user in (world.physio, world.trainer):
        client = api_for(user)
        rows = client.get(f"{API}/handoffs/").json()["results"]
        assert rows
        for row in rows:
            # the URL formatted from one reverse() per page is the one reverse() gives for the row
            assert row["url"] == f"http://testserver{reverse('api:handoff_detail', args=[row['id']])}"
            detail = client.get(row["url"]).json()
            assert detail["id"] == row["id"]
            common = (set(row) & set(detail)) - {"url"}
            assert {
                "status",
                "status_reason",
                "clinic",
                "physiotherapist",
                "trainer",
                "gym",
                "sent_at",
            } <= common
            assert {key: row[key] for key in common} == {key: detail[key] for key in common}, user


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_the_list_s_date_formatting_is_drf_s(zone: str) -> None:
    field = serializers.DateTimeField()
    values = [
        datetime.datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=datetime.UTC),
        datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 1, 3, 30, 15, 120, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        tz = timezone.get_current_timezone()
        for value in values:
            assert serializers_handoffs._when(value, tz) == field.to_representation(value)
    assert serializers_handoffs._when(None, datetime.UTC) is None


def test_the_one_guidelines_serializer_gives_what_a_new_one_per_row_gives(
    world: World, handoffs: list[TrainerHandoff]
) -> None:
    snapshot = TrainerHandoff.objects.get(pk=handoffs[0].pk).snapshot
    assert snapshot is not None
    first = dict(serializers_handoffs._GUIDELINES.to_representation(snapshot))
    assert first == dict(serializers_handoffs.GuidelinesSerializer(snapshot).data)
    assert (
        dict(serializers_handoffs._GUIDELINES.to_representation(snapshot)) == first
    )  # stateless: the same again
