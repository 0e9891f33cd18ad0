"""The three scenarios of the issue, through clicks and typing only, in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Organization, User
from referrals.care.models import Patient, PlanExercise, Precaution, TreatmentPlan
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import TrainerHandoff
from referrals.library.models import Exercise
from tests import factories as f
from tests.browser.conftest import PHONE
from tests.conftest import make_physio, make_trainer

# live_server needs a transactional database (conftest.exercise_library puts the library back in it).
pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Cast:
    clinic: Organization
    gym: Organization
    physio: User
    trainer: User
    second_trainer: User
    expired_trainer: User


def cast() -> Cast:
    clinic = f.ClinicFactory(name="Lakeside Physio")
    gym = f.GymFactory(name="Iron Works Gym")
    f.PartnershipFactory(clinic=clinic, gym=gym)
    physio = make_physio(clinic, full_name="Pat Physio", email="pat@lakeside.test")
    trainer = make_trainer(gym)
    User.objects.filter(pk=trainer.pk).update(full_name="Tess Trainer", email="tess@ironworks.test")
    second = make_trainer(gym)
    User.objects.filter(pk=second.pk).update(full_name="Sam Second", email="sam@ironworks.test")
    expired = make_trainer(gym)
    User.objects.filter(pk=expired.pk).update(full_name="Eddie Expired")
    expired.trainer_profile.certifications.update(expiry=f.in_days(-3))
    for user in (trainer, second, expired):
        user.refresh_from_db()
    return Cast(clinic, gym, physio, trainer, second, expired)


def option_label(name: str) -> str:
    e = Exercise.objects.get(name=name)
    return f"{e.name} · {e.get_category_display()} · {e.get_body_region_display()}"


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(f.TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def row(page: Page, testid: str, index: int) -> Any:
    return page.get_by_test_id(testid).nth(index)


def pick_exercise(page: Page, index: int, name: str, search: str) -> None:
    """Search the library, then choose the exercise in row `index`."""
    page.get_by_label("Exercise name").fill(search)
    page.get_by_role("button", name="Filter the exercise lists").click()
    row(page, "exercise-row", index).get_by_label("Exercise").select_option(label=option_label(name))


def test_pt_writes_and_sends_a_plan_and_the_trainer_accepts(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    world = cast()
    pt = new_page()
    pt.goto("/")
    screenshot(pt, "01-login")
    log_in(pt, "pat@lakeside.test")
    screenshot(pt, "02-pt-home-empty")

    # a patient
    pt.get_by_role("link", name="Add a patient").first.click()
    pt.get_by_label("Full name").fill("Jamie Rivera")
    pt.get_by_label("Date of birth").fill("1971-04-09")
    pt.get_by_label("Email").fill("jamie@example.test")
    screenshot(pt, "03-patient-form")
    pt.get_by_role("button", name="Add the patient").click()
    expect(pt.get_by_role("status")).to_contain_text("Jamie Rivera was added")

    # a plan: three exercises, two precautions, a red flag; rows are added without losing what was typed
    pt.get_by_role("link", name="Write a plan").click()
    pt.get_by_label("Diagnosis").fill("Right rotator cuff tendinopathy")
    pt.get_by_label("Goals").fill("Lift a 10 kg box to shoulder height without pain.")
    pick_exercise(pt, 0, "Wall Slides", "wall slides")
    row(pt, "exercise-row", 0).get_by_label("Reps").fill("12")
    pt.get_by_role("button", name="Add an exercise").click()
    expect(pt.get_by_test_id("exercise-row")).to_have_count(2)
    expect(row(pt, "exercise-row", 0).get_by_label("Reps")).to_have_value("12")
    expect(pt.get_by_label("Diagnosis")).to_have_value("Right rotator cuff tendinopathy")
    pick_exercise(pt, 1, "Pendulum Swings", "pendulum")
    row(pt, "exercise-row", 1).get_by_label("Hold (s)").fill("30")
    pt.get_by_role("button", name="Add an exercise").click()
    pick_exercise(pt, 2, "Pec Doorway Stretch", "doorway")
    row(pt, "exercise-row", 2).get_by_label("Hold (s)").fill("45")
    row(pt, "exercise-row", 2).get_by_label("Sets").fill("2")
    pt.get_by_role("button", name="Add a precaution").click()
    first = row(pt, "precaution-row", 0)
    first.get_by_label("Kind").select_option(label="Load limit")
    first.get_by_label("Body region").select_option(label="Shoulder")
    first.get_by_label("Limit").fill("5")
    first.get_by_label("Unit").select_option(label="kg")
    first.get_by_label("Detail").fill("No overhead load above 5 kg.")
    pt.get_by_role("button", name="Add a precaution").click()
    second = row(pt, "precaution-row", 1)
    second.get_by_label("Kind").select_option(label="Pain rule")
    second.get_by_label("Limit").fill("3")
    second.get_by_label("Unit").select_option(label="pain score (0-10)")
    expect(row(pt, "precaution-row", 0).get_by_label("Limit")).to_have_value("5")
    pt.get_by_role("button", name="Add a red flag").click()
    pt.get_by_label("Red flag").fill("Numbness or tingling down the arm")
    screenshot(pt, "04-plan-form")
    pt.get_by_role("button", name="Save the plan").click()
    expect(pt.get_by_role("status")).to_contain_text("The treatment plan was created")
    screenshot(pt, "05-plan-detail")

    # consent for the gym, on the patient's page (found through the patient list)
    pt.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(pt.get_by_test_id("patient-row")).to_have_count(1)
    screenshot(pt, "06a-patient-list")
    pt.get_by_role("link", name="Jamie Rivera").click()
    pt.get_by_label("Partner gym").select_option(label="Iron Works Gym")
    pt.get_by_label("What may be shared").select_option(label="Exercises and precautions only")
    pt.get_by_role("button", name="Record consent").click()
    expect(pt.get_by_role("status")).to_contain_text("Consent for Iron Works Gym was recorded")
    screenshot(pt, "06-patient-detail")

    # discharge: the trainer who cannot be chosen says why; review exactly what will be sent; send
    pt.get_by_role("link", name=re.compile("Right rotator cuff")).click()
    pt.get_by_role("link", name="Discharge to a trainer").click()
    blocked = pt.get_by_test_id("trainer-choice").filter(has_text="Eddie Expired")
    expect(blocked).to_contain_text("no current (unexpired) trainer certification")
    expect(blocked.get_by_role("link")).to_have_count(0)
    screenshot(pt, "07-discharge")
    pt.get_by_role("link", name="Review and send to Tess Trainer").click()
    expect(pt.get_by_test_id("precaution")).to_have_count(2)
    expect(pt.get_by_test_id("guideline-exercise")).to_have_count(3)
    expect(pt.get_by_test_id("guidelines")).not_to_contain_text("rotator cuff")  # consent excludes it
    screenshot(pt, "08-review")
    pt.get_by_role("button", name="Send to Tess Trainer").click()
    expect(pt.get_by_test_id("status")).to_have_text("Requested")
    expect(pt.get_by_role("status")).to_contain_text("The plan was sent to Tess Trainer")
    screenshot(pt, "08a-pt-referral-sent")

    # the trainer: the bell went up, the referral shows the precautions; accept
    trainer = new_page()
    log_in(trainer, "tess@ironworks.test")
    expect(trainer.get_by_test_id("unread-count")).to_have_text("1")
    expect(trainer.get_by_test_id("inbox-row")).to_contain_text("Lakeside Physio")
    expect(trainer.get_by_test_id("client-name")).to_have_text("Jamie Rivera")  # named, as consent allows
    screenshot(trainer, "09-trainer-home")
    trainer.get_by_test_id("inbox-row").get_by_role("link").click()
    expect(trainer.get_by_test_id("precaution")).to_have_count(2)
    expect(trainer.get_by_test_id("precaution").first).to_contain_text("Load limit (Shoulder): 5 kg")
    screenshot(trainer, "10-trainer-referral")
    trainer.get_by_role("button", name="Accept").click()
    expect(trainer.get_by_test_id("status")).to_have_text("Accepted")
    expect(trainer.get_by_role("status")).to_contain_text("now accepted")
    trainer.get_by_role("link", name="Printable handout").click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text("Your exercise guidelines")
    expect(trainer.get_by_role("navigation", name="Main")).to_have_count(0)
    trainer.emulate_media(media="print")
    screenshot(trainer, "11-handout-print")

    # the PT: status accepted, and a notification
    pt.reload()
    expect(pt.get_by_test_id("status")).to_have_text("Accepted")
    expect(pt.get_by_test_id("unread-count")).to_have_text("1")
    pt.get_by_role("link", name=re.compile("Notifications")).click()
    expect(pt.get_by_role("main")).to_contain_text("Tess Trainer at Iron Works Gym accepted a referral")
    screenshot(pt, "12-notifications")
    pt.get_by_role("link", name=re.compile("accepted a referral")).click()
    expect(pt.get_by_test_id("status")).to_have_text("Accepted")
    expect(pt.get_by_test_id("unread-count")).to_have_text("0")
    handoff = TrainerHandoff.objects.get()
    assert handoff.trainer_id == world.trainer.pk and handoff.status == "accepted"
    assert handoff.snapshot is not None
    assert len(handoff.snapshot["exercises"]) == 3 and len(handoff.snapshot["precautions"]) == 2

    phone = new_page(viewport=PHONE)
    log_in(phone, "pat@lakeside.test")
    screenshot(phone, "13-pt-home-phone")
    phone.get_by_role("button", name="Log out").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Log in")


def test_trainer_declines_and_the_pt_offers_the_plan_to_another_trainer(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    world = cast()
    patient = f.PatientFactory(clinic=world.clinic, full_name="Morgan Lee")
    plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    f.PrecautionFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=world.physio)
    handoffs_sending.plan_discharge(plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio)

    trainer = new_page()
    log_in(trainer, "tess@ironworks.test")
    trainer.get_by_test_id("inbox-row").get_by_role("link").click()
    trainer.get_by_role("button", name="Decline").click()  # without a reason: refused, nothing changes
    expect(trainer.get_by_role("main")).to_contain_text("This field is required")
    expect(trainer.get_by_test_id("status")).to_have_text("Requested")
    trainer.get_by_label("Reason").first.fill("Fully booked until March")
    trainer.get_by_role("button", name="Decline").click()
    expect(trainer.get_by_test_id("status")).to_have_text("Rejected")
    expect(trainer.get_by_role("main")).to_contain_text("no longer shared")

    pt = new_page()
    log_in(pt, "pat@lakeside.test")
    attention = pt.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text("Morgan Lee")
    attention.get_by_role("link", name="Morgan Lee").click()
    expect(pt.get_by_role("main")).to_contain_text("Fully booked until March")
    screenshot(pt, "14-pt-rejected-referral")
    pt.get_by_role("link", name="Offer the plan to another trainer").click()
    pt.get_by_role("link", name="Review and send to Sam Second").click()
    pt.get_by_role("button", name="Send to Sam Second").click()
    expect(pt.get_by_test_id("status")).to_have_text("Requested")
    expect(pt.get_by_role("main")).to_contain_text("to Sam Second at Iron Works Gym")
    statuses = sorted(TrainerHandoff.objects.filter(plan=plan).values_list("trainer__full_name", "status"))
    assert statuses == [("Sam Second", "requested"), ("Tess Trainer", "rejected")]


def test_invalid_doses_show_field_errors_and_store_nothing(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    world = cast()
    patient = f.PatientFactory(clinic=world.clinic, full_name="Alex Kim")
    pt = new_page()
    log_in(pt, "pat@lakeside.test")
    pt.keyboard.press("Tab")  # keyboard users can jump over the navigation
    expect(pt.get_by_role("link", name="Skip to the content")).to_be_focused()
    pt.get_by_role("link", name="Alex Kim").click()
    pt.get_by_role("link", name="Write a plan").click()
    pt.get_by_label("Diagnosis").fill("Patellofemoral pain")
    pt.get_by_label("Goals").fill("Climb stairs without pain")
    pick_exercise(pt, 0, "Wall Slides", "wall slides")
    exercise = row(pt, "exercise-row", 0)
    exercise.get_by_label("Sets").fill("50")
    exercise.get_by_label("Reps").fill("0")
    pt.get_by_role("button", name="Save the plan").click()
    exercise = row(pt, "exercise-row", 0)
    expect(exercise).to_contain_text("less than or equal to 20")
    expect(exercise).to_contain_text("greater than or equal to 1")
    expect(exercise.get_by_label("Sets")).to_have_attribute("aria-invalid", "true")
    expect(exercise.get_by_label("Sets")).to_have_value("50")
    expect(exercise.get_by_label("Sets")).to_be_focused()  # static/js/handoff.js: focus the first error
    expect(pt.get_by_label("Diagnosis")).to_have_value("Patellofemoral pain")
    screenshot(pt, "15-plan-form-errors")
    assert not TreatmentPlan.objects.filter(patient=patient).exists()
    assert not PlanExercise.objects.exists() and not Precaution.objects.exists()
    assert Patient.objects.count() == 1
