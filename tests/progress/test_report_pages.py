"""The report pages: write one (the figures of the period shown first), read it, acknowledge, reply; the
reports section of the referral page; query counts that do not grow with the sessions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport, SessionExercise, SessionLog
from tests import factories as f
from tests.conftest import World, login
from tests.progress import factories_reports as fr

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def form(**overrides: Any) -> dict[str, Any]:
    day = today().isoformat()
    return {
        "period_start": day,
        "period_end": day,
        "impressions": "Strong week.",
        "goal_0": "partly",
        **overrides,
    }


def test_the_trainer_sees_the_figures_and_sends_a_report(
    client: Client, world: World, accepted: TrainerHandoff
) -> None:
    fr.session(accepted, today(), mvpa_minutes=30, pain_before=4, pain_after=2, rpe=6)
    login(client, world.trainer)
    page = client.get(reverse("report_new", args=[accepted.public_id]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "89555-7" in content and "210.0 min/wk" in content  # 30 min in a one-day period
    assert world.plan.goals in content  # one met / partly / not yet per goal line
    sent = client.post(reverse("report_new", args=[accepted.public_id]), form())
    report = ProgressReport.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("report_detail", args=[report.public_id])
    assert report.goals == [{"goal": world.plan.goals, "status": "partly"}]
    detail = client.get(sent["Location"]).content.decode()
    assert "Not acknowledged yet." in detail and "Strong week." in detail


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"period_end": "2999-01-01"}, "cannot end in the future"),
        ({"impressions": ""}, "how the client is doing"),
        ({"goal_0": ""}, "This field is required."),
        ({"period_start": "not a date"}, "Enter a valid date."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(
    client: Client, world: World, accepted: TrainerHandoff, bad: dict[str, Any], message: str
) -> None:
    login(client, world.trainer)
    response = client.post(reverse("report_new", args=[accepted.public_id]), form(**bad))
    assert response.status_code == 400 and message in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_the_physiotherapist_acknowledges_and_the_trainer_sees_it(
    client: Client, world: World, accepted: TrainerHandoff
) -> None:
    report = progress_reports.report_submit(
        handoff=accepted,
        actor=world.trainer,
        period_start=today(),
        period_end=today(),
        impressions="Fine.",
        goals=["met"],
    )
    pt = login(Client(), world.physio)
    page = pt.get(reverse("report_detail", args=[report.public_id])).content.decode()
    assert "Acknowledge" in page and reverse("plan_edit", args=[world.plan.public_id]) in page
    pt.post(reverse("report_acknowledge", args=[report.public_id]))
    pt.post(reverse("report_acknowledge", args=[report.public_id]))  # twice: nothing more
    assert HandoffEvent.objects.filter(kind=HandoffEvent.Kind.REPORT_ACKNOWLEDGED).count() == 1
    reply = pt.post(reverse("report_reply", args=[report.public_id]), {"text": "Keep going."})
    assert reply.status_code == 302
    assert pt.post(reverse("report_reply", args=[report.public_id]), {"text": ""}).status_code == 400
    seen = (
        login(client, world.trainer).get(reverse("report_detail", args=[report.public_id])).content.decode()
    )
    assert f"Acknowledged by {world.physio.full_name} on {today():%Y-%m-%d}" in seen
    assert "Keep going." in seen and "Revise the guidelines" not in seen


def test_the_referral_page_lists_the_reports_and_offers_to_write_one(
    client: Client, world: World, accepted: TrainerHandoff
) -> None:
    login(client, world.trainer)
    page = client.get(reverse("handoff_detail", args=[accepted.public_id])).content.decode()
    assert reverse("report_new", args=[accepted.public_id]) in page and "No progress report yet." in page
    fr.submit_final_report(accepted, world.trainer)
    page = client.get(reverse("handoff_detail", args=[accepted.public_id])).content.decode()
    assert page.count('data-testid="report-row"') == 1 and "submitted a progress report" in page
    pt_page = login(Client(), world.physio).get(reverse("handoff_detail", args=[accepted.public_id]))
    assert reverse("report_new", args=[accepted.public_id]) not in pt_page.content.decode()


def _sessions(handoff: TrainerHandoff, n: int) -> None:
    start = today() - datetime.timedelta(days=n)
    logs = SessionLog.objects.bulk_create(
        SessionLog(
            handoff=handoff,
            session_date=start + datetime.timedelta(days=i),
            attendance="attended" if i % 5 else "no_show",
            rpe=i % 11,
            pain_before=i % 7,
            pain_after=i % 5,
            mvpa_minutes=30,
            logged_by=handoff.trainer,
        )
        for i in range(n)
    )
    exercise = f.an_exercise()
    SessionExercise.objects.bulk_create(
        SessionExercise(session=log, exercise=exercise, name=exercise.name, load_unit="kg", load_value=10)
        for log in logs
    )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["report_new", "report_detail", "handoff_detail"])
def test_page_queries_do_not_grow_from_5_to_200_sessions(
    world: World, accepted: TrainerHandoff, page: str
) -> None:
    counts = []
    for n in (5, 200):
        # the same referral with n sessions and one report over them (the test's own reset, events first)
        Notification.objects.filter(event__kind=HandoffEvent.Kind.REPORT_SUBMITTED).delete()
        OutboxMessage.objects.filter(event__kind=HandoffEvent.Kind.REPORT_SUBMITTED).delete()
        HandoffEvent.objects.filter(kind=HandoffEvent.Kind.REPORT_SUBMITTED).delete()
        ProgressReport.objects.all().delete()
        SessionExercise.objects.all().delete()
        SessionLog.objects.all().delete()
        _sessions(accepted, n)
        HandoffEvent.objects.filter(handoff=accepted, to_status="accepted").update(
            created_at=timezone.now() - datetime.timedelta(days=n)
        )
        report = progress_reports.report_submit(
            handoff=accepted,
            actor=world.trainer,
            period_start=today() - datetime.timedelta(days=n),
            period_end=today() - datetime.timedelta(days=1),
            impressions="Fine.",
            goals=["met"],
        )
        assert report.figures["attendance"]["logged"] == n
        client = login(Client(), world.trainer if page == "report_new" else world.physio)
        target = {
            "report_new": reverse("report_new", args=[accepted.public_id]),
            "report_detail": reverse("report_detail", args=[report.public_id]),
            "handoff_detail": reverse("handoff_detail", args=[accepted.public_id]),
        }[page]
        _queries(client, target)  # warm: the session, the roles
        counts.append(_queries(client, target))
    assert counts[0] == counts[1], counts


def test_from_the_report_the_physiotherapist_can_ask_for_the_client_back(
    client: Client, world: World, accepted: TrainerHandoff
) -> None:
    report = progress_reports.report_submit(
        handoff=accepted,
        actor=world.trainer,
        period_start=today(),
        period_end=today(),
        impressions="Pain creeping up.",
        goals=["not_yet"],
    )
    url = reverse("report_detail", args=[report.public_id])
    ask_back = f"{reverse('handoff_detail', args=[accepted.public_id])}#refer-back"
    pt = login(Client(), world.physio)
    assert ask_back in pt.get(url).content.decode()
    referral = pt.get(reverse("handoff_detail", args=[accepted.public_id])).content.decode()
    assert 'id="refer-back"' in referral  # the link's target: the refer-back form
    # the trainer refers back from the referral page, not from the report (the physiotherapist asks)
    assert ask_back not in login(client, world.trainer).get(url).content.decode()
    # a referral ended since offers nothing to ask back
    TrainerHandoff.objects.filter(pk=accepted.pk).update(status="failed", status_reason="Stopped.")
    assert ask_back not in pt.get(url).content.decode()
