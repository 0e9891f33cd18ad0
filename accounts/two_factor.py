"""Two-factor authentication (TOTP, django-otp): who must use it, who has it, who verified it, and the
rotation of the keys its secrets are encrypted with (accounts.encryption).

The pages are in accounts/views.py; config.middleware.TwoFactorMiddleware enforces it on every request.
The devices are accounts.models.EncryptedTOTPDevice (django-otp's TOTP device, its secret encrypted).
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts import encryption, selectors
from accounts.models import EncryptedTOTPDevice, Membership, User

DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
ROTATE_BATCH_SIZE = 500


def is_verified(request: HttpRequest) -> bool:
    """True once this session entered a valid code (django-otp's OTPMiddleware sets `is_verified`)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check is not None and check())


def confirmed_device(user: User) -> EncryptedTOTPDevice | None:
    return EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


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


def pending_device(user: User) -> EncryptedTOTPDevice:
    """The not yet confirmed device being set up: the same secret on every reload of the setup page."""
    device = EncryptedTOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = EncryptedTOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: EncryptedTOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code, drawn on the server (no script, no CDN)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111827"))


def secret_base32(device: EncryptedTOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    import base64

    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def remove_other_devices(user: User, *, keep: EncryptedTOTPDevice | None) -> None:
    """Delete the user's TOTP devices except `keep`; None: all of them, and the backup codes too."""
    devices = EncryptedTOTPDevice.objects.filter(user=user)
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


def totp_secrets_rotate(*, batch_size: int = ROTATE_BATCH_SIZE) -> int:
    """Re-encrypt every device's secret under the first key of HANDOFF_TOTP_KEYS (each is read with
    whichever key decrypts it): the step of a key rotation that lets the old keys go (docs/security.md).
    In batches by id, each in its own transaction with its rows locked, so a code verified at the same
    moment waits and then saves the same secret; a second run re-encrypts again and changes nothing else.
    The number of secrets re-encrypted."""
    done, after = 0, 0
    while True:
        with transaction.atomic():
            devices = list(
                EncryptedTOTPDevice.objects.select_for_update()
                .filter(pk__gt=after)
                .order_by("pk")[:batch_size]
            )
            if not devices:
                return done
            for device in devices:
                device.save(update_fields=["key"])
        done += len(devices)
        after = devices[-1].pk


def totp_secrets_not_under_first_key() -> int:
    """How many stored secrets the first key alone cannot decrypt: 0 after a rotation, when every other
    key of HANDOFF_TOTP_KEYS may be removed. Reads the tokens as stored, not decrypted."""
    stored = EncryptedTOTPDevice.objects.annotate(token=Cast("key", TextField()))
    tokens = stored.values_list("token", flat=True).iterator()
    return sum(1 for token in tokens if not encryption.is_under_first_key(str(token)))
