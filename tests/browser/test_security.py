"""Two-factor login and the Content Security Policy, in a real Chromium: the code step after the password,
setting up an authenticator app from the profile page, and Swagger UI running under the policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.models import EncryptedTOTPDevice
from tests import factories as f
from tests.conftest import make_physio

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(device: EncryptedTOTPDevice, steps_ahead: int = 0) -> str:
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def csp_violations(page: Page) -> list[str]:
    """Collects what Chromium reports on its console about the Content Security Policy."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return seen


def password_step(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(f.TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_physio_with_an_authenticator_app_logs_in_with_password_then_code(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    physio = make_physio(f.ClinicFactory(name="Lakeside Physio"), full_name="Pat Physio", email="pat@l.test")
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone", confirmed=True)
    page = new_page()
    violations = csp_violations(page)

    password_step(page, physio.email)

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    screenshot(page, "two-factor-verify")
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    assert violations == []


def test_turning_on_two_factor_from_the_profile_page(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    physio = make_physio(f.ClinicFactory(name="Lakeside Physio"), full_name="Pat Physio", email="pat@l.test")
    page = new_page()
    violations = csp_violations(page)
    password_step(page, physio.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    page.get_by_role("link", name="Pat Physio: your profile and API tokens").click()
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    screenshot(page, "two-factor-setup")
    device = EncryptedTOTPDevice.objects.get(user=physio, confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_test_id("two-factor-state")).to_contain_text("On")
    assert EncryptedTOTPDevice.objects.get(user=physio).confirmed
    assert violations == []


def test_swagger_ui_runs_under_the_content_security_policy(
    new_page: Callable[..., Page], screenshot: Callable[..., None]
) -> None:
    physio = make_physio(f.ClinicFactory(name="Lakeside Physio"), full_name="Pat Physio", email="pat@l.test")
    page = new_page()
    violations = csp_violations(page)
    password_step(page, physio.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    response: Any = page.goto("/api/v1/docs/")

    assert response is not None and "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Handoff API")
    expect(page.locator(".opblock").first).to_be_visible()
    screenshot(page, "swagger-ui-under-csp", axe=False)  # Swagger UI's own markup (drf-spectacular's page)
    assert violations == []
