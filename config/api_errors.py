"""The API's one error shape: {"code": ..., "detail": ..., "fields": {...}}.

Every error the REST adapter can return passes through `exception_handler`: DRF's own (validation,
authentication, permission, not found, method, media type, throttling, malformed JSON), Django's
(Http404, PermissionDenied, ValidationError raised by a service) and the domain errors of
referrals.errors (NotPermitted -> 403, InvalidTransition -> 409 with the current status, SendBlocked ->
409 with one code per blocker, DuplicatePatient -> 409 with the existing patient's id, any other
DomainError -> 409 with its code). Anything else is left to Django: a real bug stays a 500 and is logged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from referrals.errors import (
    ConcernAlreadyResolved,
    DomainError,
    DuplicatePatient,
    InvalidTransition,
    NotPermitted,
    SendBlocked,
)

NON_FIELD = "non_field_errors"

# What each 409 code means: the schema (referrals.api.schema) documents an operation's 409 from the codes
# its view declares in `api_conflicts`, with these words. A new conflict code is added here.
CONFLICTS = {
    "invalid_transition": "the action is not legal in the handoff's current status (`current_status`)",
    "plan_has_open_handoff": "the plan already has an open handoff (`current_status` is its status); "
    "cancel it first",
    "send_blocked": "a condition of sending is unmet (`blockers`: one `code` and `detail` per unmet "
    "condition)",
    "consent_withdrawn": "this consent was already withdrawn",
    "plan_completed": "the plan is completed: a new episode is a new plan",
    "no_longer_eligible": "the referral's trainer is no longer eligible (`blockers`: one `code` and "
    "`detail` per reason: partnership ended, credential expired, trainer deactivated or no longer at the "
    "gym); the clinic is told",
    "concern_already_resolved": "the concern was resolved already",
    "report_required": "a referral is completed only after its trainer submitted a progress report marked "
    "`final` (POST /api/v1/handoffs/{id}/reports/ with `final: true`)",
    "duplicate_patient": "a patient with this full name and date of birth is already in the clinic "
    "(`existing_patient` is their id); send `confirm_distinct: true` if this is a different person",
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"dotted.field.path": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in (NON_FIELD, "__all__"):  # an error of the object itself: named by its own path
                out.update(_flatten(value, prefix))
            else:
                out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            if item:
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        out[prefix or NON_FIELD] = [str(item) for item in detail]
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def error_body(
    code: str, detail: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": fields or {}, **extra}


def _validation_detail(fields: dict[str, list[str]]) -> str:
    first = next(iter(fields.items()), None)
    if first is None:
        return "Invalid input."
    name, messages = first
    message = messages[0] if messages else "Invalid."
    return message if name == NON_FIELD else f"{name}: {message}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    response_status: int
    if isinstance(exc, SendBlocked):
        blockers = [{"code": b.code, "detail": b.message} for b in exc.blockers]
        body = error_body(exc.code, exc.message, blockers=blockers)
        response_status = status.HTTP_409_CONFLICT
    elif isinstance(exc, InvalidTransition):
        body = error_body(exc.code, exc.message, current_status=exc.current_status)
        response_status = status.HTTP_409_CONFLICT
    elif isinstance(exc, DuplicatePatient):
        body = error_body(exc.code, exc.message, existing_patient=str(exc.existing.public_id))
        response_status = status.HTTP_409_CONFLICT
    elif isinstance(exc, ConcernAlreadyResolved):
        body = error_body(exc.code, exc.message)
        response_status = status.HTTP_409_CONFLICT
    elif isinstance(exc, NotPermitted):
        body = error_body(exc.code, exc.message)
        response_status = status.HTTP_403_FORBIDDEN
    elif isinstance(exc, DomainError):  # any other rule that said no: the world is not ready
        body = error_body(exc.code, exc.message)
        response_status = status.HTTP_409_CONFLICT
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = {NON_FIELD if k == "__all__" else k: list(v) for k, v in exc.message_dict.items()}
        else:
            fields = {NON_FIELD: list(exc.messages)}
        body = error_body("invalid", _validation_detail(fields), fields)
        response_status = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        body = error_body("not_found", "Not found.")
        response_status = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, DjangoPermissionDenied):
        body = error_body("permission_denied", "You do not have permission to perform this action.")
        response_status = status.HTTP_403_FORBIDDEN
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = error_body("invalid", _validation_detail(fields), fields)
        response_status = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        body = error_body(str(code), str(detail))
        response_status = exc.status_code
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
            body["retry_after"] = int(wait)
    else:
        return None
    set_rollback()
    return Response(body, status=response_status, headers=headers)
