"""The OpenAPI schema: generated from the code, checked in, served, and with Swagger UI served locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command
from django.test import Client

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
