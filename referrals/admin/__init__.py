"""The Django admin of the referral areas, one module per area; importing this package registers them."""

from referrals.admin import accounts, audit, care, concerns, handoffs, library, notify, progress  # noqa: F401
