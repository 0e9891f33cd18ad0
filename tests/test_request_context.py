"""The request's user arrives with their roles, confirmed devices and unread count in one query
(config.auth, accounts.selectors): pages pay one query before their content, and every answer is as fresh
as the user row, so a membership, a device or a notification changed a moment ago counts on the next
request."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from rest_framework.test import APIClient

from accounts import selectors as account_selectors
from accounts.models import ApiToken, EncryptedTOTPDevice, Membership, User
from accounts.services import api_token_create
from referrals import access as referrals_access
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs.models import TrainerHandoff
from tests.conftest import World, login_with_second_factor


@pytest.fixture
def sent(world: World) -> TrainerHandoff:
    return handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )


def _queries(client: Any, url: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, [q["sql"] for q in ctx.captured_queries]


def test_a_page_reads_no_session_row_and_no_membership_device_or_badge_query_of_its_own(
    client: Client, world: World, sent: TrainerHandoff
) -> None:
    client.force_login(world.trainer)
    client.get("/account/profile/")  # the session's first request stamps it
    response, sql = _queries(client, f"/handoffs/{sent.public_id}/")
    assert response.status_code == 200
    assert not any('FROM "django_session"' in q for q in sql), sql
    first, rest = sql[0], sql[1:]
    assert first.startswith('SELECT "accounts_user"."id"')
    for table in ("accounts_membership", "accounts_encryptedtotpdevice", "otp_static_staticdevice"):
        assert table in first
        assert not any(table in q for q in rest), (table, rest)
    assert "referrals_notification" in first  # the bell's count


def test_a_verified_physio_page_does_not_load_the_device(client: Client, world: World, settings: Any) -> None:
    settings.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS = True
    login_with_second_factor(client, world.physio)
    client.get("/account/profile/")
    response, sql = _queries(client, "/patients/")
    assert response.status_code == 200
    assert not any("accounts_encryptedtotpdevice" in q for q in sql[1:]), sql


def test_a_membership_removed_a_moment_ago_closes_the_next_page(
    client: Client, world: World, sent: TrainerHandoff
) -> None:
    client.force_login(world.trainer)
    url = f"/handoffs/{sent.public_id}/"
    assert client.get(url).status_code == 200
    Membership.objects.filter(user=world.trainer).delete()
    assert client.get(url).status_code == 404


def test_a_membership_removed_a_moment_ago_closes_the_next_api_call(
    world: World, sent: TrainerHandoff
) -> None:
    _, raw = api_token_create(user=world.trainer, name="context")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/handoffs/{sent.public_id}/"
    assert api.get(url).status_code == 200
    Membership.objects.filter(user=world.trainer).delete()
    assert api.get(url).status_code == 404
    User.objects.filter(pk=world.trainer.pk).update(is_active=False)
    assert api.get(url).status_code == 401


def test_the_bell_counts_a_notification_created_since_the_last_page(client: Client, world: World) -> None:
    client.force_login(world.trainer)
    before = client.get("/").context["unread_notifications"]
    handoffs_sending.plan_discharge(plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio)
    after = client.get("/").context["unread_notifications"]
    assert after == before + 1


def test_a_device_replaced_since_the_code_was_entered_unverifies_the_session(
    client: Client, world: World
) -> None:
    login_with_second_factor(client, world.physio)
    assert client.get("/patients/").status_code == 200
    # an admin resets it; the user sets up another
    EncryptedTOTPDevice.objects.filter(user=world.physio).delete()
    EncryptedTOTPDevice.objects.create(user=world.physio, name="New phone", confirmed=True)
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/verify/")


def test_roles_read_with_the_user_match_the_memberships(world: World) -> None:
    from config.auth import RequestUserBackend

    loaded = RequestUserBackend().get_user(world.physio.pk)
    assert loaded is not None
    expected = set(Membership.objects.filter(user=world.physio).values_list("organization_id", "role"))
    assert set(referrals_access.roles_of(loaded)) == expected and expected
    assert RequestUserBackend().get_user("not a number") is None
    assert RequestUserBackend().get_user(10**9) is None


def test_a_compiled_query_refuses_a_placeholder_it_cannot_find() -> None:
    with pytest.raises(ValueError):
        account_selectors.CompiledQuery(User, lambda pk: User.objects.filter(pk=pk), placeholder=0)
    query = account_selectors.CompiledQuery(
        User, lambda email: User.objects.filter(email="fixed"), placeholder="compiled-query-placeholder"
    )
    with pytest.raises(ValueError):
        query.first("anyone@example.org")


def test_forgetting_the_context_reaches_the_user_through_the_request_s_lazy_wrapper(world: World) -> None:
    from django.utils.functional import SimpleLazyObject

    from config.auth import RequestUserBackend

    loaded = RequestUserBackend().get_user(world.trainer.pk)
    wrapped = cast(User, SimpleLazyObject(lambda: loaded))  # request.user: a lazy object standing for a User
    assert referrals_access.roles_of(wrapped)
    Membership.objects.filter(user=world.trainer).delete()
    account_selectors.forget_request_context(wrapped)
    assert referrals_access.roles_of(wrapped) == frozenset()


def _assert_same_values_as_the_orm(query: account_selectors.CompiledQuery[Any], value: Any) -> None:
    """Every field and annotation of the compiled query's row has the type and value the ORM gives for the
    same queryset (on PostgreSQL and on SQLite: the suite runs on both); datetimes are aware."""
    compiled = query.first(value)
    queryset = query.build(value)
    orm = queryset.first()
    assert compiled is not None and orm is not None
    names = [field.attname for field in queryset.model._meta.concrete_fields]
    names += list(queryset.query.annotation_select)
    for name in names:
        got, expected = getattr(compiled, name), getattr(orm, name)
        assert (type(got), got) == (type(expected), expected), name
        if isinstance(got, datetime.datetime):
            assert timezone.is_aware(got), name


def _no_nulls(row: Model | None, names: list[str]) -> None:
    assert row is not None
    assert all(getattr(row, name) is not None for name in names), [(n, getattr(row, n)) for n in names]


def test_the_compiled_token_query_returns_the_orm_s_typed_aware_values(world: World) -> None:
    token, _ = api_token_create(user=world.trainer, name="context")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - datetime.timedelta(seconds=5))
    User.objects.filter(pk=world.trainer.pk).update(last_login=timezone.now())
    query = account_selectors._TOKEN_USER
    _no_nulls(query.first(token.key_hash), ["request_token_last_used_at", "request_roles_json", "last_login"])
    _assert_same_values_as_the_orm(query, token.key_hash)


def test_the_compiled_session_query_returns_the_orm_s_typed_aware_values(
    world: World, sent: TrainerHandoff
) -> None:
    from config.auth import _SESSION_USER

    EncryptedTOTPDevice.objects.create(user=world.trainer, name="Phone", confirmed=True)
    StaticDevice.objects.create(user=world.trainer, name="Backup codes", confirmed=True)
    User.objects.filter(pk=world.trainer.pk).update(last_login=timezone.now())
    _no_nulls(
        _SESSION_USER.first(world.trainer.pk),
        [
            account_selectors.ROLES_COLUMN,
            account_selectors.TOTP_COLUMN,
            account_selectors.STATIC_COLUMN,
            "request_unread_notifications",
            "last_login",
        ],
    )
    _assert_same_values_as_the_orm(_SESSION_USER, world.trainer.pk)


def test_a_compiled_query_converts_boolean_datetime_and_uuid_annotations_like_the_orm(world: World) -> None:
    from django.db.models import Exists, F, OuterRef

    from referrals.care.models import Patient

    api_token_create(user=world.physio, name="context")
    query = account_selectors.CompiledQuery(
        User,
        lambda pk: User.objects.filter(pk=pk).annotate(
            is_member=Exists(Membership.objects.filter(user_id=OuterRef("pk"))),
            token_created=F("api_tokens__created_at"),
            a_patient=Patient.objects.order_by("pk").values("public_id")[:1],
        ),
        placeholder=-7_919_191_919,
    )
    row = query.first(world.physio.pk)
    assert row is not None
    assert row.is_member is True  # type: ignore[attr-defined]
    token_created: datetime.datetime = row.token_created  # type: ignore[attr-defined]
    assert timezone.is_aware(token_created)
    _assert_same_values_as_the_orm(query, world.physio.pk)
