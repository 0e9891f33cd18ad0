"""The periodic tasks in the admin: the whole schedule (an entry that never ran too) with each entry's
interval, last run, next due time and a late flag, for superusers only; nobody adds, changes or deletes a
row there."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from referrals.admin.periodic import PeriodicRunAdmin
from referrals.periodic.models import PeriodicRun
from tests.conftest import login_with_second_factor

pytestmark = pytest.mark.django_db


def url(view: str, *args: Any) -> str:
    return reverse(f"admin:referrals_periodicrun_{view}", args=args)


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    return login_with_second_factor(client, superuser)


@pytest.fixture
def runs() -> dict[str, PeriodicRun]:
    """The outbox sweep last started 31 s ago (twice its 15 s is 30: late), the timers' sweep a minute
    ago (on time), the daily three never (their rows made now: not late yet)."""
    now = timezone.now()
    PeriodicRun.objects.update(created_at=now)
    for name, ago in (("sweep-outbox", 31), ("sweep-timers", 60)):
        PeriodicRun.objects.filter(name=name).update(
            last_started_at=now - datetime.timedelta(seconds=ago),
            last_finished_at=now - datetime.timedelta(seconds=ago - 1),
            last_outcome=PeriodicRun.Outcome.OK,
            last_result=3,
            runs=7,
        )
    return {run.name: run for run in PeriodicRun.objects.all()}


def test_the_changelist_shows_every_schedule_entry_with_its_interval_and_a_late_flag(
    admin_client: Client, runs: dict[str, PeriodicRun], settings: Any
) -> None:
    response = admin_client.get(url("changelist"))
    assert response.status_code == 200
    listed = {run.name: run for run in response.context["cl"].result_list}
    assert set(listed) == set(settings.CELERY_BEAT_SCHEDULE)
    model_admin = admin.site._registry[PeriodicRun]
    assert isinstance(model_admin, PeriodicRunAdmin)
    shown = {
        name: (model_admin.every(run), model_admin.outcome(run), model_admin.late(run))
        for name, run in listed.items()
    }
    assert shown == {
        "sweep-outbox": ("every 15 seconds", "ok", True),
        "sweep-timers": ("every 5 minutes", "ok", False),
        "review-eligibility": ("every day", "never run", False),
        "notify-reports-overdue": ("every day", "never run", False),
        "trim-records": ("every day", "never run", False),
    }
    timers = listed["sweep-timers"]
    assert model_admin.next_due(timers) == timers.last_started_at + datetime.timedelta(minutes=5)
    content = response.content.decode()
    for text in (
        "every 15 seconds",
        "every 5 minutes",
        "every day",
        "never run",
        "referrals.tasks.sweep_timers",
    ):
        assert text in content
    assert 'alt="True"' in content and 'alt="False"' in content  # the late column's icons


def test_the_late_filter_lists_the_late_entries_only(
    admin_client: Client, runs: dict[str, PeriodicRun]
) -> None:
    late = admin_client.get(url("changelist"), {"late": "yes"})
    assert [run.name for run in late.context["cl"].result_list] == ["sweep-outbox"]
    on_time = admin_client.get(url("changelist"), {"late": "no"})
    assert "sweep-outbox" not in {run.name for run in on_time.context["cl"].result_list}
    assert len(on_time.context["cl"].result_list) == 4


def test_the_changelist_says_what_late_means_and_links_to_the_clinics_timers(admin_client: Client) -> None:
    content = admin_client.get(url("changelist")).content.decode()
    assert "within 2 times its interval" in content
    assert f'href="{reverse("admin:accounts_organization_changelist")}?kind__exact=clinic"' in content


def test_a_row_whose_entry_left_the_schedule_is_shown_as_such(admin_client: Client) -> None:
    PeriodicRun.objects.create(name="retired-sweep", task="referrals.tasks.retired")
    response = admin_client.get(url("changelist"))
    assert "not in the schedule" in response.content.decode()


def test_a_row_opens_read_only_with_its_last_error(
    admin_client: Client, runs: dict[str, PeriodicRun]
) -> None:
    run = runs["sweep-timers"]
    PeriodicRun.objects.filter(pk=run.pk).update(
        last_outcome=PeriodicRun.Outcome.FAILED, last_error="django.db.utils.OperationalError"
    )
    response = admin_client.get(url("change", run.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "django.db.utils.OperationalError" in content
    assert 'name="_save"' not in content


def test_nobody_adds_changes_or_deletes_a_row_in_the_admin(
    admin_client: Client, superuser: User, runs: dict[str, PeriodicRun]
) -> None:
    run = runs["sweep-outbox"]
    model_admin = admin.site._registry[PeriodicRun]
    request = RequestFactory().get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request, run)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, run)
    assert not model_admin.has_delete_permission(request, run)
    assert "delete_selected" not in model_admin.get_actions(request)
    before = list(PeriodicRun.objects.order_by("pk").values())
    assert admin_client.get(url("add")).status_code == 403
    assert admin_client.post(url("add"), {"name": "extra", "task": "referrals.tasks.x"}).status_code == 403
    changed = {"name": "renamed", "task": run.task, "runs": "0", "failures": "0", "_save": "Save"}
    assert admin_client.post(url("change", run.pk), changed).status_code == 403
    assert admin_client.get(url("delete", run.pk)).status_code == 403
    assert admin_client.post(url("delete", run.pk), {"post": "yes"}).status_code == 403
    assert list(PeriodicRun.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("with_membership", [True, False], ids=["org-admin", "staff"])
def test_staff_who_are_not_superusers_cannot_see_the_periodic_tasks_even_with_every_permission(
    client: Client, clinic_admin: User, with_membership: bool
) -> None:
    user = clinic_admin
    if not with_membership:
        user.memberships.all().delete()
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())
    user.groups.add(group)
    login_with_second_factor(client, user)
    run = PeriodicRun.objects.get(name="sweep-outbox")
    assert client.get(url("changelist")).status_code == 403
    assert client.get(url("change", run.pk)).status_code == 403
    assert client.get(url("history", run.pk)).status_code == 403
    assert url("changelist") not in client.get(reverse("admin:index")).content.decode()
