"""Every package has the secret behind its tracking page, and the order API gives its link."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Package
from doorstep.models.tracking import token_digest
from tests.shop import Shop, open_shop

RECIPIENT = {"name": "Ana Shopper", "email": "ana@example.com", "phone": "+14805550101"}
DESTINATION = {"lat": 33.3035, "lng": -111.841, "address": "1 E Chicago St, Chandler AZ 85225"}


@pytest.fixture
def shop(session: Session) -> Shop:
    return open_shop(session)


def place(client: TestClient, shop: Shop, **extra: Any) -> dict[str, Any]:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 1}],
        "destination": DESTINATION,
        "speed": "two_day",
        "recipient": RECIPIENT,
    } | extra
    response = client.post("/v1/orders", json=body, headers=shop.headers())
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_each_package_gets_a_tracking_url_on_the_public_address(
    client: TestClient, session: Session, shop: Shop
) -> None:
    placed = place(client, shop)
    fetched = client.get(f"/v1/orders/{placed['id']}", headers=shop.headers()).json()
    urls = [p["tracking_url"] for p in fetched["packages"]]
    assert len(set(urls)) == len(urls) == 2
    assert urls == [p["tracking_url"] for p in placed["packages"]]
    for url in urls:
        assert url.startswith("http://localhost:8000/track/")
        token = url.rsplit("/", 1)[1]
        assert len(token) >= 43  # 32 random bytes, URL-safe base64
        package = session.scalars(select(Package).where(Package.tracking_token == token)).one()
        assert package.tracking_digest == token_digest(token)
        assert package.tracking_code not in url  # the label's code is not the key
