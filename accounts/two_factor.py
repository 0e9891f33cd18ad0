"""Two-factor authentication (TOTP, django-otp): who must use it, who has it, who verified it.

The pages are in accounts/views.py; config.middleware.TwoFactorMiddleware enforces it on every request.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import selectors
from accounts.models import Membership, User

DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def is_verified(request: HttpRequest) -> bool:
    """True once this session entered a valid code (django-otp's OTPMiddleware sets `is_verified`)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check is not None and check())


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_device(user: User) -> bool:
    """A confirmed authenticator app (read with the request's user, see accounts.selectors)."""
    return selectors.has_totp_device(user)


def is_required(user: User) -> bool:
    """Required everywhere for physiotherapists when HANDOFF_REQUIRE_2FA_FOR_PHYSIOS is on. (Staff need it
    for the admin only; the middleware checks that on admin paths.)"""
    if not settings.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS or not getattr(user, "is_authenticated", False):
        return False
    return any(role == Membership.Role.PHYSIOTHERAPIST for _, role in selectors.roles_of(user))


def may_turn_off(user: User) -> bool:
    """Staff and required physiotherapists keep their second factor: they can only replace it."""
    return not (user.is_staff or is_required(user))


def pending_device(user: User) -> TOTPDevice:
    """The not yet confirmed device being set up: the same secret on every reload of the setup page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code, drawn on the server (no script, no CDN)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111827"))


def secret_base32(device: TOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    import base64

    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def remove_other_devices(user: User, *, keep: TOTPDevice | None) -> None:
    """Delete the user's TOTP devices except `keep`; None: all of them, and the backup codes too."""
    devices = TOTPDevice.objects.filter(user=user)
    if keep is not None:
        devices = devices.exclude(pk=keep.pk)
    devices.delete()
    if keep is None:
        StaticDevice.objects.filter(user=user).delete()
    selectors.forget_request_context(user)


def backup_codes_create(user: User) -> list[str]:
    """A fresh set of one-time backup codes (the old set stops working), shown once to the user."""
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    selectors.forget_request_context(user)
    return codes


def backup_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def backup_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()
