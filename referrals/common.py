"""Helpers every area shares: text limits read from the model fields, validation with field-level errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


def text_limit(model: type[models.Model], name: str) -> int:
    """The max_length of a model's text field: the one limit the page forms, the API serializers and the
    admin (a ModelForm reads it itself) all apply, and full_clean() enforces in the services."""
    field = model._meta.get_field(name)
    limit = field.max_length if isinstance(field, models.Field) else None
    if limit is None:  # pragma: no cover - a programming error, caught by the tests that use each field
        raise LookupError(f"{model.__name__}.{name} has no max_length")
    return int(limit)


# --- internals -----------------------------------------------------------------------------------------


def _validate(obj: Any, *, prefix: str = "", exclude: Sequence[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        if not prefix:
            raise
        raise ValidationError(
            {f"{prefix}.{field}": msgs for field, msgs in exc.message_dict.items()}
        ) from exc


def _clean_text(value: object, *, field: str, required: bool, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError({field: "Enter text."})
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: "This field is required."})
    if len(text) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters (it has {len(text)})."})
    return text
