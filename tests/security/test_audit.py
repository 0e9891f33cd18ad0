"""The access log: every read of a patient's data through the pages, the API and the admin is recorded (who,
what, when, from which address, through which channel); nobody can edit or delete a row; superusers read
it in the admin, filtered by patient and by user. With the event log it answers "who saw or changed this
patient's data"."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import User
from referrals.audit import selectors as audit_selectors
from referrals.audit.models import AccessLog, AppendOnlyError
from referrals.handoffs.models import TrainerHandoff
from tests import factories as f
from tests.conftest import World, login, login_with_second_factor

IP = "203.0.113.7"
Channel = AccessLog.Channel
Type = AccessLog.ObjectType


def logged(**filters: Any) -> list[tuple[Any, ...]]:
    return list(
        AccessLog.objects.filter(**filters)
        .order_by("id")
        .values_list("user_id", "channel", "object_type", "object_public_id", "ip_address")
    )


def test_each_page_read_of_patient_data_is_logged_with_who_what_and_where(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    patient = world.plan.patient
    login(client, world.physio)
    pages = [
        (reverse("patient_detail", args=[patient.public_id]), Type.PATIENT, patient.public_id),
        (reverse("plan_detail", args=[world.plan.public_id]), Type.PLAN, world.plan.public_id),
        (reverse("handoff_detail", args=[requested.public_id]), Type.HANDOFF, requested.public_id),
        (reverse("handoff_handout", args=[requested.public_id]), Type.HANDOUT, requested.public_id),
        # The edit forms show the record too.
        (reverse("patient_edit", args=[patient.public_id]), Type.PATIENT, patient.public_id),
        (reverse("plan_edit", args=[world.plan.public_id]), Type.PLAN, world.plan.public_id),
    ]
    for url, _, _ in pages:
        assert client.get(url, REMOTE_ADDR=IP).status_code == 200
    assert logged(patient=patient) == [
        (world.physio.pk, Channel.PAGE, kind, public_id, IP) for _, kind, public_id in pages
    ]
    rows = list(AccessLog.objects.order_by("id"))
    assert [row.path for row in rows] == [url for url, _, _ in pages]
    assert [row.handoff_id for row in rows] == [None, None, requested.pk, requested.pk, None, None]


def test_the_trainers_reads_are_logged_too(client: Client, world: World, requested: TrainerHandoff) -> None:
    login(client, world.trainer)
    client.get(reverse("handoff_detail", args=[requested.public_id]), REMOTE_ADDR=IP)
    client.get(reverse("handoff_handout", args=[requested.public_id]), REMOTE_ADDR=IP)
    assert logged(user=world.trainer) == [
        (world.trainer.pk, Channel.PAGE, Type.HANDOFF, requested.public_id, IP),
        (world.trainer.pk, Channel.PAGE, Type.HANDOUT, requested.public_id, IP),
    ]


def test_each_api_read_is_logged_with_the_api_channel(
    client: Client, world: World, requested: TrainerHandoff
) -> None:
    login(client, world.physio)
    reads = [
        (f"/api/v1/patients/{world.plan.patient.public_id}/", Type.PATIENT, world.plan.patient.public_id),
        (f"/api/v1/plans/{world.plan.public_id}/", Type.PLAN, world.plan.public_id),
        (f"/api/v1/handoffs/{requested.public_id}/", Type.HANDOFF, requested.public_id),
        (f"/api/v1/handoffs/{requested.public_id}/events/", Type.HANDOFF_EVENTS, requested.public_id),
    ]
    for url, _, _ in reads:
        assert client.get(url, REMOTE_ADDR=IP).status_code == 200
    assert logged() == [(world.physio.pk, Channel.API, kind, public_id, IP) for _, kind, public_id in reads]


def test_admin_change_pages_of_patient_plan_and_handoff_are_logged(
    client: Client, superuser: User, world: World, requested: TrainerHandoff
) -> None:
    login_with_second_factor(client, superuser)
    patient = world.plan.patient
    for name, obj in (
        ("referrals_patient_change", patient),
        ("referrals_treatmentplan_change", world.plan),
        ("referrals_trainerhandoff_change", requested),
    ):
        assert client.get(reverse(f"admin:{name}", args=[obj.pk]), REMOTE_ADDR=IP).status_code == 200
    assert logged(patient=patient) == [
        (superuser.pk, Channel.ADMIN, Type.PATIENT, patient.public_id, IP),
        (superuser.pk, Channel.ADMIN, Type.PLAN, world.plan.public_id, IP),
        (superuser.pk, Channel.ADMIN, Type.HANDOFF, requested.public_id, IP),
    ]


def test_lists_and_refused_reads_are_not_logged_as_reads_of_a_record(
    client: Client, world: World, requested: TrainerHandoff, other_trainer: User, other_clinic_physio: User
) -> None:
    response = login(client, other_trainer).get(reverse("handoff_detail", args=[requested.public_id]))
    assert response.status_code == 404
    url = reverse("patient_detail", args=[world.plan.patient.public_id])
    assert login(client, other_clinic_physio).get(url).status_code == 404
    assert login(client, world.physio).get(reverse("patient_list")).status_code == 200
    assert not AccessLog.objects.exists()


def test_x_forwarded_for_is_ignored_unless_a_setting_trusts_a_proxy(
    client: Client, world: World, settings: Any
) -> None:
    url = reverse("patient_detail", args=[world.plan.patient.public_id])
    login(client, world.physio)
    client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    settings.HANDOFF_TRUSTED_PROXY_COUNT = 1
    client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9")
    client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not an address")
    assert list(AccessLog.objects.order_by("id").values_list("ip_address", flat=True)) == [
        "10.0.0.2",  # not trusted: the client could have written the header itself
        "198.51.100.9",  # one trusted proxy: the address it saw, not what the client claimed before it
        None,  # garbage is not recorded as an address
    ]


# --- append-only ---------------------------------------------------------------------------------------


@pytest.fixture
def entry(client: Client, world: World) -> AccessLog:
    login(client, world.physio).get(reverse("patient_detail", args=[world.plan.patient.public_id]))
    return AccessLog.objects.get()


def test_an_access_log_row_cannot_be_updated(entry: AccessLog) -> None:
    entry.ip_address = "192.0.2.1"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(ip_address="192.0.2.1")
    with pytest.raises(AppendOnlyError), transaction.atomic():  # bulk_update marks its transaction failed
        AccessLog.objects.bulk_update([entry], ["ip_address"])
    entry.refresh_from_db()
    assert entry.ip_address == "127.0.0.1"


def test_an_access_log_row_cannot_be_deleted(entry: AccessLog) -> None:
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_the_patient_of_a_logged_read_cannot_be_deleted(entry: AccessLog) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        entry.patient.delete()  # type: ignore[union-attr]


# --- the admin: superusers only, read-only, filtered by patient and user --------------------------------


def test_superusers_read_the_log_but_cannot_add_change_or_delete(entry: AccessLog, superuser: User) -> None:
    model_admin = admin.site._registry[AccessLog]
    request = RequestFactory().get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_staff_who_are_not_superusers_cannot_see_the_log_even_with_every_permission(
    client: Client, entry: AccessLog, clinic_admin: User
) -> None:
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())
    clinic_admin.groups.add(group)
    login_with_second_factor(client, clinic_admin)
    assert client.get(reverse("admin:referrals_accesslog_changelist")).status_code == 403
    assert client.get(reverse("admin:referrals_accesslog_change", args=[entry.pk])).status_code == 403
    index = client.get(reverse("admin:index"))
    assert reverse("admin:referrals_accesslog_changelist") not in index.content.decode()


def test_the_log_is_filtered_by_patient_and_by_user_in_the_admin(
    client: Client, world: World, requested: TrainerHandoff, superuser: User
) -> None:
    other_patient_plan = f.PlanFactory(
        patient=f.PatientFactory(clinic=world.plan.patient.clinic), physiotherapist=world.physio
    )
    login(client, world.physio).get(reverse("patient_detail", args=[world.plan.patient.public_id]))
    client.get(reverse("plan_detail", args=[other_patient_plan.public_id]))
    login(client, world.trainer).get(reverse("handoff_detail", args=[requested.public_id]))
    login_with_second_factor(client, superuser)
    changelist = reverse("admin:referrals_accesslog_changelist")

    def listed(**query: Any) -> set[int]:
        response = client.get(changelist, query)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    mine = set(AccessLog.objects.filter(patient=world.plan.patient).values_list("pk", flat=True))
    assert len(mine) == 2
    assert listed(patient__id__exact=world.plan.patient.pk) == mine
    by_trainer = set(AccessLog.objects.filter(user=world.trainer).values_list("pk", flat=True))
    assert len(by_trainer) == 1
    assert listed(user__id__exact=world.trainer.pk) == by_trainer
    assert listed(q=world.trainer.email) == by_trainer
    assert len(listed()) == 3


# --- who saw or changed this patient's data -------------------------------------------------------------


def test_the_trail_of_one_patient_names_every_read_and_change_across_channels(
    client: Client, world: World, requested: TrainerHandoff, superuser: User
) -> None:
    patient = world.plan.patient
    login(client, world.trainer).get(reverse("handoff_detail", args=[requested.public_id]))
    client.post(f"/api/v1/handoffs/{requested.public_id}/accept/", content_type="application/json")
    login(client, world.physio).get(f"/api/v1/handoffs/{requested.public_id}/")
    login_with_second_factor(client, superuser).get(
        reverse("admin:referrals_patient_change", args=[patient.pk])
    )

    trail = [
        (e.user, e.action, e.channel, e.what.split(" ")[0])
        for e in audit_selectors.trail_list_for_patient(patient=patient)
    ]
    assert trail == [
        (world.physio, "changed", "", "handoff"),  # created
        (world.physio, "changed", "", "handoff"),  # sent
        (world.trainer, "read", Channel.PAGE, Type.HANDOFF),
        (world.trainer, "changed", "", "handoff"),  # accepted
        (world.physio, "read", Channel.API, Type.HANDOFF),
        (superuser, "read", Channel.ADMIN, Type.PATIENT),
    ]
    accepted = audit_selectors.trail_list_for_patient(patient=patient)[3]
    assert accepted.what.endswith("requested -> accepted")


def test_the_discharge_review_is_logged_only_when_it_shows_the_guidelines(
    client: Client, world: World, trainer: User
) -> None:
    url = reverse("plan_discharge_review", args=[world.plan.public_id])
    choice = {"trainer": str(trainer.public_id), "gym": str(world.gym.public_id)}
    login(client, world.physio)
    assert client.get(url, choice, REMOTE_ADDR=IP).status_code == 200
    assert logged() == [(world.physio.pk, Channel.PAGE, Type.PLAN, world.plan.public_id, IP)]
    trainer.trainer_profile.accepting_new_clients = False
    trainer.trainer_profile.save()
    assert client.get(url, choice).status_code == 302  # blocked: back to the list, nothing shown
    assert AccessLog.objects.count() == 1
