"""The TOTP devices move from django-otp's table (secret in plain text) to EncryptedTOTPDevice (secret
encrypted under HANDOFF_TOTP_KEYS), and django-otp's table is emptied: no plaintext secret is left.

Each device keeps its user, name, state and timestamps, so nobody sets up their app again; it gets a new
id, and so a new persistent id (`accounts.encryptedtotpdevice/<id>`): a session verified with the old
device asks for a code once more after the deploy. Reversible while the keys that encrypted the secrets
are still in HANDOFF_TOTP_KEYS: the reverse decrypts them back into django-otp's table.

The key is copied as plain text: EncryptedTextField encrypts it on save (with the keys of the settings
this migrate runs under, which must therefore be the deployment's)."""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
    "key",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
)


def _move(source: Any, target: Any, using: str) -> None:
    for device in source.objects.using(using).order_by("pk").iterator():
        values = {field: getattr(device, field) for field in FIELDS}
        moved = target.objects.using(using).create(**values)
        # created_at is auto_now_add: the create wrote the migrate's time over the device's own
        target.objects.using(using).filter(pk=moved.pk).update(created_at=values["created_at"])
    source.objects.using(using).all().delete()


def encrypt_secrets(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(
        apps.get_model("otp_totp", "TOTPDevice"),
        apps.get_model("accounts", "EncryptedTOTPDevice"),
        schema_editor.connection.alias,
    )


def decrypt_secrets(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(
        apps.get_model("accounts", "EncryptedTOTPDevice"),
        apps.get_model("otp_totp", "TOTPDevice"),
        schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_encrypted_totp_device"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
