"""The session pages: the log form prefilled from the prescription, its errors per field with nothing
stored, the session page with what the guidelines say to do, the referral page's sessions section, and
query counts that do not grow with the sessions."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from referrals.care import services as care_services
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.library.models import Exercise
from referrals.progress.models import SessionLog
from tests.conftest import World
from tests.progress.conftest import guidelines, log
from tests.progress.test_session_api import _more_sessions

# A session POST through the page, measured: the user (with roles, devices, unread count), the referral
# (scoped, its consent joined), the library for the select, then the service's: the savepoint, the lock,
# the consent, the accept date, the library rows, the session, its exercises (one bulk insert), the
# savepoint released. 11 for a typical session whatever its number of exercises (the first one also
# starts the referral; one with an alert also raises the concern: see test_session_api.py).
PAGE_POST_QUERIES = 11


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/account/profile/")  # the first request of a login stamps the session (a one-off write)
    return client


def _url(handoff: TrainerHandoff) -> str:
    return f"/handoffs/{handoff.public_id}/sessions/new/"


def _form_data(handoff: TrainerHandoff, **changes: Any) -> dict[str, Any]:
    """What the prefilled form posts when the trainer changes nothing."""
    items = guidelines(handoff)["exercises"]
    data: dict[str, Any] = {
        "session_date": timezone.localdate().isoformat(),
        "attendance": "attended",
        "rpe": "5",
        "pain_before": "1",
        "pain_after": "2",
        "mvpa_minutes": "30",
        "peak_heart_rate": "",
        "note": "",
        "ex-TOTAL_FORMS": str(len(items) + 3),
        "ex-INITIAL_FORMS": str(len(items)),
        "ex-MIN_NUM_FORMS": "0",
        "ex-MAX_NUM_FORMS": "80",
    }
    for i, item in enumerate(items):
        data |= {
            f"ex-{i}-prescribed_id": item["id"],
            f"ex-{i}-done": "on",
            f"ex-{i}-sets": str(item["sets"]),
            f"ex-{i}-reps": str(item["reps"] or ""),
            f"ex-{i}-hold_seconds": str(item["hold_seconds"] or ""),
            f"ex-{i}-duration_minutes": "",
            f"ex-{i}-load_unit": "",
            f"ex-{i}-load_value": "",
        }
    data.update(changes)
    return data


def test_the_form_is_prefilled_from_the_prescription(accepted: TrainerHandoff, world: World) -> None:
    response = _client(world.trainer).get(_url(accepted))
    assert response.status_code == 200
    html = response.content.decode()
    items = guidelines(accepted)["exercises"]
    rows = response.context["rows"]
    prescribed = [(form, item) for form, item in rows if item]
    assert [item["id"] for _, item in prescribed] == [i["id"] for i in items]
    assert all(form["done"].value() for form, _ in prescribed)
    assert prescribed[0][0]["reps"].value() == items[0]["reps"]
    assert prescribed[1][0]["hold_seconds"].value() == items[1]["hold_seconds"]
    assert html.count('data-testid="added-row"') == 3
    assert 'value="attended"' in html and "checked" in html
    assert guidelines(accepted)["red_flags"][0]["description"] in html
    assert 'name="pain_after"' in html and 'max="10"' in html


def test_submitting_the_prefilled_form_logs_the_session_and_starts_the_referral(
    accepted: TrainerHandoff, world: World
) -> None:
    response = _client(world.trainer).post(_url(accepted), _form_data(accepted))
    session = SessionLog.objects.get(handoff=accepted)
    assert response.status_code == 302 and response["Location"] == f"/sessions/{session.public_id}/"
    assert session.exercises.filter(done=True).count() == 2
    accepted.refresh_from_db()
    assert accepted.status == HandoffStatus.IN_PROGRESS


def test_an_unticked_exercise_and_an_added_one_are_stored(accepted: TrainerHandoff, world: World) -> None:
    data = _form_data(accepted, **{"ex-2-exercise": "", "ex-3-exercise": ""})
    del data["ex-1-done"]
    added = Exercise.objects.filter(retired_at__isnull=True).order_by("-name").first()
    assert added is not None
    data |= {"ex-2-exercise": added.slug, "ex-2-done": "on", "ex-2-sets": "2", "ex-2-reps": "10"}
    response = _client(world.trainer).post(_url(accepted), data)
    assert response.status_code == 302
    rows = list(SessionLog.objects.get().exercises.order_by("position"))
    assert [r.done for r in rows] == [True, False, True]
    assert rows[2].name == added.name and rows[2].added


def test_a_no_show_stores_no_exercise_and_moves_nothing(accepted: TrainerHandoff, world: World) -> None:
    data = _form_data(accepted, attendance="no_show", rpe="", mvpa_minutes="")
    assert _client(world.trainer).post(_url(accepted), data).status_code == 302
    assert SessionLog.objects.get().exercises.count() == 0
    accepted.refresh_from_db()
    assert accepted.status == HandoffStatus.ACCEPTED


def test_errors_are_shown_per_field_and_nothing_is_stored(accepted: TrainerHandoff, world: World) -> None:
    client = _client(world.trainer)
    response = client.post(_url(accepted), _form_data(accepted, pain_after="11"))
    assert response.status_code == 400
    assert response.context["form"].errors["pain_after"]
    # a service error goes back on its row: 12,000 kg on the first exercise
    data = _form_data(accepted, **{"ex-0-load_unit": "kg", "ex-0-load_value": "1200"})
    response = client.post(_url(accepted), data)
    assert response.status_code == 400
    first = response.context["formset"].forms[0]
    assert "between 0 and 500" in str(first.errors["load_value"])
    data = _form_data(accepted, session_date="2999-01-01")
    response = client.post(_url(accepted), data)
    assert response.status_code == 400 and response.context["form"].errors["session_date"]
    assert "has-error" in response.content.decode()
    assert not SessionLog.objects.exists()


def test_hostile_row_counts_are_a_form_error(accepted: TrainerHandoff, world: World) -> None:
    response = _client(world.trainer).post(_url(accepted), _form_data(accepted, **{"ex-TOTAL_FORMS": "5000"}))
    assert response.status_code == 400
    assert not SessionLog.objects.exists()


def test_the_session_page_shows_what_the_guidelines_say_to_do(accepted: TrainerHandoff, world: World) -> None:
    flag = guidelines(accepted)["red_flags"][0]
    data = _form_data(accepted, pain_after="8", red_flags=[flag["id"]])
    client = _client(world.trainer)
    response = client.post(_url(accepted), data, follow=True)
    html = response.content.decode()
    assert 'data-testid="alerts"' in html
    assert "Pain after the session 8 is above the pain rule&#x27;s 5." in html
    assert "Stop if pain goes above 5/10." in html
    assert flag["description"] in html
    assert "send the client back to the physiotherapist" in html
    # the PT sees the session and its concern on the referral page
    page = _client(world.physio).get(f"/handoffs/{accepted.public_id}/").content.decode()
    assert "Concern raised" in page and "Safety alert from the session" in page


def test_a_session_without_a_trigger_shows_no_alerts(accepted: TrainerHandoff, world: World) -> None:
    session = log(accepted, world.trainer)
    html = _client(world.trainer).get(f"/sessions/{session.public_id}/").content.decode()
    assert 'data-testid="alerts"' not in html


def test_the_referral_page_lists_sessions_with_a_log_button_for_the_trainer_only(
    accepted: TrainerHandoff, world: World
) -> None:
    log(accepted, world.trainer)
    trainer_page = _client(world.trainer).get(f"/handoffs/{accepted.public_id}/").content.decode()
    assert (
        'data-testid="log-session"' in trainer_page and trainer_page.count('data-testid="session-row"') == 1
    )
    physio_page = _client(world.physio).get(f"/handoffs/{accepted.public_id}/").content.decode()
    assert 'data-testid="log-session"' not in physio_page and 'data-testid="session-row"' in physio_page


def test_after_consent_withdrawal_the_trainer_neither_logs_nor_reads(
    accepted: TrainerHandoff, world: World
) -> None:
    session = log(accepted, world.trainer)
    assert accepted.consent is not None
    care_services.consent_withdraw(consent=accepted.consent, actor=world.physio, reason="Asked.")
    client = _client(world.trainer)
    assert client.get(_url(accepted)).status_code == 403
    assert client.post(_url(accepted), _form_data(accepted)).status_code == 403
    assert client.get(f"/sessions/{session.public_id}/").status_code == 404
    assert client.get(f"/handoffs/{accepted.public_id}/sessions/").status_code == 404
    page = client.get(f"/handoffs/{accepted.public_id}/").content.decode()
    assert 'data-testid="sessions-section"' not in page
    assert SessionLog.objects.count() == 1


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_referral_page_and_the_session_list_run_the_same_queries_for_5_and_200_sessions(
    accepted: TrainerHandoff, world: World
) -> None:
    for _ in range(5):
        log(accepted, world.trainer)
    pages = [f"/handoffs/{accepted.public_id}/", f"/handoffs/{accepted.public_id}/sessions/"]
    clients = [_client(world.trainer), _client(world.physio)]
    small = [_queries(c, url) for c in clients for url in pages]
    _more_sessions(accepted, world.trainer, 195)
    assert SessionLog.objects.filter(handoff=accepted).count() == 200
    large = [_queries(c, url) for c in clients for url in pages]
    assert small == large


def test_a_session_post_through_the_page_runs_a_pinned_number_of_queries(
    accepted: TrainerHandoff, world: World
) -> None:
    log(accepted, world.trainer)  # the first: it started the referral
    client = _client(world.trainer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(_url(accepted), _form_data(accepted))
    assert response.status_code == 302
    assert len(ctx.captured_queries) == PAGE_POST_QUERIES, "\n".join(
        q["sql"][:70] for q in ctx.captured_queries
    )
