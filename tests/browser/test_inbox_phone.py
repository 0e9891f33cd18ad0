"""The trainer's inbox on a 375 px phone, in a real Chromium: each client named (as consent allows), and
nothing wider than the screen: no column cut off, no sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from referrals.care.models import Consent
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from tests import factories as f
from tests.browser.test_scenarios import cast, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_375 = {"width": 375, "height": 812}
LONG_NAME = "Maximiliana Alexandra Featherstonehaugh-Worthington"


def referral(physio: User, trainer: User, gym: Any, clinic: Any, name: str) -> TrainerHandoff:
    patient = f.PatientFactory(clinic=clinic, full_name=name)
    plan = f.PlanFactory(patient=patient, physiotherapist=physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=gym, recorded_by=physio, scope=Consent.Scope.GUIDELINES)
    return handoffs_sending.plan_discharge(plan=plan, trainer=trainer, gym=gym, actor=physio)


def test_the_inbox_names_each_client_and_fits_a_375_px_phone(
    new_page: Callable[..., Any], screenshot: Callable[[Any, str], None]
) -> None:
    c = cast()
    referral(c.physio, c.trainer, c.gym, c.clinic, "Jamie Patient")
    accepted = referral(c.physio, c.trainer, c.gym, c.clinic, LONG_NAME)
    handoffs_services.handoff_accept(handoff=accepted, actor=c.trainer)
    lapsed = referral(c.physio, c.trainer, c.gym, c.clinic, "Hidden Person")
    assert lapsed.consent_id is not None
    Consent.objects.filter(pk=lapsed.consent_id).update(withdrawn_at=lapsed.sent_at)

    page = new_page(PHONE_375)
    log_in(page, "tess@ironworks.test")
    names = page.get_by_test_id("client-name")
    expect(names).to_have_count(3)
    for name in ("Jamie Patient", LONG_NAME, "Client (consent withdrawn)"):
        expect(page.get_by_test_id("client-name").filter(has_text=name)).to_be_visible()
    assert "Hidden Person" not in page.content()
    screenshot(page, "trainer-inbox-375")

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
    # every cell of every inbox row is inside the screen: no column cut off behind a scroll
    cells = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=inbox-row] td')]
            .map(td => {
                const r = td.getBoundingClientRect();
                return [r.left, r.right, td.scrollWidth <= td.clientWidth];
            })"""
    )
    assert len(cells) == 3 * 4
    assert all(left >= 0 and right <= PHONE_375["width"] and fits for left, right, fits in cells), cells
