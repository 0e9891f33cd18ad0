"""The Django admin of the referral areas, one module per area; importing this package registers them."""

from referrals.admin import (  # noqa: F401
    accounts,
    audit,
    care,
    concerns,
    handoffs,
    library,
    notify,
    periodic,
    progress,
)
