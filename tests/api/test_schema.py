"""The OpenAPI schema: generated from the code, checked in, served, and with Swagger UI served locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command
from django.test import Client
from drf_spectacular.utils import extend_schema

from tests.api.conftest import API

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def generate(tmp_path: Path) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    return out.read_text()


def test_the_checked_in_schema_matches_the_code(tmp_path: Path) -> None:
    assert CHECKED_IN.exists(), "docs/openapi.yaml is missing: run `make schema` and commit it"
    assert generate(tmp_path) == CHECKED_IN.read_text(), (
        "docs/openapi.yaml has drifted from the code: run `make schema` and commit docs/openapi.yaml"
    )


def test_every_operation_has_an_id_a_response_and_its_errors() -> None:
    schema = yaml.safe_load(CHECKED_IN.read_text())
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) >= 30
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("operationId"), where
        codes = set(op["responses"])
        assert codes & {"200", "201"}, where
        assert {"401", "429"} <= codes, where
        for code in codes - {"200", "201"}:
            ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", where
        if "{id}" in path:
            assert "404" in codes, where
        if method in ("post", "patch") and op.get("requestBody"):
            assert "400" in codes, where
    actions = {
        p.rstrip("/").rsplit("/", 1)[-1] for p in schema["paths"] if p.startswith(f"{API}/handoffs/{{id}}/")
    }
    assert actions >= {
        "send", "accept", "reject", "start", "hold", "resume", "complete", "fail", "cancel",
        "enter-in-error", "concern", "events",
    }  # fmt: skip
    for path in (f"{API}/handoffs/{{id}}/{a}/" for a in ("send", "accept", "cancel", "concern")):
        assert "409" in schema["paths"][path]["post"]["responses"], path


def test_the_schema_is_served_to_anyone(client: Client) -> None:
    response = client.get(f"{API}/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content
    assert b"/api/v1/handoffs/{id}/accept/" in response.content


def test_swagger_ui_is_served_with_local_assets(client: Client, db: Any) -> None:
    response = client.get(f"{API}/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(b"".join(asset.streaming_content)) > 100_000  # type: ignore[attr-defined]


def operations_of(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        op["operationId"]: (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    }


def test_each_operation_documents_the_4xx_it_can_answer() -> None:
    ops = operations_of(yaml.safe_load(CHECKED_IN.read_text()))
    for op_id, (path, method, op) in ops.items():
        codes = set(op["responses"])
        has_query = any(p["in"] == "query" for p in op.get("parameters", []))
        assert ("400" in codes) == ("requestBody" in op or has_query), op_id
        assert ("415" in codes) == ("requestBody" in op), op_id
        assert ("404" in codes) == ("{" in path), op_id
        assert ("403" in codes) == (method != "get"), op_id
        assert {"401", "429"} <= codes, op_id
    create = ops["patients_create"][2]["responses"]
    assert "duplicate_patient" in create["409"]["description"]
    assert "existing_patient" in create["409"]["description"]
    body = yaml.safe_load(CHECKED_IN.read_text())["components"]["schemas"]["PatientInputRequest"]
    assert body["properties"]["confirm_distinct"]["type"] == "boolean"
    assert "send_blocked" in ops["handoffs_send"][2]["responses"]["409"]["description"]
    assert "plan_has_open_handoff" in ops["handoffs_create"][2]["responses"]["409"]["description"]
    assert "consent_withdrawn" in ops["consents_withdraw"][2]["responses"]["409"]["description"]
    assert "exercises.<n>.sets" in ops["plans_create"][2]["responses"]["400"]["description"]
    for polled in ("handoffs_list", "notifications_list"):
        assert "`updated_since`" in ops[polled][2]["responses"]["400"]["description"]
        (cursor,) = [p for p in ops[polled][2]["parameters"] if p["name"] == "cursor"]
        assert cursor["description"].startswith("Opaque")


def test_a_new_view_gets_its_error_responses_without_writing_them() -> None:
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class NoteSerializer(serializers.Serializer[Any]):
        note = serializers.CharField()

    class ConcernResolveApi(APIView):  # declares nothing about its errors
        api_conflicts = ("invalid_transition",)

        @extend_schema(operation_id="concern_resolve", request=NoteSerializer, responses=NoteSerializer)
        def post(self, request: Request, id: str, concern_id: str) -> Response:
            return Response({})

    generator = SchemaGenerator(
        patterns=[
            path("api/v1/handoffs/<str:id>/concerns/<str:concern_id>/resolve/", ConcernResolveApi.as_view())
        ]
    )
    schema = generator.get_schema(request=None, public=True)
    (op,) = [item["post"] for item in schema["paths"].values()]
    assert set(op["responses"]) == {"200", "400", "401", "403", "404", "409", "415", "429"}
    assert "`note`" in op["responses"]["400"]["description"]
    assert "`concern_id`" in op["responses"]["404"]["description"]
    assert "current_status" in op["responses"]["409"]["description"]


def test_the_create_operations_link_to_what_they_created() -> None:
    schema = yaml.safe_load(CHECKED_IN.read_text())
    ops = operations_of(schema)

    def links(op_id: str) -> dict[str, Any]:
        responses = ops[op_id][2]["responses"]
        return dict(responses.get("201", responses.get("200", {})).get("links", {}))

    handoff = links("handoffs_create")
    actions = {"send", "accept", "reject", "start", "hold", "resume", "complete", "fail", "cancel"}
    assert {f"handoffs_{a}" for a in actions} | {"handoffs_retrieve", "handoffs_events_list"} <= set(handoff)
    assert handoff["handoffs_accept"]["parameters"] == {"path.id": "$response.body#/id"}
    assert {"patients_retrieve", "patients_update", "plans_create", "consents_create"} <= set(
        links("patients_create")
    )
    assert links("patients_create")["plans_create"]["requestBody"] == {"patient": "$response.body#/id"}
    assert {"plans_retrieve", "plans_update", "handoffs_create"} <= set(links("plans_create"))
    assert links("plans_create")["handoffs_create"]["requestBody"] == {"plan": "$response.body#/id"}
    assert "handoffs_start" in links("handoffs_accept")  # the life cycle goes on from each answer
    # every link names a real operation, and its parameters are the target's
    for op_id, (_, _, op) in ops.items():
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                target = ops[link["operationId"]][2]
                params = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= params, (op_id, name)
                if "requestBody" in link:
                    assert "requestBody" in target, (op_id, name)
