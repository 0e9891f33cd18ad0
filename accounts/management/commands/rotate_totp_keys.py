"""Re-encrypt every TOTP secret with the first key of HANDOFF_TOTP_KEYS: the middle step of a rotation.

1. Put the new key first in HANDOFF_TOTP_KEYS, the old ones after it, and restart every process (web,
   worker, beat): each then encrypts with the new key and still decrypts with the old.
2. Run this command.
3. Remove the old keys and restart again.

docs/security.md has the whole procedure. Idempotent: a second run re-encrypts again and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor


class Command(BaseCommand):
    help = "Re-encrypt every TOTP secret with the first key of HANDOFF_TOTP_KEYS (docs/security.md)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = two_factor.totp_secrets_rotate()
        left = two_factor.totp_secrets_not_under_first_key()
        if left:
            raise CommandError(
                f"Re-encrypted {count} TOTP secret(s), but {left} still need another key than the first "
                "(a process still running with the old key list saved them): restart every process with "
                "the new list first, then run this command again."
            )
        self.stdout.write(
            f"Re-encrypted {count} TOTP secret(s) with the first key of HANDOFF_TOTP_KEYS; every secret "
            "now decrypts with it alone, so the other keys may be removed."
        )
