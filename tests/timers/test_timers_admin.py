"""A clinic's own timers in the admin: an inline of the clinic's page (not a gym's), with ranges."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from referrals.admin.accounts import ClinicTimersInline
from referrals.timers import schedule
from referrals.timers.models import ClinicTimers
from tests.conftest import login_with_second_factor

pytestmark = pytest.mark.django_db


def test_the_timers_are_on_a_clinics_admin_page_and_not_on_a_gyms(
    client: Client, clinic: Organization, gym: Organization, admin_user: User
) -> None:
    model_admin = admin.site._registry[Organization]
    login_with_second_factor(client, admin_user)
    page = client.get(reverse("admin:accounts_organization_change", args=[clinic.pk]))
    assert page.status_code == 200
    assert "remind_after_hours" in page.content.decode()
    request = page.wsgi_request
    assert any(isinstance(i, ClinicTimersInline) for i in model_admin.get_inline_instances(request, clinic))
    assert not any(isinstance(i, ClinicTimersInline) for i in model_admin.get_inline_instances(request, gym))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("remind_after_hours", 0),
        ("remind_after_hours", 721),
        ("escalate_after_days", 61),
        ("expire_after_days", 0),
    ],
)
def test_a_timer_out_of_range_is_refused(clinic: Organization, field: str, value: int) -> None:
    timers = ClinicTimers(clinic=clinic, **{field: value})
    with pytest.raises(ValidationError) as raised:
        timers.full_clean()
    assert field in raised.value.message_dict


def test_an_empty_setting_is_the_default_and_a_set_one_replaces_it(
    clinic: Organization, settings: Any
) -> None:
    settings.HANDOFF_TIMER_DEFAULTS = {**settings.HANDOFF_TIMER_DEFAULTS, "escalate_after_days": 5}
    ClinicTimers.objects.create(clinic=clinic, remind_after_hours=24)
    timers = schedule.timers_for_clinics([clinic.pk])[clinic.pk]
    assert (timers.remind_after_hours, timers.escalate_after_days) == (24, 5)
