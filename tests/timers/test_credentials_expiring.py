"""A credential about to lapse (issue 16): 30 days before, the trainer and their gym's admins are reminded,
once per credential and expiry date; a renewal (a new date) is reminded in its turn."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import Membership, User
from referrals.notify.models import Notification, OutboxMessage
from referrals.timers import credentials as timers_credentials
from tests import factories as f
from tests.conftest import World

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 1)


def _reminded() -> set[tuple[int, str]]:
    return set(
        Notification.objects.filter(kind="credential_expiring").values_list("recipient_id", "source_key")
    )


def test_the_trainer_and_the_gym_admins_are_reminded_once_thirty_days_ahead(
    world: World, other_trainer: User
) -> None:
    admin = f.UserFactory(full_name="Gym Admin")
    f.MembershipFactory(user=admin, organization=world.gym, role=Membership.Role.ORG_ADMIN)
    cert = world.trainer.trainer_profile.certifications.get()
    cert.expiry = TODAY + datetime.timedelta(days=31)
    cert.save()
    profile = world.trainer.trainer_profile
    profile.cpr_aed_expiry = TODAY + datetime.timedelta(days=300)
    profile.save()
    other = other_trainer.trainer_profile
    other.certifications.update(expiry=TODAY + datetime.timedelta(days=400))
    other.cpr_aed_expiry = TODAY + datetime.timedelta(days=400)
    other.save()
    assert timers_credentials.credentials_expiring_sweep(today=TODAY) == 0  # 31 days: not yet
    assert timers_credentials.credentials_expiring_sweep(today=TODAY + datetime.timedelta(days=1)) == 1
    key = f"credential-expiring:cert:{cert.pk}:{cert.expiry.isoformat()}"
    assert _reminded() == {(world.trainer.pk, key), (admin.pk, key)}
    title = Notification.objects.filter(kind="credential_expiring").first()
    assert title is not None and world.trainer.full_name in title.title and "expires on" in title.title
    timers_credentials.credentials_expiring_sweep(today=TODAY + datetime.timedelta(days=5))  # again
    assert len(_reminded()) == 2 and OutboxMessage.objects.filter(kind="credential_expiring").count() == 2
    cert.expiry = TODAY + datetime.timedelta(days=20)  # renewed to another date (or corrected)
    cert.save()
    timers_credentials.credentials_expiring_sweep(today=TODAY + datetime.timedelta(days=5))
    assert len(_reminded()) == 4


def test_an_expired_credential_and_an_inactive_trainer_are_not_reminded(world: World) -> None:
    profile = world.trainer.trainer_profile
    profile.cpr_aed_expiry = TODAY + datetime.timedelta(days=300)
    profile.save()
    cert = profile.certifications.get()
    cert.expiry = TODAY - datetime.timedelta(days=1)
    cert.save()
    assert timers_credentials.credentials_expiring_sweep(today=TODAY) == 0  # lapsed: the daily review's
    assert not Notification.objects.filter(kind="credential_expiring").exists()
    cert.expiry = TODAY + datetime.timedelta(days=3)
    cert.save()
    User.objects.filter(pk=world.trainer.pk).update(is_active=False)
    assert timers_credentials.credentials_expiring_sweep(today=TODAY) == 0
    assert not Notification.objects.filter(kind="credential_expiring").exists()
