"""Fields and serializers every API area shares."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization
from referrals.care.models import (
    dose_bounds,
)
from referrals.care.services import row_cap_message
from referrals.common import text_limit
from referrals.handoffs.models import HandoffStatus

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


def _text(model: type[Any], name: str, **kwargs: Any) -> serializers.CharField:
    """A text input with the model field's own limit: the API, the pages and the admin share it."""
    return serializers.CharField(max_length=text_limit(model, name), **kwargs)


def _dose(name: str, **kwargs: Any) -> serializers.IntegerField:
    """A dose input with the model's range (referrals.models.DOSE_LIMITS), documented in the schema."""
    low, high = dose_bounds(name)
    return serializers.IntegerField(min_value=low, max_value=high, **kwargs)


def _rows_error(key: str) -> dict[str, str | StrPromise]:
    return {"max_length": row_cap_message(key)}


def or_blank(model_rule: RegexValidator) -> RegexValidator:
    """The model's regex rule of an optional text, said in the schema too (drf-spectacular writes a
    RegexValidator as the field's `pattern`): one rule, read from the model, and empty is no value."""
    regex = model_rule.regex
    core = (regex if isinstance(regex, str) else regex.pattern).removeprefix("^").removesuffix("$")
    return RegexValidator(rf"^(?:{core})?$", model_rule.message)


def either_case(model_rule: RegexValidator) -> RegexValidator:
    """The model's rule of an upper-case code (ICD-10) taking lower case too, as the service upper-cases
    what it is given: each character class of the model's pattern gets its letters' lower case."""
    regex = model_rule.regex
    pattern = regex if isinstance(regex, str) else regex.pattern

    def both(match: re.Match[str]) -> str:
        letters = re.findall(r"[A-Z]-[A-Z]|[A-Z]", match[1])
        return f"[{match[1]}{''.join(letters).lower()}]"

    return RegexValidator(re.sub(r"\[([^\]]*)\]", both, pattern), model_rule.message)


class UpperCodeField(serializers.CharField):
    """A code written in any letter case and read in upper case (as the pages and the service do)."""

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(data)).upper()


def decimal_input(*, max_digits: int, decimal_places: int, **kwargs: Any) -> serializers.DecimalField:
    """A non-negative decimal, written as text (`"2.5"`), exactly as the schema's pattern says: the
    pattern the server enforces is the one it documents (DRF alone would accept `"1e2"` and document
    `"-"`, `""` and `"."` as valid)."""
    whole = max_digits - decimal_places
    pattern = rf"^\d{{1,{whole}}}(\.\d{{1,{decimal_places}}})?$"

    @extend_schema_field({"type": "string", "format": "decimal", "pattern": pattern})
    class ExactDecimalField(serializers.DecimalField):
        def to_internal_value(self, data: Any) -> Any:
            if isinstance(data, str) and not re.fullmatch(pattern, data):
                self.fail("invalid")
            return super().to_internal_value(data)

    return ExactDecimalField(max_digits=max_digits, decimal_places=decimal_places, min_value=0, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time WITH its offset (`Z` or `+01:00`), as every `updated_at` the API
    answers is. A naive one is refused rather than guessed (UTC? the clinic's zone? the client's?): a
    poll that silently shifted by an hour would miss changes. In a query string the `+` of an offset
    must be URL-encoded (`%2B`), or a space arrives instead; `Z` needs no encoding."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its offset, e.g. 2026-01-31T09:00:00Z.",
        "naive": "Give the offset too (Z or +01:00, URL-encoded as %2B01:00): a time without one is "
        "ambiguous.",
        "overflow": "This date and time is out of range.",
    }

    def to_internal_value(self, value: Any) -> datetime.datetime:
        if not isinstance(value, str) or len(value) > 40:
            self.fail("invalid")
        parsed = None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            self.fail("invalid")
        if parsed is None:
            self.fail("invalid")
        if not timezone.is_aware(parsed):
            self.fail("naive")
        when: datetime.datetime = super().to_internal_value(parsed)
        return when


# --- errors --------------------------------------------------------------------------------------------


class BlockerSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    detail = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error response: a machine-readable code, a sentence for people, messages per field."""

    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, invalid_transition.")
    detail = serializers.CharField()
    fields = serializers.DictField(  # type: ignore[assignment]  # the metaclass pops declared fields
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested rows); empty when no field is at fault.",
    )
    current_status = serializers.ChoiceField(
        choices=HandoffStatus.choices, required=False, help_text="On 409: the handoff's status now."
    )
    blockers = BlockerSerializer(
        many=True,
        required=False,
        help_text="On a blocked send, or a refused accept, start or resume: every unmet condition.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="On 429: seconds to wait.")
    existing_patient = serializers.UUIDField(
        required=False,
        help_text="On 409 duplicate_patient: the id of the patient already in the clinic with this name and "
        "date of birth (send `confirm_distinct: true` to add another person anyway).",
    )


# --- small shared outputs ------------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.Serializer[Organization]):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class PersonRefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    full_name = serializers.CharField()
