"""The loop closed, in a real Chromium on a 375 px phone: the trainer logs three sessions, one with a pain
above the plan's pain rule; the physiotherapist has the urgent notification, sees a chart with three
points on the referral page, and opens the report's PDF, whose first page shows the chart."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pypdfium2
import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from referrals.care.models import Precaution
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.progress import charts as progress_charts
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport, SessionLog
from tests import factories as f
from tests.browser.test_inbox_phone import PHONE_375
from tests.browser.test_scenarios import cast, log_in
from tests.progress.factories_charts import near_colour

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_sessions_one_painful_reach_the_physiotherapist_as_an_alert_a_chart_and_a_pdf(
    new_page: Callable[..., Any], screenshot: Callable[[Any, str], None]
) -> None:
    c = cast()
    patient = f.PatientFactory(clinic=c.clinic, full_name="Jamie Patient")
    plan = f.PlanFactory(patient=patient, physiotherapist=c.physio)
    f.PlanExerciseFactory(plan=plan)
    f.PrecautionFactory(
        plan=plan,
        kind=Precaution.Kind.PAIN_RULE,
        body_region="",
        limit_value=4,
        limit_unit=Precaution.Unit.PAIN,
        detail="Stop if knee pain goes above 4/10.",
    )
    f.ConsentFactory(patient=patient, gym=c.gym, recorded_by=c.physio)
    today = timezone.localdate()
    # sent and accepted ten days ago, so that the three sessions fall on three days since
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10), tick=False):
        handoff = handoffs_sending.plan_discharge(plan=plan, trainer=c.trainer, gym=c.gym, actor=c.physio)
        handoffs_services.handoff_accept(handoff=handoff, actor=c.trainer)

    page = new_page(PHONE_375)
    log_in(page, "tess@ironworks.test")
    days = [today - datetime.timedelta(days=n) for n in (7, 4, 1)]
    for number, day in enumerate(days):
        page.goto(f"/handoffs/{handoff.public_id}/")
        page.get_by_test_id("log-session").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Log a session")
        page.get_by_label("Date").fill(day.isoformat())
        page.get_by_label("Pain before (0-10)").fill("2")
        page.get_by_label("Pain after (0-10)").fill("7" if number == 1 else "3")
        page.get_by_role("button", name="Log the session").click()
        if number == 1:
            expect(page.get_by_test_id("alert")).to_contain_text("Stop if knee pain goes above 4/10.")
            screenshot(page, "loop-alert-375")
        else:
            expect(page.get_by_test_id("alerts")).to_have_count(0)
    logged = list(SessionLog.objects.filter(handoff=handoff).order_by("session_date"))
    assert [s.session_date for s in logged] == days
    assert [s.concern is not None for s in logged] == [False, True, False]

    # the trainer's report over the three sessions (its own page is tested in tests/progress)
    draft = progress_reports.report_compose(handoff=handoff)
    report = progress_reports.report_submit(
        handoff=handoff,
        actor=c.trainer,
        period_start=draft.period_start,
        period_end=draft.period_end,
        impressions="Three sessions; one stopped for knee pain.",
        goals=[ProgressReport.GoalStatus.PARTLY] * len(draft.goals),
    )

    pt = new_page(PHONE_375)
    log_in(pt, "pat@lakeside.test")
    pt.goto("/notifications/")
    expect(pt.locator(".urgent").first).to_be_visible()
    pt.goto(f"/handoffs/{handoff.public_id}/")
    chart = pt.locator("[data-chart$='-pain'] svg")
    expect(chart).to_have_count(1)
    expect(chart.locator("[data-series='pain_after'] circle")).to_have_count(3)
    expect(chart.locator("title").first).to_contain_text("Pain and effort per session")
    screenshot(pt, "loop-chart-375")

    pt.goto(f"/reports/{report.public_id}/")
    with pt.expect_download() as download:
        pt.get_by_test_id("report-pdf").click()
    path = download.value.path()
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    document = pypdfium2.PdfDocument(content)
    first = document[0]
    assert "Pain and effort per session" in first.get_textpage().get_text_range()
    image = first.render(scale=1.5).to_pil().convert("RGB")
    pixels = list(image.get_flattened_data())
    assert sum(1 for p in pixels if near_colour(p, progress_charts.PAIN_AFTER)) > 50
