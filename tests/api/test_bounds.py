"""Numbers in paths and query strings are bounded: an id past what a row can have is a 422,
never a 500 from the database (PostgreSQL refuses a parameter past its INTEGER)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.api.deps import MAX_ROW_ID
from doorstep.merchants.service import create_merchant
from doorstep.settings import Environment
from doorstep.webhooks import service as webhooks

TOO_BIG = 99_999_999_999


def _integer_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    options = schema.get("anyOf", [schema])
    return [option for option in options if option.get("type") == "integer"]


def test_every_integer_parameter_of_the_api_has_a_maximum(client: TestClient) -> None:
    unbounded = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for schema in _integer_schemas(parameter["schema"]):
                    if schema.get("maximum", MAX_ROW_ID + 1) > MAX_ROW_ID:
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", f"/v1/webhook-endpoints/{TOO_BIG}", "path.endpoint_id"),
        ("patch", f"/v1/webhook-endpoints/{TOO_BIG}", "path.endpoint_id"),
        ("delete", f"/v1/webhook-endpoints/{TOO_BIG}", "path.endpoint_id"),
        ("get", "/v1/webhook-endpoints/0", "path.endpoint_id"),
        (
            "get",
            "/v1/webhook-endpoints/{endpoint}/deliveries?before=" + str(TOO_BIG),
            "query.before",
        ),
        ("post", f"/v1/webhook-deliveries/{TOO_BIG}/redeliver", "path.delivery_id"),
        ("post", f"/v1/api-keys/{TOO_BIG}/revoke", "path.key_id"),
        ("post", f"/v1/api-keys/{2**63}/revoke", "path.key_id"),
    ],
)
def test_an_id_past_any_row_is_a_422_naming_it(
    client: TestClient, session: Session, method: str, path: str, field: str
) -> None:
    merchant = create_merchant(session, "Copper Pot Kitchenware")
    endpoint = webhooks.create_endpoint(
        session,
        merchant.merchant.id,
        "https://93.184.215.14/hooks",
        ["*"],
        environment=Environment.TEST,
    )
    session.commit()
    headers = {"Authorization": f"Bearer {merchant.secret_key.plaintext}"}
    response = client.request(method, path.format(endpoint=endpoint.id), headers=headers, json={})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert [problem["field"] for problem in response.json()["detail"]] == [field]


def test_a_plan_id_past_any_row_is_a_422(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    for path in (f"/v1/plans/{TOO_BIG}", f"/v1/plans/1/blocks/{TOO_BIG}"):
        response = client.get(path, headers=operator_headers)
        assert response.status_code == 422, response.text


def test_an_orders_cursor_past_any_row_is_refused(client: TestClient, session: Session) -> None:
    merchant = create_merchant(session, "Copper Pot Kitchenware")
    session.commit()
    headers = {"Authorization": f"Bearer {merchant.secret_key.plaintext}"}
    for order_id in (TOO_BIG, 2**64, 0, -5):
        cursor = base64.urlsafe_b64encode(f"o:{order_id}".encode()).decode().rstrip("=")
        response = client.get("/v1/orders", params={"cursor": cursor}, headers=headers)
        assert response.status_code == 422, (order_id, response.text)
        assert response.json()["error"] == "invalid_cursor"
