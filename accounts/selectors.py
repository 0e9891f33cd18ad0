"""What every request asks of its own user, read with the user in one query.

A page or an API call needs the user's roles (their memberships) and, for two-factor authentication,
which of their devices are confirmed. Asked one by one, that is a query each on every request. Here they
are correlated subqueries on the query that loads the user (the session's `get_user`, the token's lookup),
so the answers arrive with the user row and are always as fresh as the user row itself: a membership or
a device removed a moment ago is gone on the next request, as before.

`roles_of(user)` and `confirmed_device_ids(user)` answer from those columns when the user was loaded with
them, and ask the database otherwise (a user loaded any other way, e.g. in a service or a test).
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, F, Model, OuterRef, QuerySet, Subquery, TextField
from django.db.models.sql.compiler import SQLCompiler
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import EncryptedTOTPDevice, Membership, User, UserOrAnonymous

ROLES_COLUMN = "request_roles_json"
TOTP_COLUMN = "request_totp_ids_json"
STATIC_COLUMN = "request_static_ids_json"
_ROLES_CACHE = "_handoff_roles"
_DEVICES_CACHE = "_handoff_confirmed_devices"

Roles = frozenset[tuple[int, str]]
M = TypeVar("M", bound=Model)


class JSONRowsAgg(Aggregate):
    """The aggregated rows as one JSON array (as text) of arrays: `[[a, b], ...]`. PostgreSQL and SQLite,
    the two databases Handoff runs on."""

    output_field = TextField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        template = "CAST(JSON_AGG(JSON_BUILD_ARRAY(%(expressions)s)) AS TEXT)"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        template = "JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))"
        return super().as_sql(compiler, connection, template=template, **extra)


def _rows_of(queryset: QuerySet[Any], owner: str, *columns: str) -> Subquery:
    """`columns` of `queryset`'s rows owned by the outer row's `owner`, as one JSON text (NULL: none)."""
    return Subquery(
        queryset.filter(user_id=OuterRef(owner))
        .order_by()
        .values("user_id")
        .annotate(rows=JSONRowsAgg(*columns))
        .values("rows")[:1]
    )


def request_context_columns(owner: str = "pk", *, devices: bool = True) -> dict[str, Any]:
    """Annotations for a query whose rows are (or join) users: `owner` names the user's id in it ("pk" on
    User, "user_id" on ApiToken). Pass to `.annotate(**...)`; `remember_request_context` reads them.
    `devices=False`: the roles only (a token request has no second factor to check)."""
    columns: dict[str, Any] = {
        ROLES_COLUMN: _rows_of(Membership.objects.all(), owner, "organization_id", "role")
    }
    if devices:
        columns[TOTP_COLUMN] = _rows_of(EncryptedTOTPDevice.objects.filter(confirmed=True), owner, "id")
        columns[STATIC_COLUMN] = _rows_of(StaticDevice.objects.filter(confirmed=True), owner, "id")
    return columns


class _WithUser(Protocol):
    """A page's HttpRequest or an API's Request: both carry the user who made it."""

    @property
    def user(self) -> object: ...


def request_user(request: _WithUser) -> User:
    """The signed-in user of a request, typed: the one helper of the pages and the API. Their views run it
    after login_required or IsAuthenticated, so anyone else never reaches it (if they did: a 403)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _parse(text: str | None) -> list[list[Any]]:
    return [] if not text else list(json.loads(text))


def remember_request_context(user: User, columns: Any) -> None:
    """Keep the answers of `request_context_columns` (read off `columns`, the annotated row) on `user`."""
    roles = frozenset((int(org), str(role)) for org, role in _parse(getattr(columns, ROLES_COLUMN)))
    setattr(user, _ROLES_CACHE, roles)
    if hasattr(columns, TOTP_COLUMN):
        totp = [row[0] for row in _parse(getattr(columns, TOTP_COLUMN))]
        static = [row[0] for row in _parse(getattr(columns, STATIC_COLUMN))]
        setattr(user, _DEVICES_CACHE, _persistent_ids(totp, static))


def _persistent_ids(totp: Any, static: Any) -> frozenset[str]:
    """django-otp's persistent ids ("app.model/id") of these TOTP and backup-code device ids."""
    return frozenset(
        [f"{EncryptedTOTPDevice.model_label()}/{pk}" for pk in totp]
        + [f"{StaticDevice.model_label()}/{pk}" for pk in static]
    )


def forget_request_context(user: UserOrAnonymous) -> None:
    """After a change to the user's memberships or devices within the same request. (`delattr`, not a
    look into `__dict__`: request.user is a lazy wrapper, and only attribute access reaches the user.)"""
    for name in (_ROLES_CACHE, _DEVICES_CACHE):
        with contextlib.suppress(AttributeError):
            delattr(user, name)


def roles_of(user: UserOrAnonymous | None) -> Roles:
    """The (organization id, role) pairs of an authenticated, active user; empty for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached: Roles | None = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user=user).order_by().values_list("organization_id", "role")
        )
        setattr(user, _ROLES_CACHE, cached)
    return cached


def confirmed_device_ids(user: User) -> frozenset[str]:
    """The persistent ids (django-otp's "app.model/id") of the user's confirmed TOTP and backup-code
    devices."""
    cached: frozenset[str] | None = getattr(user, _DEVICES_CACHE, None)
    if cached is None:
        totp = EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).values_list("id", flat=True)
        static = StaticDevice.objects.filter(user=user, confirmed=True).values_list("id", flat=True)
        cached = _persistent_ids(totp, static)
        setattr(user, _DEVICES_CACHE, cached)
    return cached


def has_totp_device(user: User) -> bool:
    prefix = EncryptedTOTPDevice.model_label() + "/"
    return any(device.startswith(prefix) for device in confirmed_device_ids(user))


# --- queries compiled once ----------------------------------------------------------------------------


Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


@dataclass(frozen=True)
class _Compiled:
    """A query as compiled for one database vendor: its SQL, parameters (the placeholder's index among
    them), and the ORM's value converters for each annotation."""

    sql: str
    params: tuple[Any, ...]
    index: int
    converters: tuple[tuple[str, Any, tuple[Converter, ...]], ...]


class CompiledQuery(Generic[M]):
    """An ORM query of one model, turned into SQL once per process and database vendor, and then run with
    one varying value (`Model.objects.raw`): for the queries every request makes, whose compiling by the
    ORM costs more than running them (about 0.7 ms against 0.25 ms for the token's).

    `build(value)` returns the queryset for `value`; it is called once, with a placeholder that is then
    swapped for the real value in the parameters. Annotations come back as attributes with the values the
    ORM would give: `.raw()` converts the model's own fields but hands annotations back as the database
    driver returns them (SQLite: a naive datetime, "1"/"0" for a boolean, text for a decimal or a UUID),
    so the converters the ORM would apply to each annotation (the backend's and its output field's) are
    applied here too.

    Kept (issue 14): building and compiling the token's query took 4.8 ms in-process on the shared
    machine (load 10) against nothing for the compiled one, on every API request (`make bench` 2026-12-02:
    the inbox API in 2 queries, the first this one). tests/test_request_context.py compares its results
    with the ORM's, on both databases."""

    _PLACEHOLDERS: tuple[Any, ...] = (-7_919_191_919, "compiled-query-placeholder")

    def __init__(self, model: type[M], build: Callable[[Any], QuerySet[M]], *, placeholder: Any) -> None:
        if placeholder not in self._PLACEHOLDERS:
            raise ValueError("use one of CompiledQuery._PLACEHOLDERS")
        self.model = model
        self.build = build
        self.placeholder = placeholder
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        if connection.vendor not in self._compiled:
            query = self.build(self.placeholder).query
            sql, params = query.get_compiler(using=using).as_sql()
            where = [i for i, param in enumerate(params) if param == self.placeholder]
            if len(where) != 1:
                raise ValueError(f"the placeholder must appear once in the query's parameters: {params!r}")
            converters = []
            # what SQLCompiler.get_converters applies to a column of the ORM's own results
            for name, expression in query.annotation_select.items():
                functions = (
                    *connection.ops.get_db_converters(expression),
                    *expression.get_db_converters(connection),
                )
                if functions:
                    converters.append((name, expression, functions))
            self._compiled[connection.vendor] = _Compiled(sql, tuple(params), where[0], tuple(converters))
        return self._compiled[connection.vendor]

    def first(self, value: Any, *, using: str = "default") -> M | None:
        compiled = self._compile(using)
        bound = list(compiled.params)
        bound[compiled.index] = value
        rows = list(self.model._default_manager.db_manager(using).raw(compiled.sql, bound))
        if not rows:
            return None
        row, connection = rows[0], connections[using]
        for name, expression, functions in compiled.converters:
            converted = getattr(row, name)
            for function in functions:
                converted = function(converted, expression, connection)
            setattr(row, name, converted)
        return row


_TOKEN_USER = CompiledQuery(
    User,
    # filter first: the annotations then read the same token row the filter joined
    lambda key_hash: User.objects.filter(
        api_tokens__key_hash=key_hash, api_tokens__revoked_at__isnull=True, is_active=True
    ).annotate(
        **request_context_columns("pk", devices=False),
        request_token_id=F("api_tokens__id"),
        request_token_last_used_at=F("api_tokens__last_used_at"),
    ),
    placeholder="compiled-query-placeholder",
)


@dataclass(frozen=True)
class TokenUse:
    """An API token as a request used it (`request.auth`): which token, whose, when it was last used."""

    token_id: int
    user: User
    last_used_at: datetime.datetime | None


def api_token_get(*, key_hash: str) -> TokenUse | None:
    """The unrevoked token with this hash with its active user and the user's roles, in one query
    (compiled once); None if there is no such token or its user is inactive."""
    user = _TOKEN_USER.first(key_hash)
    if user is None:
        return None
    remember_request_context(user, user)
    return TokenUse(
        token_id=int(user.request_token_id),  # type: ignore[attr-defined]
        user=user,
        last_used_at=user.request_token_last_used_at,  # type: ignore[attr-defined]
    )
