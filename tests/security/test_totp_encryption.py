"""The TOTP secrets are encrypted at rest (accounts.encryption, accounts.models.EncryptedTOTPDevice): the
column holds a Fernet token, never the hex secret; django-otp's verification still works; the keys rotate
(HANDOFF_TOTP_KEYS, `manage.py rotate_totp_keys`); the migration moves the plaintext devices over and
back; a missing or bad key list is refused."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import django_otp
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from accounts import checks, encryption, two_factor
from accounts.models import EncryptedTOTPDevice, User
from config.settings.base import derived_totp_key
from tests.conftest import login_with_second_factor

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_key(device: EncryptedTOTPDevice) -> str:
    """The key column as the database holds it, read past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT "key" FROM accounts_encryptedtotpdevice WHERE id = %s', [device.pk])
        return str(cursor.fetchone()[0])


def code_for(device: EncryptedTOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return str(totp.token()).zfill(device.digits)


def test_the_secret_is_stored_encrypted_never_as_the_hex_key(physio: User) -> None:
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone", confirmed=True)
    raw = stored_key(device)
    assert len(device.key) == 40 and int(device.key, 16) >= 0  # Python sees django-otp's hex secret
    assert raw != device.key
    assert device.key not in raw and device.key.upper() not in raw
    assert encryption.decrypt(raw) == device.key
    assert EncryptedTOTPDevice.objects.get(pk=device.pk).key == device.key


def test_every_save_writes_a_fresh_token_of_the_same_secret(physio: User) -> None:
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone", confirmed=True)
    first = stored_key(device)
    device.save()
    assert stored_key(device) != first
    assert encryption.decrypt(stored_key(device)) == encryption.decrypt(first) == device.key


def test_django_otp_verifies_a_code_of_the_encrypted_secret(physio: User) -> None:
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone", confirmed=True)
    verified = django_otp.verify_token(physio, device.persistent_id, code_for(device))
    assert isinstance(verified, EncryptedTOTPDevice) and verified.pk == device.pk
    # the same code twice is refused (django-otp's last_t), the row still encrypted after its saves
    assert django_otp.verify_token(physio, device.persistent_id, code_for(device)) is None
    assert EncryptedTOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1
    assert stored_key(device) != device.key
    assert "secret=" in device.config_url and device.persistent_id.startswith("accounts.encryptedtotpdevice/")


def test_the_secret_column_cannot_be_searched(physio: User) -> None:
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone", confirmed=True)
    with pytest.raises(FieldError):
        EncryptedTOTPDevice.objects.filter(key=device.key).exists()
    assert EncryptedTOTPDevice.objects.filter(key__isnull=False).count() == 1


def test_the_device_has_every_field_of_django_otps_totp_device_with_the_key_encrypted() -> None:
    """A django-otp upgrade that adds or changes a field fails here (the borrowed verification code may
    read it): then follow it in EncryptedTOTPDevice and a migration."""

    def described(model: Any) -> dict[str, Any]:
        return {
            field.name: (type(field), field.deconstruct()[3])
            for field in model._meta.concrete_fields
            if field.name not in ("id", "key")
        }

    assert described(EncryptedTOTPDevice) == described(PlainTOTPDevice)
    key = EncryptedTOTPDevice._meta.get_field("key")
    assert isinstance(key, encryption.EncryptedTextField)
    assert key.default is PlainTOTPDevice._meta.get_field("key").default
    for name in ("bin_key", "verify_token", "get_throttle_factor", "config_url"):
        assert EncryptedTOTPDevice.__dict__[name] is PlainTOTPDevice.__dict__[name]


def test_rotation_re_encrypts_every_secret_with_the_first_key_so_the_old_one_can_go(
    physio: User, trainer: User, settings: Any
) -> None:
    settings.HANDOFF_TOTP_KEYS = [OLD_KEY]
    devices = [EncryptedTOTPDevice.objects.create(user=user, name="Phone") for user in (physio, trainer)]
    secrets = {device.pk: device.key for device in devices}
    settings.HANDOFF_TOTP_KEYS = [NEW_KEY, OLD_KEY]  # step 1: the new key first, the old one still read
    assert two_factor.totp_secrets_not_under_first_key() == 2
    out = StringIO()
    call_command("rotate_totp_keys", stdout=out)
    assert "Re-encrypted 2 TOTP secret(s)" in out.getvalue() and "may be removed" in out.getvalue()
    assert two_factor.totp_secrets_not_under_first_key() == 0
    for device in devices:
        assert Fernet(NEW_KEY.encode()).decrypt(stored_key(device).encode()).decode() == secrets[device.pk]
    settings.HANDOFF_TOTP_KEYS = [NEW_KEY]  # step 3: the old key removed
    loaded = EncryptedTOTPDevice.objects.get(pk=devices[0].pk)
    assert loaded.key == secrets[loaded.pk]
    assert django_otp.verify_token(physio, loaded.persistent_id, code_for(loaded)) is not None


def test_rotation_goes_in_batches_and_a_second_run_changes_no_secret(physio: User, settings: Any) -> None:
    settings.HANDOFF_TOTP_KEYS = [OLD_KEY]
    devices = [EncryptedTOTPDevice.objects.create(user=physio, name=f"Phone {i}") for i in range(5)]
    settings.HANDOFF_TOTP_KEYS = [NEW_KEY, OLD_KEY]
    assert two_factor.totp_secrets_rotate(batch_size=2) == 5
    assert two_factor.totp_secrets_rotate(batch_size=2) == 5
    assert two_factor.totp_secrets_not_under_first_key() == 0
    assert {d.pk: d.key for d in EncryptedTOTPDevice.objects.all()} == {d.pk: d.key for d in devices}


def test_a_secret_no_key_decrypts_fails_loudly(physio: User, settings: Any) -> None:
    settings.HANDOFF_TOTP_KEYS = [OLD_KEY]
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Phone")
    settings.HANDOFF_TOTP_KEYS = [NEW_KEY]  # the old key dropped before the rotation
    with pytest.raises(encryption.UndecryptableSecret, match="rotate_totp_keys"):
        EncryptedTOTPDevice.objects.get(pk=device.pk)


def test_the_development_and_test_settings_derive_the_key_from_the_secret_key(settings: Any) -> None:
    assert [derived_totp_key(settings.SECRET_KEY)] == settings.HANDOFF_TOTP_KEYS
    assert derived_totp_key("another") != derived_totp_key(settings.SECRET_KEY)
    Fernet(derived_totp_key("another").encode())  # a valid Fernet key


def test_superusers_see_and_delete_a_device_in_the_admin_never_its_secret(
    client: Client, superuser: User, physio: User
) -> None:
    device = EncryptedTOTPDevice.objects.create(user=physio, name="Lost phone", confirmed=True)
    login_with_second_factor(client, superuser)
    listing = client.get(reverse("admin:accounts_encryptedtotpdevice_changelist")).content.decode()
    assert "Lost phone" in listing
    page = client.get(reverse("admin:accounts_encryptedtotpdevice_change", args=[device.pk]))
    assert page.status_code == 200 and device.key not in page.content.decode()
    assert client.get(reverse("admin:accounts_encryptedtotpdevice_add")).status_code == 403
    deleted = client.post(
        reverse("admin:accounts_encryptedtotpdevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302 and not EncryptedTOTPDevice.objects.filter(pk=device.pk).exists()
    with pytest.raises(NoReverseMatch):  # django-otp's admin, which shows the plaintext secret, is gone
        reverse("admin:otp_totp_totpdevice_changelist")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([], ["HANDOFF_TOTP_KEYS is empty"]),
        ([""], ["key 1 of 1 is not a Fernet key"]),
        ([NEW_KEY, "not-a-key"], ["key 2 of 2 is not a Fernet key"]),
        ([NEW_KEY, OLD_KEY], []),
    ],
)
def test_the_system_check_refuses_an_empty_or_bad_key_list(
    keys: list[str], expected: list[str], settings: Any
) -> None:
    settings.HANDOFF_TOTP_KEYS = keys
    errors = checks.totp_keys_check()
    assert [e.id for e in errors] == ["accounts.E001"] * len(expected)
    for error, text in zip(errors, expected, strict=True):
        assert text in error.msg
        assert "not-a-key" not in error.msg  # a key is never quoted


# --- the migration: the plaintext devices move over encrypted, and back ---------------------------------

BEFORE = [("accounts", "0004_encrypted_totp_device"), ("otp_totp", "0003_add_timestamps")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_existing_plaintext_secrets_and_reverses(physio: User) -> None:
    hex_key = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, as django-otp stores it
    try:
        old = _migrate(BEFORE)
        plain = old.get_model("otp_totp", "TOTPDevice").objects.create(
            user_id=physio.pk, name="Phone", confirmed=True, key=hex_key, last_t=7
        )
        old.get_model("otp_totp", "TOTPDevice").objects.filter(pk=plain.pk).update(
            created_at="2025-01-02T03:04:05Z"
        )
        _migrate([])
        assert not PlainTOTPDevice.objects.exists()  # no plaintext secret left behind
        device = EncryptedTOTPDevice.objects.get()
        assert (device.user_id, device.name, device.confirmed, device.key, device.last_t) == (
            physio.pk,
            "Phone",
            True,
            hex_key,
            7,
        )
        assert device.created_at.isoformat().startswith("2025-01-02T03:04:05")
        assert hex_key not in stored_key(device)
        old = _migrate(BEFORE)
        back = old.get_model("otp_totp", "TOTPDevice").objects.get()
        assert (back.user_id, back.key, back.last_t) == (physio.pk, hex_key, 7)
        assert not old.get_model("accounts", "EncryptedTOTPDevice").objects.exists()
    finally:
        _migrate([])
