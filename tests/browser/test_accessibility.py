"""Accessibility (issue 20), in a real Chromium: axe-core over every page of the site as each side sees
it, forms with their errors included, with no serious or critical violation (tests/browser/axe.py); and
the referral loop done once with the keyboard alone, the focus visible on each control (keyboard.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from accounts.models import EncryptedTOTPDevice, User
from referrals.care.models import TreatmentPlan
from referrals.concerns.models import Concern
from referrals.demo.data import ADMIN, FULL, ORG_ADMIN, PT, TRAINER
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.progress.models import ProgressReport, SessionLog
from tests import factories as f
from tests.browser import axe
from tests.browser.keyboard import Keyboard
from tests.browser.test_scenarios import cast, option_label
from tests.browser.test_security import code_for

pytestmark = pytest.mark.django_db(transaction=True)

S = HandoffStatus
EVERY_STATUS = (
    S.DRAFT,
    S.REQUESTED,
    S.ACCEPTED,
    S.IN_PROGRESS,
    S.ON_HOLD,
    S.COMPLETED,
    S.REJECTED,
    S.CANCELLED,
)


@dataclass
class Crawl:
    """The pages checked, and axe's serious and critical findings on them, kept for one report."""

    checked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, page: Page, who: str, name: str) -> None:
        page.wait_for_load_state()
        where = f"{who}: {name} ({page.url.split('/', 3)[-1] or '/'})"
        self.checked.append(where)
        found = axe.blocking(page)
        if found:
            self.failures.append(axe.describe(where, found))

    def check_errors(self, page: Page, who: str, name: str) -> None:
        """The page a refused form came back as: its errors shown, then checked."""
        expect(page.locator(".errorlist").first).to_be_visible()
        self.check(page, who, name)

    def open(self, page: Page, who: str, name: str, url_name: str, *args: Any, status: int = 200) -> None:
        self.visit(page, who, name, reverse(url_name, args=args), status=status)

    def visit(self, page: Page, who: str, name: str, url: str, status: int = 200) -> None:
        response = page.goto(url)
        assert response is not None, url
        assert response.status == status, f"{who}: {name}: {url} answered {response.status}, not {status}"
        self.check(page, who, name)

    def assert_clean(self) -> None:
        assert self.failures == [], (
            f"axe: serious or critical violations on {len(self.failures)} of {len(self.checked)} pages:\n\n"
            + "\n\n".join(self.failures)
        )


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> dict[str, User]:
    """The demo world (manage.py seed_demo): a referral in every status, weeks of sessions, reports,
    an open concern; its people log in with the test password."""
    monkeypatch.setenv("HANDOFF_DEMO_PASSWORD", f.TEST_PASSWORD)
    call_command("seed_demo", stdout=io.StringIO())
    return {user.email: user for user in User.objects.all()}


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(f.TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$|/two-factor/"))


def first(status: str, **lookup: Any) -> TrainerHandoff:
    handoff = TrainerHandoff.objects.filter(status=status, **lookup).select_related("plan__patient").first()
    assert handoff is not None, f"the demo has no {status} referral with {lookup}"
    return handoff


def crawl_anonymous(crawl: Crawl, page: Page, users: dict[str, User]) -> None:
    who = "anonymous"
    crawl.open(page, who, "login", "login")
    page.get_by_label("Email").fill(PT)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("main")).to_contain_text("correct")
    crawl.check(page, who, "login, a wrong password")
    crawl.open(page, who, "password reset", "password_reset")
    page.get_by_label("Email").fill(PT)
    page.get_by_role("main").get_by_role("button").click()
    crawl.check(page, who, "password reset, sent")
    user = users[PT]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    crawl.open(page, who, "password reset, new password", "password_reset_confirm", uid, token)
    page.get_by_role("main").get_by_role("button").click()
    crawl.check_errors(page, who, "password reset, new password with errors")
    crawl.open(page, who, "password reset, bad link", "password_reset_confirm", uid, "x-y")
    crawl.open(page, who, "password reset, done", "password_reset_complete")
    crawl.visit(page, who, "page not found", "/no-such-page/", status=404)
    page.goto(reverse("login"))
    for _ in range(5):
        page.get_by_label("Email").fill("nobody@example.test")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("locked-out")).to_be_visible()
    crawl.check(page, who, "locked out")


def crawl_physio(crawl: Crawl, new_page: Callable[..., Page], users: dict[str, User]) -> None:
    who = "physio"
    page = new_page()
    log_in(page, PT)
    crawl.check(page, who, "home")
    crawl.open(page, who, "patient list", "patient_list")
    crawl.visit(page, who, "patient list, searched", reverse("patient_list") + "?q=an")
    crawl.open(page, who, "patient form (new)", "patient_create")
    page.get_by_role("button", name="Add the patient").click()
    crawl.check_errors(page, who, "patient form with errors")

    running = first(S.IN_PROGRESS, plan__physiotherapist__email=PT)
    patient = running.plan.patient
    crawl.open(page, who, "patient detail (with progress)", "patient_detail", patient.public_id)
    crawl.open(page, who, "patient form (edit)", "patient_edit", patient.public_id)
    crawl.open(page, who, "plan form (new)", "plan_create", patient.public_id)
    page.get_by_role("button", name="Save the plan").click()
    crawl.check_errors(page, who, "plan form with errors")
    crawl.open(page, who, "plan detail (referred)", "plan_detail", running.plan.public_id)

    active = TreatmentPlan.objects.filter(
        status=TreatmentPlan.Status.ACTIVE, physiotherapist__email=PT, handoffs__isnull=True
    ).first()
    assert active is not None, "the demo has no plan of the physio that was never referred"
    crawl.open(page, who, "plan detail (not referred)", "plan_detail", active.public_id)
    crawl.open(page, who, "plan form (edit)", "plan_edit", active.public_id)
    crawl.open(page, who, "discharge: choose a trainer", "plan_discharge", active.public_id)
    page.get_by_role("link", name=re.compile("^Review and send to")).first.click()
    crawl.check(page, who, "discharge: review and send")

    other: Page | None = None  # the demo's second physiotherapist has the referrals the first has not
    for status in EVERY_STATUS:
        handoff = first(status)
        if handoff.plan.physiotherapist.email == PT:
            crawl.open(page, who, f"referral ({status})", "handoff_detail", handoff.public_id)
            continue
        if other is None:
            other = new_page()
            log_in(other, handoff.plan.physiotherapist.email)
        crawl.open(other, "physio 2", f"referral ({status})", "handoff_detail", handoff.public_id)
    concern = (
        Concern.objects.filter(handoff__plan__physiotherapist__email=PT).select_related("handoff").first()
    )
    assert concern is not None, "the demo has no concern"
    crawl.open(page, who, "referral with an open concern", "handoff_detail", concern.handoff.public_id)
    page.get_by_role("button", name="Resolve").first.click()
    crawl.check_errors(page, who, "referral, resolving a concern without a note")

    crawl.open(page, who, "sessions", "session_list", running.public_id)
    session = SessionLog.objects.filter(handoff=running).first()
    assert session is not None
    crawl.open(page, who, "session", "session_detail", session.public_id)
    report = ProgressReport.objects.filter(handoff__plan__physiotherapist__email=PT).first()
    assert report is not None
    crawl.open(page, who, "progress report", "report_detail", report.public_id)
    crawl.open(page, who, "notifications", "notification_list")
    crawl.open(page, who, "profile", "profile")
    page.get_by_label("Name").fill("Clinic system")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_be_visible()
    crawl.check(page, who, "profile, a new API token")
    crawl.open(page, who, "two-factor setup", "two_factor_setup")
    page.get_by_role("button", name="Turn on").click()
    crawl.check_errors(page, who, "two-factor setup, no code")
    device = EncryptedTOTPDevice.objects.get(user=users[PT], confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("backup-codes")).to_be_visible()
    crawl.check(page, who, "two-factor backup codes")
    crawl.open(page, who, "profile, two-factor on", "profile")
    crawl.visit(page, who, "forbidden (the admin)", reverse("admin:index"), status=403)


def crawl_trainer(crawl: Crawl, page: Page, email: str) -> None:
    who = f"trainer {email}"
    log_in(page, email)
    crawl.check(page, who, "home")
    for status in EVERY_STATUS[1:]:
        handoff = TrainerHandoff.objects.filter(status=status, trainer__email=email).first()
        if handoff is not None:
            crawl.open(page, who, f"referral ({status})", "handoff_detail", handoff.public_id)
    if email != TRAINER:
        return
    requested = first(S.REQUESTED, trainer__email=email)
    page.goto(reverse("handoff_detail", args=[requested.public_id]))
    page.get_by_role("button", name="Decline").click()
    crawl.check_errors(page, who, "referral, declining without a reason")
    running = first(S.IN_PROGRESS, trainer__email=email)
    crawl.open(page, who, "handout", "handoff_handout", running.public_id)
    crawl.open(page, who, "session form", "session_create", running.public_id)
    page.get_by_label("Pain after (0-10)").fill("11")
    page.get_by_role("button", name="Log the session").click()
    crawl.check_errors(page, who, "session form with errors")
    crawl.open(page, who, "sessions", "session_list", running.public_id)
    session = SessionLog.objects.filter(handoff=running).first()
    assert session is not None
    crawl.open(page, who, "session", "session_detail", session.public_id)
    crawl.open(page, who, "progress report form", "report_new", running.public_id)
    page.get_by_role("button", name="Send the report to the physiotherapist").click()
    crawl.check_errors(page, who, "progress report form with errors")
    report = ProgressReport.objects.filter(handoff__trainer__email=email).first()
    assert report is not None
    crawl.open(page, who, "progress report", "report_detail", report.public_id)
    crawl.open(page, who, "notifications", "notification_list")
    crawl.open(page, who, "profile", "profile")


def crawl_staff(crawl: Crawl, page: Page, users: dict[str, User]) -> None:
    who = "staff"
    device = EncryptedTOTPDevice.objects.create(user=users[ADMIN], name="Phone", confirmed=True)
    log_in(page, ADMIN)
    crawl.check(page, who, "two-factor code")
    page.get_by_role("button", name="Verify").click()
    crawl.check_errors(page, who, "two-factor code, none given")
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    crawl.check(page, who, "home")
    handoff = first(S.IN_PROGRESS)
    crawl.open(page, who, "admin", "admin:index")
    for model, obj in (
        ("referrals_trainerhandoff", handoff),
        ("referrals_patient", handoff.plan.patient),
        ("referrals_treatmentplan", handoff.plan),
        ("accounts_user", users[PT]),
        ("accounts_organization", handoff.gym),
    ):
        crawl.visit(page, who, f"admin {model} list", reverse(f"admin:{model}_changelist"))
        crawl.visit(page, who, f"admin {model}", reverse(f"admin:{model}_change", args=[obj.pk]))
    crawl.open(page, who, "admin accounts_user, add", "admin:accounts_user_add")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    crawl.check(page, who, "admin accounts_user, add with errors")


def test_every_page_has_no_serious_or_critical_axe_violation(
    demo: dict[str, User], new_page: Callable[..., Page]
) -> None:
    crawl = Crawl()
    crawl_anonymous(crawl, new_page(), demo)
    crawl_physio(crawl, new_page, demo)
    for email in (TRAINER, FULL):
        crawl_trainer(crawl, new_page(), email)
    manager = new_page()
    log_in(manager, ORG_ADMIN)
    crawl.check(manager, "clinic admin", "home")
    crawl_staff(crawl, new_page(), demo)
    print(f"\naxe checked {len(crawl.checked)} pages:\n" + "\n".join(crawl.checked))
    crawl.assert_clean()


def test_the_referral_loop_done_with_the_keyboard_alone(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    """The physiotherapist adds a patient, records consent, writes a plan and sends it to a trainer; the
    trainer accepts, logs a session and writes a progress report: Tab, Shift+Tab, Enter, Space and
    typing only. On every page Tab goes once round and reaches each control, each showing its focus."""
    cast()
    pt = new_page()
    keys = Keyboard(pt)
    pt.goto(reverse("login"))
    keys.walk()
    keys.type_into(pt.get_by_label("Email"), "pat@lakeside.test")
    keys.type_into(pt.get_by_label("Password"), f.TEST_PASSWORD)
    keys.activate(pt.get_by_role("button", name="Log in"))
    expect(pt.get_by_role("heading", level=1)).to_contain_text("Hello")

    keys.walk()
    keys.activate(pt.get_by_role("main").get_by_role("link", name="Add a patient"))
    expect(pt.get_by_role("heading", level=1)).to_have_text("Add a patient")
    keys.walk()
    keys.type_into(pt.get_by_label("Full name"), "Jamie Rivera")
    keys.type_into(pt.get_by_label("Date of birth"), "04091971")  # month, day, year: the date's own fields
    keys.type_into(pt.get_by_label("Email"), "jamie@example.test")
    keys.tab_to(pt.get_by_label("Full name"), back=True)
    expect(pt.get_by_label("Full name")).to_be_focused()
    keys.activate(pt.get_by_role("button", name="Add the patient"))
    expect(pt.get_by_role("status")).to_contain_text("Jamie Rivera was added")

    keys.walk()
    keys.type_into(pt.get_by_label("Partner gym"), "Iron Works Gym")  # a closed <select> takes typing
    keys.type_into(pt.get_by_label("What may be shared"), "Exercises and precautions only")
    keys.activate(pt.get_by_role("button", name="Record consent"))
    expect(pt.get_by_role("status")).to_contain_text("Consent for Iron Works Gym was recorded")

    keys.activate(pt.get_by_role("link", name="Write a plan"))
    keys.walk()
    keys.type_into(pt.get_by_label("Diagnosis"), "Right rotator cuff tendinopathy")
    keys.type_into(pt.get_by_label("Goals"), "Lift a 10 kg box to shoulder height without pain.")
    exercise = pt.get_by_test_id("exercise-row").first
    keys.type_into(exercise.get_by_label("Exercise"), option_label("Wall Slides"))
    keys.type_into(exercise.get_by_label("Reps"), "12")
    keys.activate(pt.get_by_role("button", name="Save the plan"))
    expect(pt.get_by_role("status")).to_contain_text("The treatment plan was created")

    keys.walk()
    keys.activate(pt.get_by_role("link", name="Discharge to a trainer"))
    keys.walk()
    keys.activate(pt.get_by_role("link", name="Review and send to Tess Trainer"))
    keys.walk()
    keys.activate(pt.get_by_role("button", name="Send to Tess Trainer"))
    expect(pt.get_by_test_id("status")).to_have_text("Requested")
    keys.walk()

    trainer = new_page()
    keys = Keyboard(trainer)
    trainer.goto(reverse("login"))
    keys.type_into(trainer.get_by_label("Email"), "tess@ironworks.test")
    keys.type_into(trainer.get_by_label("Password"), f.TEST_PASSWORD)
    keys.activate(trainer.get_by_role("button", name="Log in"))
    expect(trainer.get_by_role("heading", level=1)).to_contain_text("Hello")
    keys.walk()
    keys.activate(trainer.get_by_test_id("inbox-row").get_by_role("link"))
    keys.walk()
    keys.activate(trainer.get_by_role("button", name="Accept"))
    expect(trainer.get_by_test_id("status")).to_have_text("Accepted")

    keys.walk()
    keys.activate(trainer.get_by_test_id("log-session"))
    expect(trainer.get_by_role("heading", level=1)).to_have_text("Log a session")
    keys.walk()
    keys.type_into(trainer.get_by_label("Pain before (0-10)"), "2")
    keys.type_into(trainer.get_by_label("Pain after (0-10)"), "3")
    keys.activate(trainer.get_by_role("button", name="Log the session"))
    expect(trainer.get_by_role("heading", level=1)).to_contain_text("Session of")
    keys.walk()
    keys.activate(trainer.get_by_role("link", name="Back to the referral"))
    expect(trainer.get_by_test_id("status")).to_have_text("In progress")

    keys.activate(trainer.get_by_role("link", name="Write a progress report"))
    keys.walk()
    keys.type_into(trainer.get_by_label("Impressions"), "One session; the shoulder moved well.")
    goal = trainer.get_by_role("group", name="Lift a 10 kg box to shoulder height without pain.")
    keys.tick(goal.get_by_role("radio").first)
    expect(goal.get_by_role("radio").first).to_be_checked()
    keys.activate(trainer.get_by_role("button", name="Send the report to the physiotherapist"))
    expect(trainer.get_by_role("heading", level=1)).to_contain_text("Progress report")
    keys.walk()
    screenshot(trainer, "keyboard-report")

    report = ProgressReport.objects.get()
    assert report.impressions == "One session; the shoulder moved well."
    assert SessionLog.objects.get().pain_after == 3
    assert TrainerHandoff.objects.get().status == S.IN_PROGRESS
