"""JSON bodies are read as the schema types them: DRF would coerce `0` to `false`, `12` to `"12"` and
`"5"` to 5, so the server accepted what its contract refuses. `check_types` runs before the serializer,
on every body the API reads (views._body), and names each field of the wrong JSON type."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers

_STRINGS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.UUIDField,
    serializers.DecimalField,  # typed `string` (format decimal) in the schema
)


def _expected(field: Any) -> tuple[tuple[type, ...], str] | None:
    if isinstance(field, serializers.BooleanField):
        return (bool,), "Expected true or false."
    if isinstance(field, serializers.IntegerField):
        return (int,), "Expected a whole number."
    if isinstance(field, serializers.FloatField):
        return (int, float), "Expected a number."
    if isinstance(
        field, serializers.MultipleChoiceField | serializers.ListField | serializers.ListSerializer
    ):
        return (list,), "Expected a list."
    if isinstance(field, serializers.Serializer | serializers.DictField):
        return (dict,), "Expected an object."
    if isinstance(field, _STRINGS):
        return (str,), "Expected text."
    return None


def _wrong_type(value: Any, types: tuple[type, ...]) -> bool:
    return not isinstance(value, types) or (bool not in types and isinstance(value, bool))


def _errors(field: Any, value: Any) -> Any:
    if value is None:
        return None  # allow_null is the serializer's to judge
    expected = _expected(field)
    if expected is None:
        return None
    types, message = expected
    if _wrong_type(value, types):
        return [message]
    if isinstance(field, serializers.ListSerializer):
        rows = [_object_errors(field.child, item) if isinstance(item, dict) else None for item in value]
        return rows if any(rows) else None
    if isinstance(field, serializers.ListField):
        items = [_errors(field.child, item) for item in value]
        return {str(i): e for i, e in enumerate(items) if e} or None
    if isinstance(field, serializers.Serializer):
        return _object_errors(field, value)
    return None


def _object_errors(serializer: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    errors = {}
    for name, field in serializer.fields.items():
        if name in data and not field.read_only:
            found = _errors(field, data[name])
            if found:
                errors[name] = found
    return errors or None


def check_types(serializer: serializers.Serializer[Any], data: Any) -> None:
    """Raise a 400 naming every field whose JSON type is not the one the schema declares."""
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    errors = _object_errors(serializer, data)
    if errors:
        raise exceptions.ValidationError(errors)
