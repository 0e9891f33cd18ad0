"""The reports API: who may write, read and answer; field errors; the figures in the output; consent."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from referrals.care import services as care_services
from referrals.care.models import Consent
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport, ReportReply
from tests.api.conftest import API, assert_error, token_client
from tests.conftest import World
from tests.progress import factories_reports as fr

pytestmark = pytest.mark.django_db


def body(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate().isoformat()
    return {
        "period_start": today,
        "period_end": today,
        "impressions": "Doing well.",
        "goals": ["met"],
        **overrides,
    }


def reports_url(handoff: TrainerHandoff) -> str:
    return f"{API}/handoffs/{handoff.public_id}/reports/"


def written(world: World, handoff: TrainerHandoff) -> ProgressReport:
    today = timezone.localdate()
    return progress_reports.report_submit(
        handoff=handoff,
        actor=world.trainer,
        period_start=today,
        period_end=today,
        impressions="Fine.",
        goals=["met"],
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physio", 403),
        ("other_clinic_physio", 404),
        ("trainer", 201),
        ("other_trainer", 404),
        ("unpartnered_trainer", 404),
        ("clinic_admin", 404),
        ("anonymous", 401),
    ],
)
def test_only_the_referrals_trainer_submits_a_report(
    accepted: TrainerHandoff, request: pytest.FixtureRequest, persona: str, expected: int
) -> None:
    client = APIClient() if persona == "anonymous" else token_client(request.getfixturevalue(persona))
    response = client.post(reports_url(accepted), body(), format="json")
    assert response.status_code == expected, response.content[:300]
    assert ProgressReport.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("physio", 201), ("trainer", 201), ("other_clinic_physio", 404), ("other_trainer", 404)],
)
def test_the_clinic_and_the_trainer_reply(
    world: World, accepted: TrainerHandoff, request: pytest.FixtureRequest, persona: str, expected: int
) -> None:
    report = written(world, accepted)
    client = token_client(request.getfixturevalue(persona))
    response = client.post(f"{API}/reports/{report.public_id}/replies/", {"text": "Noted."}, format="json")
    assert response.status_code == expected
    assert ReportReply.objects.count() == (1 if expected == 201 else 0)


def test_the_report_carries_its_figures_with_loinc_codes_and_units(
    world: World, accepted: TrainerHandoff
) -> None:
    fr.session(accepted, timezone.localdate(), mvpa_minutes=45, pain_before=2, pain_after=1, rpe=5)
    trainer = token_client(world.trainer)
    created = trainer.post(reports_url(accepted), body(final=True), format="json")
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["final"] is True and out["goals"] == [{"goal": world.plan.goals, "status": "met"}]
    signs = out["figures"]["vital_signs"]
    assert signs["mvpa_minutes_per_week"] == {
        "code": "82290-8",
        "display": "Minutes per week of moderate to vigorous physical activity",
        "value": 315.0,  # 45 minutes over one day: 45 / (1/7)
        "unit": "min/wk",
    }
    pt = token_client(world.physio)
    listed = pt.get(reports_url(accepted)).json()["results"]
    assert [r["id"] for r in listed] == [out["id"]]
    detail = pt.get(f"{API}/reports/{out['id']}/").json()
    assert detail["figures"] == out["figures"] and detail["acknowledged_at"] is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"goals": "met"}, "goals"),  # the JSON type is checked before anything else
        ({"goals": ["met", "partly"]}, "goals"),
        ({"goals": ["maybe"]}, "goals.0"),
        ({"period_end": "2999-01-01"}, "period_end"),
        ({"period_start": "2020-01-01"}, "period_start"),
        ({"impressions": ""}, "impressions"),
        ({"final": "true"}, "final"),
        ({"recommendations": "x" * 4001}, "recommendations"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    world: World, accepted: TrainerHandoff, bad: dict[str, Any], field: str
) -> None:
    response = token_client(world.trainer).post(reports_url(accepted), body(**bad), format="json")
    assert field in assert_error(response, 400, "invalid")["fields"]
    assert not ProgressReport.objects.exists()


def test_acknowledging_twice_tells_the_trainer_once(world: World, accepted: TrainerHandoff) -> None:
    report = written(world, accepted)
    pt = token_client(world.physio)
    url = f"{API}/reports/{report.public_id}/acknowledge/"
    first, second = pt.post(url), pt.post(url)
    assert first.status_code == second.status_code == 200
    assert first.json()["acknowledged_at"] == second.json()["acknowledged_at"] is not None
    assert first.json()["acknowledged_by"]["full_name"] == world.physio.full_name
    told = Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_ACKNOWLEDGED)
    assert [n.recipient for n in told] == [world.trainer]
    assert_error(token_client(world.trainer).post(url), 403, "not_permitted")


def test_after_consent_withdrawal_the_trainer_neither_writes_nor_reads(
    world: World, accepted: TrainerHandoff
) -> None:
    report = written(world, accepted)
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="Asked to stop.")
    trainer = token_client(world.trainer)
    for url in (
        reports_url(accepted),
        f"{API}/reports/{report.public_id}/",
        f"{API}/reports/{report.public_id}/replies/",
    ):
        assert_error(trainer.get(url), 404, "not_found")
    assert_error(trainer.post(reports_url(accepted), body(), format="json"), 404)
    assert_error(
        trainer.post(f"{API}/reports/{report.public_id}/replies/", {"text": "Hi"}, format="json"), 404
    )
    assert token_client(world.physio).get(f"{API}/reports/{report.public_id}/").status_code == 200


def test_replies_are_listed_oldest_first(world: World, accepted: TrainerHandoff, trainer: User) -> None:
    report = written(world, accepted)
    progress_reports.report_reply(report=report, actor=world.physio, text="First.")
    progress_reports.report_reply(report=report, actor=world.trainer, text="Second.")
    rows = token_client(world.trainer).get(f"{API}/reports/{report.public_id}/replies/").json()["results"]
    assert [(r["text"], r["author"]["full_name"]) for r in rows] == [
        ("First.", world.physio.full_name),
        ("Second.", world.trainer.full_name),
    ]


def test_the_timeline_names_the_report_of_each_report_event(world: World, accepted: TrainerHandoff) -> None:
    report = written(world, accepted)
    progress_reports.report_acknowledge(report=report, actor=world.physio)
    response = token_client(world.physio).get(f"{API}/handoffs/{accepted.public_id}/events/")
    assert response.status_code == 200
    body = response.json()
    events = body["results"] if isinstance(body, dict) else body
    about = {e["kind"]: e["report"] for e in events if e["report"] is not None}
    assert about == {
        HandoffEvent.Kind.REPORT_SUBMITTED: str(report.public_id),
        HandoffEvent.Kind.REPORT_ACKNOWLEDGED: str(report.public_id),
    }
    # every other event says none, and the id leads to the report itself
    assert all(e["report"] is None for e in events if not e["kind"].startswith("report_"))
    detail = token_client(world.physio).get(f"{API}/reports/{report.public_id}/")
    assert detail.status_code == 200 and detail.json()["id"] == str(report.public_id)
