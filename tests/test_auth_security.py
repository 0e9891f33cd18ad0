"""Authentication and hardening (issue 6): password rules, lockout, two-factor authentication, session
limits, no-store, Content Security Policy, and production settings that pass `check --deploy`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from rest_framework.test import APIClient

from accounts.models import EncryptedTOTPDevice, User
from accounts.services import api_token_create
from config import middleware
from tests import factories as f
from tests.conftest import login_with_second_factor

ROOT = Path(__file__).resolve().parent.parent
HOME = "/"
LOGIN = "/login/"


def code_for(device: EncryptedTOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def confirmed_device(user: User) -> EncryptedTOTPDevice:
    return EncryptedTOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def post_login(client: Client, email: str, password: str = f.TEST_PASSWORD, ip: str = "198.51.100.1") -> Any:
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# --- passwords -----------------------------------------------------------------------------------------


def test_the_four_django_validators_are_on_with_a_minimum_of_twelve_characters() -> None:
    validators = cast(list[dict[str, str]], settings.AUTH_PASSWORD_VALIDATORS)  # django-stubs: list[object]
    names = [v["NAME"].rsplit(".", 1)[-1] for v in validators]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Xq7#vLp2!mZ")  # 11 characters, otherwise strong
    validate_password("Xq7#vLp2!mZa")  # 12


@pytest.mark.parametrize("weak", ["short1!", "123456789012345", "1qaz2wsx3edc", "pat@lakeside.test"], ids=str)
def test_weak_passwords_are_refused(physio: User, weak: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(weak, user=physio)


# --- lockout (django-axes) -----------------------------------------------------------------------------


def fail_logins(client: Client, email: str, times: int, ip: str = "198.51.100.1") -> None:
    """Wrong passwords: the first four show the form again, the fifth and later the lockout page."""
    for attempt in range(1, times + 1):
        response = post_login(client, email, "wrong-password-123", ip=ip)
        assert response.status_code == (200 if attempt < settings.AXES_FAILURE_LIMIT else 429)
        assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_clear_page(
    client: Client, physio: User
) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    fail_logins(client, physio.email, 5)

    response = post_login(client, physio.email)  # the right password, too late

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed logins" in page and "reset your password" in page
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_four_wrong_passwords_do_not_lock_and_a_success_clears_the_count(
    client: Client, physio: User
) -> None:
    fail_logins(client, physio.email, 4)
    assert post_login(client, physio.email).status_code == 302
    client.logout()
    fail_logins(client, physio.email, 4)
    assert post_login(client, physio.email).status_code == 302


def test_the_lockout_is_per_account_and_address(client: Client, physio: User, trainer: User) -> None:
    fail_logins(client, physio.email, 5, ip="198.51.100.1")

    # the same account from another address, and another account from the same address, still log in
    assert post_login(Client(), physio.email, ip="198.51.100.2").status_code == 302
    assert post_login(Client(), trainer.email, ip="198.51.100.1").status_code == 302
    assert post_login(Client(), physio.email, ip="198.51.100.1").status_code == 429


def test_the_lockout_ends_after_the_cool_off(client: Client, physio: User) -> None:
    assert timedelta(minutes=15) <= settings.AXES_COOLOFF_TIME <= timedelta(minutes=30)
    fail_logins(client, physio.email, 5)
    assert post_login(client, physio.email).status_code == 429

    AccessAttempt.objects.update(attempt_time=time_ago(settings.AXES_COOLOFF_TIME + timedelta(seconds=5)))

    assert post_login(client, physio.email).status_code == 302


def test_api_tokens_keep_working_while_the_login_page_is_locked(physio: User) -> None:
    _, raw = api_token_create(user=physio, name="EHR")
    fail_logins(Client(), physio.email, 6, ip="127.0.0.1")
    assert AccessAttempt.objects.filter(username=physio.email).exists()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get("/api/v1/patients/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def time_ago(delta: timedelta) -> Any:
    from django.utils import timezone

    return timezone.now() - delta


# --- two-factor authentication: setting it up -----------------------------------------------------------


def test_the_profile_page_offers_two_factor_authentication(client: Client, trainer: User) -> None:
    client.force_login(trainer)
    page = client.get(reverse("profile")).content.decode()
    assert "Two-factor authentication" in page and reverse("two_factor_setup") in page


def test_setup_shows_a_server_drawn_qr_code_and_the_secret_and_a_right_code_turns_it_on(
    client: Client, trainer: User
) -> None:
    client.force_login(trainer)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1]
    device = EncryptedTOTPDevice.objects.get(user=trainer, confirmed=False)
    assert "otpauth://totp/" in html and device.config_url.replace("&", "&amp;") in html
    assert page["Cache-Control"] == "no-store"  # the secret is on it
    # reloading keeps the same secret: the app scanned once stays right
    client.get(reverse("two_factor_setup"))
    assert EncryptedTOTPDevice.objects.filter(user=trainer).count() == 1

    response = client.post(reverse("two_factor_setup"), {"otp_token": code_for(device)})

    # the backup codes, shown this once
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in response.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert verified(client)
    profile = client.get(reverse("profile")).content.decode()
    assert "<strong>On</strong>" in profile and "Backup codes left: 10" in profile
    assert not any(code in profile for code in codes)


def test_a_wrong_code_at_setup_leaves_it_off(client: Client, trainer: User) -> None:
    client.force_login(trainer)
    client.get(reverse("two_factor_setup"))
    device = EncryptedTOTPDevice.objects.get(user=trainer)

    response = client.post(reverse("two_factor_setup"), {"otp_token": code_for(device, steps_ahead=20)})

    assert response.status_code == 400
    assert "not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and not verified(client)


@pytest.mark.parametrize("bad", ["", "12345", "abcdef", "1234567", "abcdefgh"])
def test_a_malformed_code_is_a_form_error(client: Client, trainer: User, bad: str) -> None:
    client.force_login(trainer)
    response = client.post(reverse("two_factor_setup"), {"otp_token": bad})
    assert response.status_code == 400
    assert not EncryptedTOTPDevice.objects.filter(user=trainer, confirmed=True).exists()


# --- two-factor authentication: logging in --------------------------------------------------------------


def test_with_a_device_the_password_alone_opens_no_page(client: Client, physio: User) -> None:
    device = confirmed_device(physio)
    assert post_login(client, physio.email).status_code == 302

    for url in (HOME, reverse("patient_list"), reverse("profile")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor_verify") + "?next=")
    api = client.get("/api/v1/patients/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"

    response = client.post(reverse("two_factor_verify") + "?next=/patients/", {"otp_token": code_for(device)})

    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get(reverse("patient_list")).status_code == 200
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_wrong_or_reused_code_is_refused_at_login(client: Client, physio: User) -> None:
    device = confirmed_device(physio)
    post_login(client, physio.email)
    code = code_for(device)
    # the same code from another login (a replay) right after this one used it
    assert client.post(reverse("two_factor_verify"), {"otp_token": code}).status_code == 302
    other = Client()
    post_login(other, physio.email)

    response = other.post(reverse("two_factor_verify"), {"otp_token": code})

    assert response.status_code == 400 and "not right" in response.content.decode()
    assert other.get(HOME).status_code == 302


def test_after_a_wrong_code_even_the_right_one_waits_a_moment(client: Client, physio: User) -> None:
    device = confirmed_device(physio)
    post_login(client, physio.email)
    client.post(reverse("two_factor_verify"), {"otp_token": code_for(device, steps_ahead=20)})

    response = client.post(reverse("two_factor_verify"), {"otp_token": code_for(device)})

    assert response.status_code == 400 and not verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()  # the wait is over
    assert client.post(reverse("two_factor_verify"), {"otp_token": code_for(device)}).status_code == 302
    assert verified(client)


def backup_codes(client: Client, user: User) -> list[str]:
    """Turns two-factor on for a logged-in, verified user's session and returns fresh backup codes."""
    response = client.post(reverse("two_factor_backup_codes"))
    assert response.status_code == 200
    return list(response.context["codes"])


def test_a_backup_code_logs_in_once(client: Client, physio: User) -> None:
    confirmed_device(physio)
    codes = backup_codes(login_with_second_factor(client, physio), physio)
    client.logout()

    post_login(client, physio.email)
    response = client.post(reverse("two_factor_verify"), {"otp_token": codes[0].upper()}, follow=True)

    assert response.status_code == 200 and verified(client)
    assert "9 left" in response.content.decode()
    other = Client()
    post_login(other, physio.email)
    assert other.post(reverse("two_factor_verify"), {"otp_token": codes[0]}).status_code == 400
    assert not verified(other)


def test_new_backup_codes_cancel_the_old_ones(client: Client, physio: User) -> None:
    confirmed_device(physio)
    login_with_second_factor(client, physio)
    old = backup_codes(client, physio)
    new = backup_codes(client, physio)
    assert set(old).isdisjoint(new)
    other = Client()
    post_login(other, physio.email)
    assert other.post(reverse("two_factor_verify"), {"otp_token": old[0]}).status_code == 400


def test_backup_codes_need_two_factor_on_and_verified(client: Client, physio: User) -> None:
    client.force_login(physio)
    response = client.post(reverse("two_factor_backup_codes"))
    assert response.status_code == 302
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not StaticDevice.objects.filter(user=physio).exists()


def test_verify_does_not_redirect_to_another_site(client: Client, physio: User) -> None:
    device = confirmed_device(physio)
    post_login(client, physio.email)
    response = client.post(
        reverse("two_factor_verify"), {"otp_token": code_for(device), "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_without_a_device_nothing_changes_for_a_physio_by_default(client: Client, physio: User) -> None:
    assert settings.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS is False
    post_login(client, physio.email)
    assert client.get(HOME).status_code == 200


def test_turning_it_off_needs_a_current_code(client: Client, trainer: User) -> None:
    device = confirmed_device(trainer)
    login_with_second_factor(client, trainer)
    backup_codes(client, trainer)

    client.post(reverse("two_factor_disable"), {"otp_token": code_for(device, steps_ahead=20)})
    assert EncryptedTOTPDevice.objects.filter(user=trainer).exists()
    device.refresh_from_db()
    device.throttle_reset()  # as if the wait a wrong code imposes had passed (tested below)

    response = client.post(reverse("two_factor_disable"), {"otp_token": code_for(device)})

    assert response.status_code == 302
    assert not EncryptedTOTPDevice.objects.filter(user=trainer).exists()
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not StaticDevice.objects.filter(user=trainer).exists()
    assert client.get(HOME).status_code == 200


def test_staff_cannot_turn_it_off(client: Client, clinic_admin: User) -> None:
    login_with_second_factor(client, clinic_admin)
    device = EncryptedTOTPDevice.objects.get(user=clinic_admin)
    client.post(reverse("two_factor_disable"), {"otp_token": code_for(device)})
    assert EncryptedTOTPDevice.objects.filter(user=clinic_admin).exists()


# --- two-factor authentication: required ----------------------------------------------------------------


@pytest.fixture
def physios_need_2fa(settings: Any) -> None:
    settings.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS = True


def test_when_required_a_physio_without_a_device_is_sent_to_set_one_up_before_any_page(
    client: Client, physio: User, physios_need_2fa: None
) -> None:
    post_login(client, physio.email)
    for url in (HOME, reverse("patient_list"), reverse("profile")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor_setup") + "?next=")
    assert client.get("/api/v1/patients/").json()["code"] == "two_factor_required"

    setup = client.get(reverse("two_factor_setup"))
    assert setup.status_code == 200 and "Your account needs it" in setup.content.decode()
    device = EncryptedTOTPDevice.objects.get(user=physio)
    client.post(reverse("two_factor_setup"), {"otp_token": code_for(device)})

    assert client.get(reverse("patient_list")).status_code == 200


def test_when_required_a_trainer_and_token_clients_are_not_affected(
    client: Client, physio: User, trainer: User, physios_need_2fa: None
) -> None:
    post_login(client, trainer.email)
    assert client.get(HOME).status_code == 200
    _, raw = api_token_create(user=physio, name="EHR")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/patients/").status_code == 200


def test_production_requires_it_for_physios_and_test_settings_do_not() -> None:
    text = (ROOT / "config" / "settings" / "production.py").read_text()
    assert 'env.bool("HANDOFF_REQUIRE_2FA_FOR_PHYSIOS", default=True)' in text
    assert settings.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS is False


# --- the admin -----------------------------------------------------------------------------------------


def test_a_staff_user_without_a_device_is_refused_the_admin_and_sent_to_set_one_up(
    client: Client, superuser: User
) -> None:
    client.force_login(superuser)
    for url in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("two_factor_setup") + "?next=" + url.replace("/", "%2F")
    # a POST is refused as well, and changes nothing
    response = client.post(reverse("admin:accounts_user_add"), {"email": "x@y.test"})
    assert response.status_code == 302 and not User.objects.filter(email="x@y.test").exists()
    # the site still works for them
    assert client.get(reverse("profile")).status_code == 200


def test_a_staff_user_with_a_device_must_enter_a_code_for_the_admin(client: Client, superuser: User) -> None:
    device = confirmed_device(superuser)
    post_login(client, superuser.email)
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("two_factor_verify"))

    client.post(reverse("two_factor_verify"), {"otp_token": code_for(device)})

    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_refuses_an_unverified_session_even_past_the_middleware(rf: Any, superuser: User) -> None:
    from django.contrib import admin

    import config.urls  # noqa: F401 - where the admin site gets its two-factor check

    request = rf.get("/admin/")
    request.user = superuser
    superuser.is_verified = lambda: False  # type: ignore[attr-defined]
    assert admin.site.has_permission(request) is False
    superuser.is_verified = lambda: True  # type: ignore[attr-defined]
    assert admin.site.has_permission(request) is True


def test_the_admin_login_is_the_site_login(client: Client) -> None:
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/admin/"


def test_a_logged_in_non_staff_user_gets_403_from_the_admin_not_a_loop(client: Client, physio: User) -> None:
    client.force_login(physio)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


# --- password reset does not bypass the second factor ----------------------------------------------------


def test_a_password_reset_still_asks_for_the_code_at_the_next_login(client: Client, physio: User) -> None:
    device = confirmed_device(physio)
    response = client.post(reverse("password_reset"), {"email": physio.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password-reset/\S+/)", str(mail.outbox[0].body))
    assert link is not None

    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    new_password = "a-brand-new-Passw0rd"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")

    # the reset logged no one in
    assert "_auth_user_id" not in client.session
    assert client.get(HOME)["Location"].startswith(LOGIN)
    # the new password gets as far as the code, no further
    assert post_login(client, physio.email, new_password).status_code == 302
    assert client.get(HOME)["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"otp_token": code_for(device)})
    assert client.get(HOME).status_code == 200


def test_a_password_reset_refuses_a_weak_password(client: Client, physio: User) -> None:
    client.post(reverse("password_reset"), {"email": physio.email})
    link = re.search(r"https?://[^/]+(/password-reset/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    form = client.get(link.group(1), follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    physio.refresh_from_db()
    assert physio.check_password(f.TEST_PASSWORD)


def test_a_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: Client, physio: User
) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.test"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


# --- session limits ------------------------------------------------------------------------------------


def set_session_times(client: Client, *, started_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[middleware.SESSION_STARTED_KEY] = now - started_ago
    session[middleware.SESSION_SEEN_KEY] = now - seen_ago
    session.save()


def test_fifteen_idle_minutes_end_the_session(client: Client, physio: User) -> None:
    client.force_login(physio)
    assert client.get(HOME).status_code == 200
    set_session_times(client, started_ago=20 * 60, seen_ago=15 * 60 + 5)

    response = client.get(reverse("patient_list"), follow=True)

    assert response.redirect_chain[0][0].startswith(LOGIN)
    assert "without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_alive(client: Client, physio: User, monkeypatch: Any) -> None:
    client.force_login(physio)
    client.get(HOME)
    start = time.time()
    # a request every 14 minutes for an hour
    for step in range(1, 5):
        monkeypatch.setattr(middleware, "now", lambda step=step: start + step * 14 * 60)
        assert client.get(HOME).status_code == 200


def test_the_last_seen_time_is_written_at_most_once_a_minute(
    client: Client, physio: User, monkeypatch: Any
) -> None:
    client.force_login(physio)
    start = time.time()
    monkeypatch.setattr(middleware, "now", lambda: start)
    client.get(HOME)
    assert client.session[middleware.SESSION_SEEN_KEY] == start
    monkeypatch.setattr(middleware, "now", lambda: start + 59)
    client.get(HOME)
    assert client.session[middleware.SESSION_SEEN_KEY] == start  # no session write for this page
    monkeypatch.setattr(middleware, "now", lambda: start + 61)
    client.get(HOME)
    assert client.session[middleware.SESSION_SEEN_KEY] == start + 61


def test_twelve_hours_end_the_session_however_active(client: Client, physio: User) -> None:
    client.force_login(physio)
    client.get(HOME)
    set_session_times(client, started_ago=12 * 3600 + 5, seen_ago=10)

    response = client.get(HOME, follow=True)

    assert response.redirect_chain[0][0].startswith(LOGIN)
    assert "12-hour limit" in response.content.decode()


def test_an_expired_session_gets_401_from_the_api(client: Client, physio: User) -> None:
    client.force_login(physio)
    assert client.get("/api/v1/patients/").status_code == 200
    set_session_times(client, started_ago=3600, seen_ago=16 * 60)
    assert client.get("/api/v1/patients/").status_code == 401


def test_the_session_cookie_expires_with_the_absolute_limit() -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY is True and settings.SESSION_COOKIE_SAMESITE == "Lax"


# --- caching and content security policy ---------------------------------------------------------------


def test_pages_and_api_responses_are_no_store_and_static_files_keep_their_caching(
    client: Client, physio: User
) -> None:
    anonymous = Client()
    assert anonymous.get(LOGIN)["Cache-Control"] == "no-store"
    client.force_login(physio)
    for url in (HOME, reverse("patient_list"), reverse("profile"), "/api/v1/patients/", "/nope/"):
        assert client.get(url)["Cache-Control"] == "no-store", url
    static = client.get("/static/css/handoff.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def csp_directives(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_allow_scripts_from_this_site_only(client: Client, physio: User) -> None:
    client.force_login(physio)
    for url in (LOGIN, HOME, reverse("patient_list")):
        directives = csp_directives(client.get(url))
        assert directives["script-src"] == ["'self'"], url
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in directives["style-src"]


def test_swagger_ui_runs_its_start_up_script_with_this_requests_nonce(client: Client, physio: User) -> None:
    client.force_login(physio)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    directives = csp_directives(response)
    nonces = [source for source in directives["script-src"] if source.startswith("'nonce-")]
    assert len(nonces) == 1 and "'unsafe-inline'" not in directives["script-src"]
    nonce = nonces[0][len("'nonce-") : -1]
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    # a second request has another nonce
    assert csp_directives(client.get("/api/v1/docs/"))["script-src"] != directives["script-src"]


def test_no_template_has_an_inline_script_or_event_handler_without_a_nonce() -> None:
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>", text):
            if "src=" not in match["attrs"] and "nonce=" not in match["attrs"]:
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline event handler")
    assert offenders == []


# --- production settings -------------------------------------------------------------------------------


def test_production_settings_pass_the_deploy_check() -> None:
    # the browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE in this process; a server never has it
    scrub = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in scrub}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a-dummy-secret-key-that-is-long-enough-and-random-" + "q8Z3xV1" * 4,
        DJANGO_ALLOWED_HOSTS="handoff.example.org",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/0",
        HANDOFF_SITE_URL="https://handoff.example.org",
        HANDOFF_TOTP_KEYS="dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMDAwMDA=",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
            "s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_PRELOAD, "
            "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.split() == ["True", "True", "True", "Lax", "True", "True", "True", "True"], (
        probe.stderr
    )


# --- the dependency audit gate -------------------------------------------------------------------------


def _audit(**env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_AUDIT_PYPI_API": "http://127.0.0.1:9/pypi", **env}
    return subprocess.run(
        [sys.executable, ".ci/audit.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("mode", "code"), [("fail", 1), ("warn", 0)])
def test_the_audit_gate_says_plainly_when_neither_the_service_nor_the_offline_snapshot_answers(
    mode: str, code: int, tmp_path: Path
) -> None:
    result = _audit(PIP_AUDIT_UNREACHABLE=mode, HANDOFF_ADVISORIES=str(tmp_path / "none.json"))
    assert result.returncode == code
    assert "NOT AUDITED" in result.stderr and "127.0.0.1:9" in result.stderr


def test_without_the_service_the_gate_audits_against_the_offline_snapshot_and_says_how_old_it_is(
    tmp_path: Path,
) -> None:
    result = _audit(PIP_AUDIT_UNREACHABLE="fail")  # the repo's subset: the pinned packages are clean
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audited offline" in result.stdout and "NOT covered" in result.stdout
    # a made-up advisory covering the installed Django: the gate fails and names it
    import django

    subset = json.loads((ROOT / ".ci" / "advisories.json").read_text())
    subset["advisories"]["django"] = [
        {"id": "TEST-1", "aliases": ["CVE-0000-1"], "ranges": [["0", None, "open"]], "versions": []}
    ]
    made_up = tmp_path / "advisories.json"
    made_up.write_text(json.dumps(subset))
    flagged = _audit(PIP_AUDIT_UNREACHABLE="warn", HANDOFF_ADVISORIES=str(made_up))
    assert flagged.returncode == 1
    assert f"VULNERABLE django {django.get_version()}: TEST-1 (CVE-0000-1)" in flagged.stdout
    # a package the snapshot has advisories for but the subset lacks: refresh, not a silent pass
    del subset["advisories"]["django"]
    made_up.write_text(json.dumps(subset))
    stale = _audit(HANDOFF_ADVISORIES=str(made_up))
    assert stale.returncode == 1 and "lacks advisories of django" in stale.stdout


def test_an_advisory_covers_its_ranges_and_versions_only() -> None:
    sys.path.insert(0, str(ROOT / ".ci"))
    import advisories  # type: ignore[import-not-found]  # .ci is not a package: on sys.path above

    data = {
        "packages_in_snapshot": ["pkg"],
        "advisories": {
            "pkg": [
                {"id": "A", "aliases": [], "ranges": [["1.0", "1.4.2", "fixed"]], "versions": []},
                {"id": "B", "aliases": [], "ranges": [["2.0", "2.1", "last"]], "versions": ["0.9"]},
            ]
        },
    }

    def ids(version: str) -> list[str]:
        found, _ = advisories.check({"pkg": version}, data)
        return [line.split(": ")[1] for line in found]

    assert ids("1.4.1") == ["A"] and ids("1.4.2") == [] and ids("0.9") == ["B"]
    assert ids("2.1") == ["B"] and ids("2.1.1") == [] and ids("0.1") == []
