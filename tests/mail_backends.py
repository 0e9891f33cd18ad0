"""Stand-ins for the SMTP server abroad: the one true external edge of the notification pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    """Fails `failures_left` times with a connection error, then delivers into mail.outbox."""

    failures_left: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise ConnectionRefusedError("SMTP server unavailable")
        return super().send_messages(messages)


def set_failures(n: int) -> Any:
    FlakyBackend.failures_left = n
    return FlakyBackend
