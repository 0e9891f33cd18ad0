"""What every API module shares: the user, id parsing, scoped fetch, query and body parsing, list views."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request

from accounts.models import User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals.api.pagination import ApiCursorPagination
from referrals.api.strict import check_types

ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The object's id."
)


def _parse_id(raw: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise exceptions.NotFound() from exc


M = TypeVar("M", bound=Model)


def _fetch(getter: Callable[..., M], model: type[M], user: User, raw_id: Any) -> M:
    """The object through its scoped selector; anything outside the user's scope is a 404."""
    try:
        found: M = getter(user=user, public_id=_parse_id(raw_id))
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise exceptions.NotFound() from exc
    return found


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The query parameters, validated. Passed as a plain dict, not the QueryDict: DRF reads a QueryDict
    as an HTML form and silently drops an optional field sent empty (`?updated_since=`), where the API
    answers a 400 naming the parameter. A list field (a repeated parameter) gets every value."""
    fields = serializer_class().fields
    params = request.query_params
    many = (serializers.ListField, serializers.MultipleChoiceField)
    data = {
        name: params.getlist(name) if isinstance(fields[name], many) else params[name]
        for name in params
        if name in fields
    }
    query = serializer_class(data=data)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _body(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data = serializer_class(data=request.data)
    check_types(data, request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class ApiListView(generics.ListAPIView):  # type: ignore[type-arg]
    """A scoped, cursor-paginated list. Subclasses build the queryset in `scoped_queryset()`."""

    pagination_class = ApiCursorPagination
    api_ordering: tuple[str, ...] = ("-id",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        raise NotImplementedError("each list names its scoped queryset")  # abstract: every subclass does

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped_queryset(_user(self.request))
