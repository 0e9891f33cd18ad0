"""The trainer logs a session on a 375 px phone, in a real Chromium: the form prefilled from the
prescription fits the screen (no sideways scrolling), a pain above the plan's pain rule shows what the
guidelines say to do, and the physiotherapist is told at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from referrals.care.models import Precaution
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.notify.models import Notification
from referrals.progress.models import SessionLog
from tests import factories as f
from tests.browser.test_inbox_phone import PHONE_375, referral
from tests.browser.test_scenarios import cast, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _nothing_wider_than_the_screen(page: Any) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5);
            })
            .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 40))"""
    )
    assert overflowing == [], overflowing


def test_the_trainer_logs_a_session_on_a_phone_and_a_pain_spike_stops_it(
    new_page: Callable[..., Any], screenshot: Callable[[Any, str], None]
) -> None:
    c = cast()
    handoff = referral(c.physio, c.trainer, c.gym, c.clinic, "Jamie Patient")
    plan = handoff.plan
    f.PrecautionFactory(
        plan=plan,
        kind=Precaution.Kind.PAIN_RULE,
        body_region="",
        limit_value=5,
        limit_unit=Precaution.Unit.PAIN,
        detail="Stop if pain goes above 5/10.",
    )
    # the snapshot was frozen at send: send the plan again with its pain rule
    handoffs_services.handoff_cancel(handoff=handoff, actor=c.physio, reason="Adding the pain rule.")
    handoff = handoffs_sending.plan_discharge(plan=plan, trainer=c.trainer, gym=c.gym, actor=c.physio)
    handoffs_services.handoff_accept(handoff=handoff, actor=c.trainer)

    page = new_page(PHONE_375)
    log_in(page, "tess@ironworks.test")
    page.goto(f"/handoffs/{handoff.public_id}/")
    page.get_by_test_id("log-session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a session")
    expect(page.get_by_test_id("prescribed-row")).to_have_count(1)
    expect(page.get_by_test_id("prescribed-row").get_by_label("Done")).to_be_checked()
    _nothing_wider_than_the_screen(page)
    screenshot(page, "session-form-375")

    page.get_by_label("Pain after (0-10)").fill("8")
    page.get_by_role("button", name="Log the session").click()
    expect(page.get_by_test_id("alerts")).to_be_visible()
    expect(page.get_by_test_id("alert")).to_contain_text("Stop if pain goes above 5/10.")
    expect(page.get_by_test_id("alert")).to_contain_text("send the client back to the physiotherapist")
    _nothing_wider_than_the_screen(page)
    screenshot(page, "session-alerts-375")

    session = SessionLog.objects.get(handoff=handoff)
    assert session.concern is not None and session.exercises.filter(done=True).count() == 1
    assert Notification.objects.filter(recipient=c.physio, urgent=True, event=session.concern.event).exists()
