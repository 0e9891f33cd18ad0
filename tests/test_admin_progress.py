"""The admin of session logs and progress reports: read-only for everyone, scoped to the clinic."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from referrals.audit.models import AccessLog
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.progress.models import SessionLog
from tests import factories as f
from tests.conftest import World, login_with_second_factor

pytestmark = pytest.mark.django_db


def test_an_org_admin_views_their_clinics_session_logs_read_only_and_nobody_elses(
    client: Client, world: World, requested: TrainerHandoff, clinic_admin: User, other_clinic: Any
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    log = SessionLog.objects.create(
        handoff=requested, session_date=timezone.localdate(), attendance="attended", logged_by=world.trainer
    )
    model_admin = admin.site._registry[SessionLog]
    everything = Permission.objects.filter(content_type__app_label="referrals")
    clinic_admin.user_permissions.set(everything)  # the model permissions: the scope and read-only decide
    login_with_second_factor(client, clinic_admin)
    change = reverse("admin:referrals_sessionlog_change", args=[log.pk])
    page = client.get(change)
    assert page.status_code == 200
    # the read is in the access log, as the referral's (as the session's page records it)
    read = AccessLog.objects.get(user=clinic_admin, channel=AccessLog.Channel.ADMIN)
    assert (read.handoff_id, read.object_public_id) == (requested.pk, requested.public_id)
    assert not model_admin.has_add_permission(page.wsgi_request)
    assert not model_admin.has_change_permission(page.wsgi_request, log)
    assert not model_admin.has_delete_permission(page.wsgi_request, log)
    assert client.post(change, {"attendance": "no_show"}).status_code == 403
    log.refresh_from_db()
    assert log.attendance == "attended"
    outsider = f.UserFactory(is_staff=True)
    outsider.user_permissions.set(everything)
    f.MembershipFactory(user=outsider, organization=other_clinic, role=Membership.Role.ORG_ADMIN)
    login_with_second_factor(client, outsider)
    assert client.get(change).status_code in (302, 404)
    assert not AccessLog.objects.filter(user=outsider).exists()  # nothing shown, nothing logged
    listing = client.get(reverse("admin:referrals_sessionlog_changelist"))
    assert listing.status_code == 200 and log not in listing.context["cl"].queryset


def test_the_handoff_admin_shows_the_business_status_read_only() -> None:
    from referrals.admin.handoffs import TrainerHandoffAdmin

    assert "business_status" in TrainerHandoffAdmin.readonly_fields
