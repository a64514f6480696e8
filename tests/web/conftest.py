"""The app (the factory wires in the browser faces), and a shop to check out from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.merchants import service as merchants
from doorstep.models import Merchant
from doorstep.settings import Settings
from tests.shop import DOWNTOWN_CHANDLER, Shop, local, open_shop

CONSOLE_EMAIL = "owner@copperpot.example"
CONSOLE_PASSWORD = "copper-pot-2026"


@pytest.fixture
def web(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory
    app.state.clock = lambda: local(10)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def open_shop_with_console(session: Session) -> Shop:
    """The example network and Copper Pot's shop, with its console login; committed."""
    shop = open_shop(session)
    merchant = session.get(Merchant, shop.merchant_id)
    assert merchant is not None
    merchants.create_console_user(session, merchant, CONSOLE_EMAIL, CONSOLE_PASSWORD)
    session.commit()
    return shop


@pytest.fixture
def shop(session: Session) -> Shop:
    return open_shop_with_console(session)


def make_preview(
    client: TestClient, shop: Shop, sku: str = "PAN-28", quantity: int = 1
) -> dict[str, Any]:
    response = client.post(
        "/v1/delivery-previews",
        json={
            "items": [{"sku": sku, "quantity": quantity}],
            "destination": {
                "lat": DOWNTOWN_CHANDLER["lat"],
                "lng": DOWNTOWN_CHANDLER["lng"],
                "postal_code": "85225",
            },
        },
        headers=shop.headers(publishable=True),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1).replace("&#34;", '"').replace("&amp;", "&")


SHOPPER = {
    "option": "same_day",
    "name": "Ana Ruiz",
    "phone": "+1 480 555 0101",
    "email": "ana@example.com",
    "street": "1 E Chicago St",
    "unit": "Apt 4",
    "city": "Chandler",
    "state": "AZ",
    "postal_code": "85225",
    "instructions": "Leave it with the concierge",
}


def sign_in(client: TestClient) -> None:
    response = client.post(
        "/console/login",
        data={"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD, "next": "/console/orders"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
