"""Cursor pagination: no COUNT over the table, stable under inserts, `page_size` up to 100."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

CURSOR_DESCRIPTION = (
    "Opaque: pass back the cursor of a page's `next` or `previous` link unchanged (better: follow the "
    "link). Its content is not part of the contract; an empty, malformed or altered cursor is a 400 "
    "with `fields.cursor`."
)


class ApiCursorPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering: Any = ("-id",)
    invalid_cursor_message = "This cursor is not valid: use the next or previous link of a page."
    cursor_query_description = CURSOR_DESCRIPTION
    _model: type[models.Model] | None = None

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        """The view's ordering, always ending with the unique `id`, so a page boundary is exact."""
        ordering = tuple(getattr(view, "api_ordering", None) or self.ordering)
        if ordering[-1].lstrip("-") != "id":
            direction = "-" if ordering[0].startswith("-") else ""
            ordering = (*ordering, f"{direction}id")
        return ordering

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def _invalid(self) -> exceptions.ValidationError:
        return exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's cursor, refused with a 400 on `cursor` when it is empty or does not decode, and its
        position checked against the ordering field: a forged position never reaches the query (where
        a wrong type, a naive datetime, an integer out of range or a NUL would be a 500)."""
        raw = request.query_params.get(self.cursor_query_param)
        if raw is not None and not raw.strip():
            raise self._invalid()
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise self._invalid() from exc
        if cursor is None or cursor.position is None:
            return cursor
        return cursor._replace(position=self._position(str(cursor.position)))

    def _position(self, raw: str) -> Any:
        if "\x00" in raw or self._model is None:
            raise self._invalid()
        name = self.ordering[0].lstrip("-")
        try:
            field = self._model._meta.get_field(name)
        except FieldDoesNotExist as exc:  # pragma: no cover - the orderings are the views' own
            raise self._invalid() from exc
        if not isinstance(field, models.Field):  # pragma: no cover - a relation is never an ordering
            raise self._invalid()
        if isinstance(field, models.DateTimeField):
            try:
                when = parse_datetime(raw) if len(raw) <= 40 else None
                if when is None or not timezone.is_aware(when):
                    raise self._invalid()
                return when.astimezone(datetime.UTC)
            except (ValueError, OverflowError) as exc:
                raise self._invalid() from exc
        try:
            value = field.to_python(raw)
            field.run_validators(value)
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise self._invalid() from exc
        return value

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
                )
            elif parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "minLength": 1}
        return parameters
