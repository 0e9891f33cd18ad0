"""The Django admin: every page loads, nothing changes a status except through a service, lists do not N+1."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Certification, Membership, TrainerProfile, TrainerSpecialization, User
from accounts.services import api_token_create
from referrals.audit.models import AccessLog
from referrals.care.models import Consent, Patient, PlanExercise, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from referrals.progress import reports as progress_reports
from referrals.progress import services as progress_services
from tests import factories as f
from tests.conftest import World, login_with_second_factor, make_trainer
from tests.progress.factories_reports import submit_final_report

REGISTERED: list[type[Model]] = sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    """The superuser past the two-factor step: the admin refuses staff without it (tested below)."""
    return login_with_second_factor(client, superuser)


@pytest.fixture
def every_model(requested: TrainerHandoff, superuser: User, world: World) -> TrainerHandoff:
    """At least one row of every model the admin shows. `requested` brings the whole world: users,
    organizations, memberships, a partnership, profiles, a certification, a patient, a plan with its
    exercises, precautions and red flags, consent, a handoff with events, notifications and outbox rows."""
    profile = requested.trainer.trainer_profile
    TrainerSpecialization.objects.create(profile=profile, specialization="post_rehab")
    Group.objects.create(name="Credential reviewers")
    api_token_create(user=requested.trainer, name="Gym app")
    AccessLog.objects.create(
        user=requested.trainer,
        patient=requested.plan.patient,
        handoff=requested,
        object_type=AccessLog.ObjectType.HANDOFF,
        object_public_id=requested.public_id,
        channel=AccessLog.Channel.PAGE,
        path=f"/handoffs/{requested.public_id}/",
        ip_address="127.0.0.1",
    )
    # django-axes' records (a failed login, a successful one, a failure log) and a TOTP device for
    # django-otp's admin (the superuser's, created by admin_client)
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as AxesAccessLog

    common = {"ip_address": "203.0.113.7", "username": "root@handoff.test", "user_agent": "pytest"}
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
    AxesAccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common)
    from accounts.two_factor import backup_codes_create

    backup_codes_create(requested.trainer)
    concern = concerns_services.handoff_raise_concern(
        handoff=requested, actor=requested.trainer, text="Knee pain."
    )
    concerns_services.concern_acknowledge(concern=concern.concern, actor=requested.plan.physiotherapist)
    # what comes back from the gym: a session log with its exercise rows, a report with a reply (on a
    # second referral, accepted: `requested` stays requested)
    taken = sent_handoff(world)
    handoffs_services.handoff_accept(handoff=taken, actor=taken.trainer)
    today = timezone.localdate()
    progress_services.session_log(
        handoff=taken,
        actor=taken.trainer,
        session_date=today,
        attendance="attended",
        exercises=[
            {"prescribed_id": item["id"], "done": True} for item in (taken.snapshot or {})["exercises"]
        ],
        pain_before=2,
        pain_after=2,
    )
    report = progress_reports.report_submit(
        handoff=taken,
        actor=taken.trainer,
        period_start=today,
        period_end=today,
        impressions="Fine.",
        goals=["met"],
    )
    progress_reports.report_reply(report=report, actor=world.physio, text="Thanks.")
    return requested


def sent_handoff(world: World) -> TrainerHandoff:
    """A fresh plan for a fresh patient of the world's clinic, discharged to a fresh trainer of its gym."""
    clinic = world.plan.patient.clinic
    patient = f.PatientFactory(clinic=clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=world.physio)
    trainer = make_trainer(world.gym)
    return handoffs_sending.plan_discharge(plan=plan, trainer=trainer, gym=world.gym, actor=world.physio)


# --- every page of every model -------------------------------------------------------------------------


def test_every_accounts_and_referrals_model_is_registered() -> None:
    from django.apps import apps

    # a model the admin shows only as an inline of its parent (a session's exercise rows, a report's
    # replies) is reached through that parent's pages
    inlined = {
        inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines
    }
    for app_label in ("accounts", "referrals"):
        for model in apps.get_app_config(app_label).get_models():
            assert admin.site.is_registered(model) or model in inlined, f"{model._meta.label} has no admin"


def test_the_admin_index_lists_every_model(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    listed = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert listed == {model._meta.object_name for model in REGISTERED}


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_admin_pages_load(
    admin_client: Client, superuser: User, every_model: TrainerHandoff, model: type[Model]
) -> None:
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, (
        f"The every_model fixture has no {model._meta.label}: add one so its admin pages are tested."
    )
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = superuser

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "changelist"), {"q": "a"}).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    expected_add = 200 if model_admin.has_add_permission(request) else 403
    assert admin_client.get(admin_url(model, "add")).status_code == expected_add


@pytest.mark.parametrize(
    "model", [TrainerHandoff, HandoffEvent, Notification, OutboxMessage], ids=lambda m: m.__name__
)
def test_the_audit_trail_cannot_be_added_changed_or_deleted(
    superuser: User, every_model: TrainerHandoff, model: type[Model]
) -> None:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = superuser
    obj = model._default_manager.first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_handoff_events_inline_is_read_only(admin_client: Client, requested: TrainerHandoff) -> None:
    response = admin_client.get(admin_url(requested, "change", requested.pk))
    inline = response.context["inline_admin_formsets"][0]
    assert inline.opts.model is HandoffEvent
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission
    assert len(inline.formset.forms) == requested.events.count() == 2


def test_handoff_snapshot_is_shown_escaped(admin_client: Client, requested: TrainerHandoff) -> None:
    TrainerHandoff.objects.filter(pk=requested.pk).update(snapshot={"goals": "<script>alert(1)</script>"})
    response = admin_client.get(admin_url(requested, "change", requested.pk))
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)</script>" not in content


# --- users ---------------------------------------------------------------------------------------------


def test_admin_adds_a_user_with_an_email_and_a_hashed_password(admin_client: Client) -> None:
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "New.Trainer@Example.TEST",
            "full_name": "New Trainer",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.trainer@example.test")
    assert user.full_name == "New Trainer"
    assert user.check_password("a-long-enough-passphrase")
    assert user.password != "a-long-enough-passphrase"


def test_admin_cannot_add_a_user_whose_email_differs_only_in_case(admin_client: Client, physio: User) -> None:
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": physio.email.upper(),
            "full_name": "Copy",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["email"])
    assert User.objects.filter(email__iexact=physio.email).count() == 1


def test_admin_edits_a_user_and_their_memberships(admin_client: Client, physio: User) -> None:
    membership = physio.memberships.get()
    response = admin_client.post(
        admin_url(physio, "change", physio.pk),
        {
            "email": physio.email,
            "full_name": "Patricia Physio",
            "is_active": "on",
            "date_joined_0": "2024-01-02",
            "date_joined_1": "09:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": str(membership.pk),
            "memberships-0-user": str(physio.pk),
            "memberships-0-organization": str(membership.organization_id),
            "memberships-0-role": "physiotherapist",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    physio.refresh_from_db()
    assert physio.full_name == "Patricia Physio"
    assert physio.check_password(f.TEST_PASSWORD)


def test_a_trainer_membership_at_a_clinic_is_refused(admin_client: Client, physio: User) -> None:
    clinic = physio.memberships.get().organization
    response = admin_client.post(
        admin_url(physio.memberships.model, "add"),
        {"user": str(physio.pk), "organization": str(clinic.pk), "role": "trainer"},
    )
    assert response.status_code == 200
    assert "A trainer belongs to a gym." in response.content.decode()


def test_admin_changes_a_users_password_through_the_password_form(admin_client: Client, physio: User) -> None:
    url = reverse("admin:auth_user_password_change", args=[physio.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "usable_password": "true",
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    physio.refresh_from_db()
    assert physio.check_password("another-long-passphrase")


def autocomplete_fields() -> list[tuple[type[Model], str]]:
    found: list[tuple[type[Model], str]] = []
    for model, model_admin in admin.site._registry.items():
        found += [(model, name) for name in model_admin.autocomplete_fields]
        for inline in model_admin.inlines:
            found += [(inline.model, name) for name in inline.autocomplete_fields]
    return sorted(set(found), key=lambda pair: (pair[0]._meta.label, pair[1]))


@pytest.mark.parametrize(
    ("model", "field_name"), autocomplete_fields(), ids=lambda v: getattr(v, "__name__", v)
)
def test_every_autocomplete_field_answers(
    admin_client: Client, every_model: TrainerHandoff, model: type[Model], field_name: str
) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "",
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name or "",
            "field_name": field_name,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["results"], f"{model.__name__}.{field_name} offers nothing"


# --- handoffs: no status change outside the services ---------------------------------------------------


def test_posting_the_handoff_change_page_cannot_change_its_status(
    admin_client: Client, requested: TrainerHandoff
) -> None:
    response = admin_client.post(
        admin_url(requested, "change", requested.pk),
        {"status": HandoffStatus.COMPLETED, "status_reason": "forced", "_save": "Save"},
    )
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.REQUESTED
    assert requested.status_reason == ""


def test_the_handoff_add_page_is_refused(admin_client: Client, world: World) -> None:
    response = admin_client.post(
        admin_url(TrainerHandoff, "add"),
        {"plan": world.plan.pk, "trainer": world.trainer.pk, "gym": world.gym.pk, "status": "requested"},
    )
    assert response.status_code == 403
    assert not TrainerHandoff.objects.exists()


def cancel_post(handoffs: list[TrainerHandoff], **extra: str) -> dict[str, Any]:
    return {"action": "cancel_handoffs", ACTION_CHECKBOX_NAME: [str(h.pk) for h in handoffs], **extra}


def test_the_cancel_action_first_asks_for_a_reason(admin_client: Client, requested: TrainerHandoff) -> None:
    response = admin_client.post(admin_url(TrainerHandoff, "changelist"), cancel_post([requested], index="0"))
    assert response.status_code == 200
    assert response.templates[0].name == "admin/referrals/trainerhandoff/cancel_handoffs.html"
    content = response.content.decode()
    assert f'name="{ACTION_CHECKBOX_NAME}" value="{requested.pk}"' in content
    assert 'name="action" value="cancel_handoffs"' in content
    assert 'name="apply"' in content
    assert '<textarea name="reason"' in content
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.REQUESTED


def test_the_cancel_action_cancels_a_requested_handoff_with_the_reason(
    admin_client: Client, requested: TrainerHandoff, superuser: User, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(TrainerHandoff, "changelist"),
            cancel_post([requested], apply="Cancel", reason="  The patient moved away.  "),
            follow=True,
        )
    assert response.status_code == 200
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.CANCELLED
    assert requested.status_reason == "The patient moved away."
    event = HandoffEvent.objects.get(handoff=requested, to_status=HandoffStatus.CANCELLED)
    assert event.actor == superuser
    assert event.from_status == HandoffStatus.REQUESTED
    assert event.text == "The patient moved away."
    assert ("success", "Cancelled 1 handoff(s).") in messages_of(response)
    # an admin's cancellation tells the trainer and the treating PT (the clinic did not make it itself)
    told = sorted(m.to[0] for m in mail.outbox)
    assert told == sorted([requested.trainer.email, requested.plan.physiotherapist.email])


def test_the_cancel_action_without_a_reason_changes_nothing_and_shows_an_error(
    admin_client: Client, requested: TrainerHandoff
) -> None:
    response = admin_client.post(
        admin_url(TrainerHandoff, "changelist"), cancel_post([requested], apply="Cancel", reason="   ")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert "This field is required." in response.content.decode()
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.REQUESTED
    assert not HandoffEvent.objects.filter(handoff=requested, to_status=HandoffStatus.CANCELLED).exists()


def test_the_cancel_action_warns_about_a_completed_handoff_and_leaves_it(
    admin_client: Client, requested: TrainerHandoff, world: World
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    submit_final_report(requested, world.trainer)
    handoffs_services.handoff_complete(handoff=requested, actor=world.trainer, summary="Goals met.")
    requested.refresh_from_db()
    before = (requested.status, requested.status_reason, requested.updated_at, requested.events.count())
    response = admin_client.post(
        admin_url(TrainerHandoff, "changelist"),
        cancel_post([requested], apply="Cancel", reason="Tidying up."),
        follow=True,
    )
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "warning"
    assert "cannot become cancelled" in text
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.COMPLETED
    assert (
        requested.status,
        requested.status_reason,
        requested.updated_at,
        requested.events.count(),
    ) == before


def test_the_cancel_action_cancels_what_it_can_and_reports_the_rest(
    admin_client: Client, requested: TrainerHandoff, world: World
) -> None:
    other = sent_handoff(world)
    handoffs_services.handoff_accept(handoff=other, actor=other.trainer)
    submit_final_report(other, other.trainer)
    handoffs_services.handoff_complete(handoff=other, actor=other.trainer)
    response = admin_client.post(
        admin_url(TrainerHandoff, "changelist"),
        cancel_post([requested, other], apply="Cancel", reason="Clinic closing."),
        follow=True,
    )
    levels = sorted(level for level, _ in messages_of(response))
    assert levels == ["success", "warning"]
    requested.refresh_from_db()
    other.refresh_from_db()
    assert requested.status == HandoffStatus.CANCELLED
    assert other.status == HandoffStatus.COMPLETED


def test_a_staff_user_without_the_handoff_permission_cannot_cancel(
    client: Client, clinic_admin: User, requested: TrainerHandoff
) -> None:
    login_with_second_factor(client, clinic_admin)
    response = client.post(
        admin_url(TrainerHandoff, "changelist"), cancel_post([requested], apply="Cancel", reason="No.")
    )
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == HandoffStatus.REQUESTED


# --- outbox and credentials ----------------------------------------------------------------------------


def failed_message(handoff: TrainerHandoff) -> OutboxMessage:
    message = OutboxMessage.objects.get(event__handoff=handoff, event__to_status=HandoffStatus.REQUESTED)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.FAILED, attempts=8, last_error="SMTPServerDisconnected: gone"
    )
    return message


def test_failed_messages_are_one_filter_away(admin_client: Client, requested: TrainerHandoff) -> None:
    message = failed_message(requested)
    response = admin_client.get(admin_url(OutboxMessage, "changelist"), {"status__exact": "failed"})
    assert [row.pk for row in response.context["cl"].result_list] == [message.pk]
    assert "SMTPServerDisconnected" in response.content.decode()
    response = admin_client.get(admin_url(OutboxMessage, "changelist"), {"problem": "failed"})
    assert [row.pk for row in response.context["cl"].result_list] == [message.pk]


def test_the_resend_action_requeues_a_failed_message(
    admin_client: Client, requested: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    message = failed_message(requested)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            admin_url(OutboxMessage, "changelist"),
            {"action": "resend", ACTION_CHECKBOX_NAME: [str(message.pk)], "index": "0"},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 0


def test_the_resend_action_delivers_the_failed_message(
    admin_client: Client, requested: TrainerHandoff, django_capture_on_commit_callbacks: Any
) -> None:
    message = failed_message(requested)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(OutboxMessage, "changelist"),
            {"action": "resend", ACTION_CHECKBOX_NAME: [str(message.pk)], "index": "0"},
            follow=True,
        )
    assert ("success", "Re-queued 1 notification(s).") in messages_of(response)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert message.last_error == ""
    assert [m.to for m in mail.outbox] == [[requested.trainer.email]]


def test_the_resend_action_warns_about_a_message_in_flight(
    admin_client: Client, requested: TrainerHandoff
) -> None:
    message = OutboxMessage.objects.get(event__handoff=requested, event__to_status=HandoffStatus.REQUESTED)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.IN_FLIGHT, attempts=1)
    response = admin_client.post(
        admin_url(OutboxMessage, "changelist"),
        {"action": "resend", ACTION_CHECKBOX_NAME: [str(message.pk)], "index": "0"},
        follow=True,
    )
    [(level, text)] = messages_of(response)
    assert level == "warning"
    assert "being sent right now" in text
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.IN_FLIGHT
    assert message.attempts == 1


def test_the_verify_action_marks_a_certification_verified_by_the_admin(
    admin_client: Client, trainer: User, superuser: User
) -> None:
    Certification.objects.filter(profile__user=trainer).update(verified=False)
    certification = Certification.objects.get(profile__user=trainer)
    assert not certification.verified
    response = admin_client.post(
        admin_url(Certification, "changelist"),
        {"action": "verify_certifications", ACTION_CHECKBOX_NAME: [str(certification.pk)], "index": "0"},
        follow=True,
    )
    assert ("success", "1 certification(s) verified.") in messages_of(response)
    certification = Certification.objects.get(pk=certification.pk)
    assert certification.verified
    assert certification.verified_by == superuser
    assert certification.verified_at is not None


def test_the_certification_form_cannot_tick_verified(admin_client: Client, trainer: User) -> None:
    Certification.objects.filter(profile__user=trainer).update(verified=False)
    certification = Certification.objects.get(profile__user=trainer)
    response = admin_client.post(
        admin_url(Certification, "change", certification.pk),
        {
            "profile": str(certification.profile_id),
            "issuing_body": certification.issuing_body,
            "number": certification.number,
            "expiry": certification.expiry.isoformat(),
            "verified": "on",
        },
    )
    assert response.status_code == 302
    certification.refresh_from_db()
    assert not certification.verified
    assert certification.verified_by is None


# --- who gets in ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["admin:index", "admin:referrals_trainerhandoff_changelist"])
def test_a_non_staff_user_is_sent_to_the_admin_login(client: Client, physio: User, url_name: str) -> None:
    client.force_login(physio)
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


# --- lists do not grow their query count with their size -----------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        TrainerHandoff,
        HandoffEvent,
        Notification,
        OutboxMessage,
        TreatmentPlan,
        PlanExercise,
        Patient,
        Consent,
        Membership,
        TrainerProfile,
        Certification,
        User,
    ],
    ids=lambda m: m.__name__,
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client: Client, world: World, model: type[Model]
) -> None:
    url = admin_url(model, "changelist")

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        return len(queries), response.context["cl"].result_count

    admin_client.get(url)  # the first request of a login stamps the session: a one-off write
    for _ in range(3):
        sent_handoff(world)
    count_queries()  # the session's first request also stamps it (SessionTimeoutMiddleware): not per row
    few, few_rows = count_queries()
    for _ in range(27):
        sent_handoff(world)
    many, many_rows = count_queries()
    assert many_rows > few_rows >= 3
    assert many == few, (
        f"{model.__name__} changelist: {few} queries for {few_rows} rows, {many} for {many_rows}"
    )


# --- moving a patient to another clinic ----------------------------------------------------------------


def patient_post(patient: Patient, clinic_id: int) -> dict[str, str]:
    return {
        "full_name": patient.full_name,
        "clinic": str(clinic_id),
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": patient.email,
        "phone": patient.phone,
    }


@pytest.fixture
def two_clinic_admin(client: Client, clinic: Any, other_clinic: Any) -> Client:
    """An org admin of both clinics, with every permission: the move is within their scope at both ends."""
    from tests.security.test_admin_scoping import with_every_permission

    user = f.UserFactory(is_staff=True)
    for organization in (clinic, other_clinic):
        f.MembershipFactory(user=user, organization=organization, role=Membership.Role.ORG_ADMIN)
    return login_with_second_factor(client, with_every_permission(user))


def test_a_patient_with_a_plan_cannot_be_moved_to_another_clinic_in_the_admin(
    two_clinic_admin: Client, requested: TrainerHandoff, other_clinic: Any
) -> None:
    patient = requested.plan.patient
    clinic_id = patient.clinic_id
    response = two_clinic_admin.post(
        admin_url(Patient, "change", patient.pk), patient_post(patient, other_clinic.pk)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["clinic"]] == ["patient_has_plans"]
    patient.refresh_from_db()
    requested.refresh_from_db()
    assert patient.clinic_id == clinic_id == requested.clinic_id


def test_a_patient_without_plans_moves_to_another_clinic_of_the_admin(
    two_clinic_admin: Client, clinic: Any, other_clinic: Any
) -> None:
    patient = f.PatientFactory(clinic=clinic)
    response = two_clinic_admin.post(
        admin_url(Patient, "change", patient.pk), patient_post(patient, other_clinic.pk)
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.clinic_id == other_clinic.pk


def test_a_patient_with_plans_keeps_being_editable_at_their_clinic(
    two_clinic_admin: Client, plan: TreatmentPlan
) -> None:
    patient = plan.patient
    data = {**patient_post(patient, patient.clinic_id), "phone": "+1 555 0100"}
    assert two_clinic_admin.post(admin_url(Patient, "change", patient.pk), data).status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+1 555 0100"


def test_the_clinic_change_policy_refuses_once_there_is_a_plan(clinic: Any, physio: User) -> None:
    from referrals.care import policies as care_policies

    patient = f.PatientFactory(clinic=clinic)
    assert care_policies.can_change_patient_clinic(patient)
    f.PlanFactory(patient=patient, physiotherapist=physio)
    assert not care_policies.can_change_patient_clinic(patient)


def test_adding_a_namesake_in_the_admin_names_the_existing_patient_until_confirmed(
    two_clinic_admin: Client, clinic: Any
) -> None:
    existing = f.PatientFactory(clinic=clinic, full_name="Jamie Rivera")
    data = {**patient_post(existing, clinic.pk), "full_name": "  jamie   RIVERA "}
    before = Patient.objects.count()
    response = two_clinic_admin.post(admin_url(Patient, "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any(str(existing.public_id) in error for error in errors), errors
    assert Patient.objects.count() == before
    confirmed = two_clinic_admin.post(admin_url(Patient, "add"), {**data, "confirm_distinct": "on"})
    assert confirmed.status_code == 302
    assert Patient.objects.count() == before + 1


def test_renaming_a_patient_in_the_admin_into_a_namesake_is_refused_until_confirmed(
    two_clinic_admin: Client, clinic: Any
) -> None:
    existing = f.PatientFactory(clinic=clinic, full_name="Jamie Rivera")
    other = f.PatientFactory(clinic=clinic, full_name="Sam Other", date_of_birth=existing.date_of_birth)
    data = {**patient_post(other, clinic.pk), "full_name": "Jamie Rivera"}
    assert two_clinic_admin.post(admin_url(Patient, "change", other.pk), data).status_code == 200
    other.refresh_from_db()
    assert other.full_name == "Sam Other"
    # saving a patient unchanged never finds them their own namesake
    assert (
        two_clinic_admin.post(
            admin_url(Patient, "change", existing.pk), patient_post(existing, clinic.pk)
        ).status_code
        == 302
    )
