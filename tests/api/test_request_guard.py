"""A NUL character anywhere in a request is refused before it reaches a query (PostgreSQL
cannot store it): a 422 naming where it was, JSON for the API, a page for the browser faces."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import MerchantUser, Order, WebhookEndpoint
from tests.shop import DOWNTOWN_CHANDLER, Shop, local
from tests.web.conftest import CONSOLE_EMAIL, SHOPPER, hidden, make_preview, open_shop_with_console

ORDER = {
    "items": [{"sku": "PAN-28", "quantity": 1}],
    "destination": DOWNTOWN_CHANDLER,
    "speed": "same_day",
    "recipient": {"name": "Ana Ruiz"},
}


@pytest.fixture
def shop(session: Session, client: TestClient) -> Shop:
    shop = open_shop_with_console(session)
    client.app.state.clock = lambda: local(10)  # type: ignore[attr-defined]
    return shop


@pytest.mark.parametrize(
    ("method", "path", "json", "field"),
    [
        ("get", "/v1/orders/ord_x%00y", None, "path"),
        ("get", "/v1/orders?q=a%00b", None, "query.q"),
        ("get", "/v1/orders?status=confirmed&cursor=%00", None, "query.cursor"),
        ("get", "/v1/orders.csv?q=%00", None, "query.q"),
        ("post", "/v1/orders", ORDER | {"recipient": {"name": "Ana\x00"}}, "body.recipient.name"),
        (
            "post",
            "/v1/orders",
            ORDER | {"items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "X\x00"}]},
            "body.items.1.sku",
        ),
        ("post", "/v1/orders", ORDER | {"merchant_reference": "\x00"}, "body.merchant_reference"),
        ("post", "/v1/webhook-endpoints", {"url": "https://a\x00.example/"}, "body.url"),
        ("post", "/v1/api-keys", {"kind": "secret", "label": "ops\x00"}, "body.label"),
        ("get", "/v1/geo/postal-codes/852%0025", None, "path"),
    ],
)
def test_a_nul_in_any_api_input_is_a_422_naming_it(
    client: TestClient,
    session: Session,
    shop: Shop,
    method: str,
    path: str,
    json: dict[str, Any] | None,
    field: str,
) -> None:
    response = client.request(method, path, json=json, headers=shop.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert response.json()["detail"] == [
        {
            "field": field,
            "message": "text may not contain the NUL character (\\u0000)",
            "type": "nul_character",
        }
    ]
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_text_that_only_spells_a_nul_escape_is_fine(client: TestClient, shop: Shop) -> None:
    # "C:\\u0000" in JSON is a backslash followed by the letters u0000, not a NUL.
    body = ORDER | {"merchant_reference": "C:\\u0000", "recipient": {"name": "Ana Ruiz"}}
    response = client.post("/v1/orders", json=body, headers=shop.headers())
    assert response.status_code == 201, response.text
    assert response.json()["merchant_reference"] == "C:\\u0000"


def test_the_console_answers_a_nul_with_its_page(client: TestClient, shop: Shop) -> None:
    for response in (
        client.post("/console/login", data={"email": f"{CONSOLE_EMAIL}\x00", "password": "x"}),
        client.get("/console/orders", params={"q": "\x00"}),
    ):
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert "We couldn&#39;t read what was sent" in response.text


def test_the_hosted_checkout_answers_a_nul_with_its_page(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = make_preview(client, shop)
    link = {"key": shop.publishable_key, "preview": preview["id"]}
    assert client.get("/checkout", params=link | {"ref": "\x00"}).status_code == 422
    page = client.get("/checkout", params=link)
    assert page.status_code == 200
    form = {
        "key": shop.publishable_key,
        "token": hidden(page.text, "token"),
        **SHOPPER,
        "name": "Ana\x00Ruiz",
    }
    # However the browser encodes the form: URL-encoded, or as multipart.
    encoded = client.post("/checkout", data=form, follow_redirects=False)
    multipart = client.post(
        "/checkout",
        files={name: (None, value) for name, value in form.items()},
        follow_redirects=False,
    )
    for response in (encoded, multipart):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "We couldn&#39;t read what was sent" in response.text
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    # The same form without the NUL goes through.
    placed = client.post("/checkout", data=form | {"name": "Ana Ruiz"}, follow_redirects=False)
    assert placed.status_code == 303, placed.text
    assert session.scalar(select(func.count()).select_from(MerchantUser)) == 1
