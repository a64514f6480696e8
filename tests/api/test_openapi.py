"""The OpenAPI document describes what the server sends: every error in the envelope."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.shop import Shop, open_shop

ENVELOPE = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
def shop(session: Session) -> Shop:
    shop = open_shop(session)
    session.commit()
    return shop


def _document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_operation_documents_its_errors_in_the_envelope(client: TestClient) -> None:
    document = _document(client)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"422", "500"}
            if path not in ("/healthz", "/readyz"):
                expected.add("429")
            if operation.get("security"):
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"400", "409", "413"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == ENVELOPE, (method, path, status)


def _validator(document: dict[str, Any]) -> Any:
    schema = {"$ref": "#/components/schemas/ErrorBody", "components": document["components"]}
    return jsonschema_rs.validator_for(schema)


def test_real_error_bodies_match_the_documented_envelope(client: TestClient, shop: Shop) -> None:
    validator = _validator(_document(client))
    bodies = [
        client.post("/v1/orders", json={"bogus": 1}, headers=shop.headers()),  # 422 problems
        client.get("/v1/orders/ord_nope", headers=shop.headers()),  # 404 with context
        client.get("/v1/orders"),  # 401
        client.post("/v1/orders", content=b"x" * (2 << 20), headers=shop.headers()),  # 413
        client.get("/v1/orders", params={"q": "a\x00b"}, headers=shop.headers()),  # NUL 422
    ]
    assert [b.status_code for b in bodies] == [422, 404, 401, 413, 422]
    for response in bodies:
        validator.validate(response.json())


def test_rules_across_fields_are_in_the_schema(client: TestClient) -> None:
    schemas = _document(client)["components"]["schemas"]
    # "A preview or a basket, not both": two ways to order, each with what it needs.
    ways = schemas["OrderIn"]["anyOf"]
    assert [sorted(way["required"]) for way in ways] == [
        ["option_id", "preview_id"],
        ["destination", "items", "speed"],
    ]
    assert schemas["MissingIn"]["anyOf"]
    assert schemas["ExceptionIn"]["dependentRequired"] == {"start": ["end"], "end": ["start"]}
    # Times of day are local (15:00:00), not RFC 3339 times with an offset.
    assert "format" not in schemas["NodeOut"]["properties"]["same_day_cutoff"]["anyOf"][0]
