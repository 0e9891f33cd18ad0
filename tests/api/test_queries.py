"""Each list runs the same number of SQL queries for a page of 5 and a page of 100, and a detail the same
number whatever it holds: everything rendered is selected or prefetched, and nothing COUNTs the table."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from tests import factories as f
from tests.api.conftest import API
from tests.conftest import make_trainer

N = 12  # more than the small page, so a per-row query would show


@pytest.fixture
def busy_world(world: Any, gym: Any) -> Any:
    """N patients, each with a plan, a consent and a handoff sent to the trainer, who has accepted
    and started them all; more trainers at the gym with certifications and specializations."""
    profile = world.trainer.trainer_profile
    profile.max_active_clients = 100
    profile.save()
    handoffs = []
    for i in range(N):
        patient = f.PatientFactory(clinic=world.plan.patient.clinic, full_name=f"Patient {i:02d}")
        plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
        f.PlanExerciseFactory(plan=plan)
        f.PrecautionFactory(plan=plan)
        f.RedFlagFactory(plan=plan)
        f.ConsentFactory(patient=patient, gym=gym, recorded_by=world.physio)
        handoff = handoffs_sending.plan_discharge(
            plan=plan, trainer=world.trainer, gym=gym, actor=world.physio
        )
        handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
        handoffs.append(handoff)
    busy = handoffs[0]
    handoffs_services.handoff_start(handoff=busy, actor=world.trainer)
    for _ in range(N // 2):
        handoffs_services.handoff_hold(handoff=busy, actor=world.trainer, reason="A break.")
        handoffs_services.handoff_resume(handoff=busy, actor=world.trainer)
    for _ in range(N):
        other = make_trainer(gym)
        f.TrainerSpecializationFactory(profile=other.trainer_profile)
        f.TrainerSpecializationFactory(profile=other.trainer_profile, specialization="senior_fitness")
    world.busy = busy
    return world


def count(client: Any, url: str) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    sql = [q["sql"] for q in ctx.captured_queries]
    return len(ctx.captured_queries), len(response.json()["results"]), sql


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("physio", "patients/"),
        ("physio", "plans/"),
        ("physio", "consents/"),
        ("physio", "handoffs/"),
        ("physio", "trainers/"),
        ("physio", "exercises/"),
        ("physio", "notifications/"),
        ("trainer", "handoffs/"),
        ("trainer", "trainers/"),
        ("trainer", "notifications/"),
        ("physio", "events"),
        ("trainer", "events"),
    ],
)
def test_a_list_page_of_5_and_of_100_run_the_same_queries(
    api_for: Any, busy_world: Any, who: str, path: str
) -> None:
    client = api_for(getattr(busy_world, who))
    url = f"{API}/handoffs/{busy_world.busy.public_id}/events/" if path == "events" else f"{API}/{path}"
    client.get(url)  # warm-up: the token's once-a-minute last_used_at write is not the list's cost
    small, small_rows, _ = count(client, f"{url}?page_size=5")
    large, large_rows, sql = count(client, f"{url}?page_size=100")
    assert small_rows == 5 and large_rows > 5, (small_rows, large_rows)
    assert small == large, f"{path}: {small} queries for 5 rows, {large} for {large_rows}"
    assert not any("COUNT(" in q.upper() for q in sql), sql


def test_a_detail_runs_the_same_queries_whatever_it_holds(api_for: Any, busy_world: Any) -> None:
    client = api_for(busy_world.physio)
    client.get(f"{API}/patients/")  # warm-up: the token's last_used_at write
    small_plan = busy_world.plan
    big_plan = f.PlanFactory(patient=small_plan.patient, physiotherapist=busy_world.physio)
    for position in range(10):
        f.PlanExerciseFactory(plan=big_plan, position=position)
        f.PrecautionFactory(plan=big_plan)
        f.RedFlagFactory(plan=big_plan)
    with CaptureQueriesContext(connection) as small:
        client.get(f"{API}/plans/{small_plan.public_id}/")
    with CaptureQueriesContext(connection) as big:
        response = client.get(f"{API}/plans/{big_plan.public_id}/")
    assert len(response.json()["exercises"]) == 10
    assert len(small.captured_queries) == len(big.captured_queries)
    with CaptureQueriesContext(connection) as one:
        client.get(f"{API}/handoffs/{busy_world.busy.public_id}/")
    assert len(one.captured_queries) <= 5, [q["sql"] for q in one.captured_queries]
