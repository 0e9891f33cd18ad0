"""The OpenAPI contract's error responses and links, derived in one place for every operation.

`ApiAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation the 4xx answers it can
give, from what the view and the operation are, so a new view is documented without writing anything:

- 401 when a permission class requires a login; 429 when the view is throttled;
- 400 when the operation reads input (a request body, query parameters, the pagination parameters),
  with the input fields that `fields` can name;
- 404 when the path names an object (outside your scope is a 404 too);
- 403 on every unsafe method (a service's `not_permitted`, or a session request without its CSRF
  token); 415 when it takes a body;
- 409 for the conflict codes the view declares in `api_conflicts` (a code's meaning lives in
  config.api_errors.CONFLICTS, beside the mapping of the domain errors).

405 is not listed per operation: it is the answer to a method an operation does not have, with an
`Allow` header naming those it has (the schema's description says so).

`add_links` (a postprocessing hook) links each create operation's 201 to the operations on what it
created, and each handoff operation to the other operations on the same handoff, so a client (and
schemathesis' stateful phase) can follow the life cycle from the response.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers

from config.api_errors import CONFLICTS
from referrals.api.serializers.common import ErrorSerializer

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def field_paths(serializer: Any, prefix: str = "") -> list[str]:
    """The names `fields` can carry for this input: dotted, `<n>` standing for a row's index."""
    if isinstance(serializer, type):
        serializer = serializer()
    out: list[str] = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        path = f"{prefix}{name}"
        out.append(path)
        if isinstance(field, serializers.ListSerializer):
            out.extend(field_paths(field.child, f"{path}.<n>."))
        elif isinstance(field, serializers.Serializer):
            out.extend(field_paths(field, f"{path}."))
        elif isinstance(field, serializers.ListField):
            out.append(f"{path}.<n>")
    return out


def _codes(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


class ApiAutoSchema(AutoSchema):
    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for code, description in self.error_responses(operation):
            responses.setdefault(
                str(code), {"description": description, "content": {"application/json": {"schema": error}}}
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_responses(self, operation: dict[str, Any]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        has_body = "requestBody" in operation
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        named = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if has_body or query:
            fields: list[str] = []
            if has_body:
                fields += field_paths(self.get_request_serializer())
            fields += query
            where = f" `fields` names each input at fault, among: {_codes(fields)}."
            malformed = " Malformed JSON is `parse_error`." if has_body else ""
            out.append((400, f"Invalid input (`invalid`).{where}{malformed}"))
        if any(
            not isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()
        ):
            out.append((401, "Not authenticated: send `Authorization: Bearer <token>` or log in."))
        if self.method in UNSAFE:
            out.append(
                (
                    403,
                    "`not_permitted`: you can see this object but may not do this to it; or "
                    "`permission_denied`: a session request without its CSRF token.",
                )
            )
        if named:
            out.append((404, f"`not_found`: no such {_codes(named)}, or outside what you may see."))
        conflicts = getattr(self.view, "api_conflicts", ()) if self.method in UNSAFE else ()
        if conflicts:
            meanings = "; ".join(f"`{code}`: {CONFLICTS[code]}" for code in conflicts)
            out.append((409, f"Conflict: the request is valid but the world is not ready. {meanings}."))
        if has_body:
            out.append((415, "`unsupported_media_type`: send `Content-Type: application/json`."))
        if self.view.get_throttles():
            out.append((429, "`throttled`: wait `retry_after` seconds (also in `Retry-After`)."))
        return out


# --- links ---------------------------------------------------------------------------------------------

# What a created object leads to beyond its own operations: (source, link name, target, parameters,
# request body). Expressions are OpenAPI runtime expressions on the source's response.
RELATED: list[tuple[str, str, str, dict[str, str], dict[str, str] | None]] = [
    ("patients_create", "plans_create", "plans_create", {}, {"patient": "$response.body#/id"}),
    ("patients_create", "consents_create", "consents_create", {}, {"patient": "$response.body#/id"}),
    ("patients_create", "plans_list", "plans_list", {"query.patient": "$response.body#/id"}, None),
    ("patients_create", "consents_list", "consents_list", {"query.patient": "$response.body#/id"}, None),
    ("plans_create", "handoffs_create", "handoffs_create", {}, {"plan": "$response.body#/id"}),
    ("plans_create", "patients_retrieve", "patients_retrieve", {"path.id": "$response.body#/patient"}, None),
    ("handoffs_create", "plans_retrieve", "plans_retrieve", {"path.id": "$response.body#/plan"}, None),
]

_PARAM = re.compile(r"{([^}]+)}")


def _operations(result: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        op["operationId"]: (path, method, op)
        for path, item in result["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def _link(target: str, description: str, parameters: dict[str, str], body: Any = None) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": target, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body is not None:
        link["requestBody"] = body
    return link


def add_links(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    """Drf-spectacular postprocessing hook: OpenAPI links, derived from the paths."""
    operations = _operations(result)

    def on_object(collection: str) -> list[tuple[str, str]]:
        """(operationId, path) of every operation on one object of this collection: `{id}` only."""
        found = []
        for op_id, (path, _, _) in operations.items():
            if path.startswith(f"{collection}{{id}}/") and _PARAM.findall(path) == ["id"]:
                found.append((op_id, path))
        return sorted(found)

    for op_id, (path, method, op) in operations.items():
        responses = op["responses"]
        success = "201" if "201" in responses else "200"
        links: dict[str, Any] = {}
        if method == "post" and success == "201" and not _PARAM.findall(path):
            # a create: its 201 leads to every operation on the object it created
            for target, target_path in on_object(path):
                links[target] = _link(
                    target, f"{target_path} of the object created", {"path.id": "$response.body#/id"}
                )
        elif _PARAM.findall(path) == ["id"] and path.split("/")[3] == "handoffs":
            # an operation on one handoff: its answer leads to the others on the same handoff
            collection = "/".join(path.split("/")[:4]) + "/"
            for target, target_path in on_object(collection):
                if target != op_id:
                    links[target] = _link(
                        target, f"{target_path} of the same handoff", {"path.id": "$request.path.id"}
                    )
        for source, name, target, parameters, body in RELATED:
            if source == op_id and target in operations:
                links[name] = _link(target, f"{operations[target][0]} of what was created", parameters, body)
        if links and success in responses:
            responses[success]["links"] = dict(sorted(links.items()))
    return result


# --- text inputs ---------------------------------------------------------------------------------------

NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _text_pattern(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and not ({"format", "enum", "pattern", "$ref"} & set(schema)):
        # DRF refuses a NUL in any text, and trims a text before judging it blank: say so
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NUL
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _text_pattern(schema["items"])


def text_patterns(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    """Drf-spectacular postprocessing hook: every text input (request bodies, query parameters) says
    in a pattern what the server refuses, a NUL anywhere, and only blanks where a text is required."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            for prop in component.get("properties", {}).values():
                _text_pattern(prop)
    for item in result["paths"].values():
        for op in item.values():
            for parameter in op.get("parameters", []) if isinstance(op, dict) else []:
                if parameter.get("in") == "query":
                    _text_pattern(parameter.get("schema", {}))
    return result
