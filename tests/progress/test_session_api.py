"""The sessions API: who writes and who reads, the 201 with its alerts, a 400 per bad field, the 403 and
404 of the persona matrix, and the query count of a session POST (pinned)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Certification, User
from referrals.care import services as care_services
from referrals.concerns.models import Concern
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress.models import SessionExercise, SessionLog
from tests.api.conftest import assert_error, token_client
from tests.conftest import World
from tests.progress.conftest import guidelines, log, typical_rows, yesterday

# A session POST through the API, measured: the token's user, the referral (scoped), the savepoint, the
# lock, the consent (policy), the accept date, the library rows, the session and its exercises (one bulk
# insert), the savepoint released, then the fresh read for the response (session, exercises with their
# library rows, the referral): 13 whatever the number of exercises. The first attended session adds the
# start (the eligibility re-check, the move, the plan, the event, its notification and outbox rows): 26.
# The fast lane adds the concern (event, concern, the recipients, notification and outbox rows): 19.
API_POST_QUERIES = 13
API_POST_QUERIES_STARTING = 26
API_POST_QUERIES_WITH_CONCERN = 19


def _url(handoff: TrainerHandoff) -> str:
    return f"/api/v1/handoffs/{handoff.public_id}/sessions/"


def _body(handoff: TrainerHandoff, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session_date": timezone.localdate().isoformat(),
        "attendance": "attended",
        "exercises": [{k: v for k, v in row.items() if v is not None} for row in typical_rows(handoff)],
        "rpe": 5,
        "pain_before": 1,
        "pain_after": 2,
        "mvpa_minutes": 35,
    }
    body.update(changes)
    return body


def _post(client: APIClient, handoff: TrainerHandoff, **changes: Any) -> Any:
    return client.post(_url(handoff), _body(handoff, **changes), format="json")


def test_the_trainer_logs_a_session_and_gets_it_back(accepted: TrainerHandoff, world: World) -> None:
    response = _post(token_client(world.trainer), accepted)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attendance"] == "attended" and body["alerts"] == [] and body["concern"] is None
    assert [e["name"] for e in body["exercises"]] == [e["name"] for e in guidelines(accepted)["exercises"]]
    assert body["handoff"] == str(accepted.public_id)
    accepted.refresh_from_db()
    assert accepted.status == HandoffStatus.IN_PROGRESS


def test_the_create_response_says_what_the_guidelines_say_to_do(
    accepted: TrainerHandoff, world: World
) -> None:
    flag = guidelines(accepted)["red_flags"][0]
    response = _post(token_client(world.trainer), accepted, pain_after=8, red_flags=[flag["id"]])
    assert response.status_code == 201, response.content
    body = response.json()
    assert [a["trigger"] for a in body["alerts"]] == ["pain", "red_flag"]
    assert body["alerts"][0]["guideline"] == "Stop if pain goes above 5/10."
    assert "send the client back to the physiotherapist" in body["alerts"][0]["action"]
    assert body["alerts"][1]["guideline"] == flag["description"]
    assert body["concern"]["state"] == "raised"
    concern = Concern.objects.get(public_id=body["concern"]["id"])
    assert Notification.objects.get(event=concern.event).urgent


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pain_after": 11}, "pain_after"),
        ({"rpe": "5"}, "rpe"),
        ({"session_date": "2999-01-01"}, "session_date"),
        ({"attendance": "late"}, "attendance"),
        ({"red_flags": ["00000000-0000-0000-0000-000000000000"]}, "red_flags"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_a_bad_field_is_a_400_naming_it_and_nothing_is_stored(
    accepted: TrainerHandoff, world: World, changes: dict[str, Any], field: str
) -> None:
    body = assert_error(_post(token_client(world.trainer), accepted, **changes), 400, "invalid")
    assert field in body["fields"], body
    assert not SessionLog.objects.exists()


def test_a_bad_exercise_row_is_named_by_its_index(accepted: TrainerHandoff, world: World) -> None:
    rows = _body(accepted)["exercises"]
    rows[1]["load_unit"], rows[1]["load_value"] = "kg", "12000"
    body = assert_error(_post(token_client(world.trainer), accepted, exercises=rows), 400, "invalid")
    assert "exercises.1.load_value" in body["fields"], body
    rows[1]["load_value"] = "20"
    rows[1]["prescribed_id"] = "4b0e9c1e-0000-4000-8000-000000000000"
    body = assert_error(_post(token_client(world.trainer), accepted, exercises=rows), 400, "invalid")
    assert "exercises.1.prescribed_id" in body["fields"], body
    assert not SessionLog.objects.exists()


def test_the_physio_gets_a_403_and_other_clinics_and_gyms_a_404(
    accepted: TrainerHandoff, world: World, other_clinic_physio: User, other_trainer: User
) -> None:
    assert_error(_post(token_client(world.physio), accepted), 403, "not_permitted")
    assert_error(_post(token_client(other_clinic_physio), accepted), 404, "not_found")
    assert_error(_post(token_client(other_trainer), accepted), 404, "not_found")
    assert not SessionLog.objects.exists()


def test_a_refused_start_is_a_409(accepted: TrainerHandoff, world: World) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(expiry=yesterday())
    body = assert_error(_post(token_client(world.trainer), accepted), 409, "no_longer_eligible")
    assert [b["code"] for b in body["blockers"]] == ["certification_expired"]
    assert not SessionLog.objects.exists()


def test_the_pt_reads_the_list_and_the_detail(accepted: TrainerHandoff, world: World) -> None:
    session = log(accepted, world.trainer, pain_after=7)
    log(accepted, world.trainer, attendance="no_show", exercises=[], rpe=None, mvpa_minutes=None)
    client = token_client(world.physio)
    listed = client.get(_url(accepted))
    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 2
    detail = client.get(f"/api/v1/sessions/{session.public_id}/")
    assert detail.status_code == 200
    assert detail.json()["id"] == str(session.public_id)
    assert detail.json()["alerts"][0]["trigger"] == "pain"


def test_after_consent_withdrawal_the_trainer_neither_writes_nor_reads(
    accepted: TrainerHandoff, world: World
) -> None:
    session = log(accepted, world.trainer)
    assert accepted.consent is not None
    care_services.consent_withdraw(consent=accepted.consent, actor=world.physio, reason="Asked.")
    client = token_client(world.trainer)
    assert_error(_post(client, accepted), 403, "not_permitted")
    assert_error(client.get(_url(accepted)), 404, "not_found")
    assert_error(client.get(f"/api/v1/sessions/{session.public_id}/"), 404, "not_found")
    physio = token_client(world.physio)
    assert physio.get(f"/api/v1/sessions/{session.public_id}/").status_code == 200


def _post_queries(client: APIClient, handoff: TrainerHandoff, **changes: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = _post(client, handoff, **changes)
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries)


def test_a_session_post_runs_a_pinned_number_of_queries(accepted: TrainerHandoff, world: World) -> None:
    client = token_client(world.trainer)
    client.get("/api/v1/handoffs/?page_size=1")  # the token's once-a-minute last_used_at write
    assert _post_queries(client, accepted) == API_POST_QUERIES_STARTING
    assert _post_queries(client, accepted) == API_POST_QUERIES
    assert _post_queries(client, accepted, pain_after=9) == API_POST_QUERIES_WITH_CONCERN


def test_the_list_runs_the_same_queries_for_5_and_for_200_sessions(
    accepted: TrainerHandoff, world: World
) -> None:
    client = token_client(world.physio)
    client.get("/api/v1/handoffs/?page_size=1")
    for _ in range(5):
        log(accepted, world.trainer)
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(accepted) + "?page_size=100").status_code == 200
    _more_sessions(accepted, world.trainer, 195)
    with CaptureQueriesContext(connection) as large:
        response = client.get(_url(accepted) + "?page_size=100")
    assert len(response.json()["results"]) == 100
    assert len(small.captured_queries) == len(large.captured_queries)


def _more_sessions(handoff: TrainerHandoff, trainer: User, n: int) -> None:
    """n more logged sessions, written in bulk (the service's path is tested above)."""
    sessions = SessionLog.objects.bulk_create(
        SessionLog(
            handoff=handoff,
            session_date=timezone.localdate(),
            attendance="attended",
            rpe=5,
            pain_before=1,
            pain_after=2,
            logged_by=trainer,
        )
        for _ in range(n)
    )
    template = list(SessionExercise.objects.filter(session__handoff=handoff)[:2])
    SessionExercise.objects.bulk_create(
        SessionExercise(
            session=s,
            position=e.position,
            prescribed_id=e.prescribed_id,
            exercise_id=e.exercise_id,
            name=e.name,
        )
        for s in sessions
        for e in template
    )
