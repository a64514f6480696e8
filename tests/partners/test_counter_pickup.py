"""Counter pick-up chosen at checkout, end to end: the preview's pick-up option, the order,
the plan (the store's batch, off its staff route), the scan-in that keeps it at the counter
and tells the shopper the code, and the hand-over."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import (
    CounterChoice,
    CounterParcel,
    ManifestItem,
    Message,
    Node,
    Package,
    Route,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import counter
from doorstep.settings import Settings
from tests.partners.store import STORE, at, neighbours, open_store, plan_dch1
from tests.shop import Shop, local, open_shop

MARICOPA = {"lat": 33.0605, "lng": -112.0440, "address": "44120 W Garvey Ave, Maricopa"}
OPTION = f"pickup:{STORE}"


def _preview(client: TestClient, shop: Shop, where: dict[str, Any] = MARICOPA) -> dict[str, Any]:
    response = client.post(
        "/v1/delivery-previews",
        json={"items": [{"sku": "KETTLE-1", "quantity": 1}], "destination": where},
        headers=shop.headers(publishable=True),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _order(client: TestClient, shop: Shop, preview_id: str, option_id: str, key: str) -> Any:
    return client.post(
        "/v1/orders",
        json={
            "preview_id": preview_id,
            "option_id": option_id,
            "recipient": {"name": "Pia Pickup", "email": "pia@example.com"},
        },
        headers=shop.headers() | {"Idempotency-Key": key},
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tracking pages rendered afresh, with no outbox reader on the test's connection."""
    return settings.model_copy(update={"tracking_page_cache_seconds": 0})


@pytest.fixture
def shop(client: TestClient, session: Session) -> Shop:
    """Copper Pot with kettles in the warehouse, committed; the app's clock at 09:00 on the
    day before the service day."""
    shop = open_shop(session, kettle_stock=6)
    session.commit()
    client.app.state.clock = lambda: local(9)  # type: ignore[attr-defined]
    return shop


def test_a_pickup_order_ends_at_the_counter_with_a_code(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = _preview(client, shop)
    pickup = next(o for o in preview["options"] if o["id"] == OPTION)
    assert pickup["kind"] == "pickup"
    assert pickup["pickup"]["name"] == "Maricopa Hardware & Feed"
    assert pickup["pickup"]["hours"] == "Mon-Fri 07:00-19:00; Sat 08:00-17:00"
    placed = _order(client, shop, preview["id"], OPTION, "pickup-1")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["speed"] == "next_day"
    assert order["fee_cents"] == 0
    [parcel] = order["packages"]
    assert parcel["collect_at"] == STORE
    assert parcel["delivered_by"] == STORE
    assert parcel["channel"] == "partner_store"
    # Read back, the order says the same.
    again = client.get(f"/v1/orders/{order['id']}", headers=shop.headers()).json()
    assert again["packages"][0]["collect_at"] == STORE
    # The shopper's page says where and from when, with no code yet.
    page = client.get(parcel["tracking_url"]).text
    assert "Collect it at Maricopa Hardware &amp; Feed" in page
    assert "Ready to collect from Wed 25 Nov, 10:00 am" in page
    assert "data-pickup-code" not in page
    assert "Instructions for the driver" not in page

    neighbours(session, shop.merchant_id, 2)
    plan_dch1(session)
    code = parcel["tracking_code"]
    package = session.scalars(select(Package).where(Package.tracking_code == code)).one()
    assert package.state is PackageState.ASSIGNED
    # On the store's batch (the morning run drops it there), but on no stop at a door.
    assert session.scalar(select(ManifestItem).where(ManifestItem.package_id == package.id))
    stops = session.scalars(
        select(Stop.kind)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .where(StopPackage.package_id == package.id)
    ).all()
    assert StopKind.DELIVERY not in stops, stops
    staff_stops = session.scalars(
        select(Stop)
        .join(Route, Route.id == Stop.route_id)
        .where(Route.start_node_id == package.serving_node_id, Route.block_id.is_(None))
    ).all()
    assert len(staff_stops) == 2

    store = open_store(session, client)
    assert store.node.code == STORE
    store.set_clock(at(9, 10))
    scans = {c: store.post("/manifest/scans", json={"code": c}).json() for c in store.codes()}
    assert scans[code]["for_counter"] is True
    assert scans[code]["state"] == "at_partner_store"
    assert [s["for_counter"] for c, s in scans.items() if c != code] == [False, False]
    row = session.get_one(CounterParcel, package.id)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    shown = counter.pickup_of(row, secret_key=settings.secret_key)
    told = session.scalars(select(Message).where(Message.template == "ready_at_counter")).one()
    assert told.recipient == "pia@example.com"
    assert shown.code in (told.body_text or "")
    assert [w["code"] for w in store.get("/counter").json()] == [code]
    page = client.get(parcel["tracking_url"]).text
    assert f"data-pickup-code>{shown.code}<" in page
    assert "who deliver it" not in page
    # The staff route has the two deliveries only.
    route = store.get("/route").json()
    assert code not in {p["code"] for s in route["stops"] for p in s["parcels"]}
    assert len(route["stops"]) == 2
    handed = store.post("/counter/hand-over", json={"barcode": shown.barcode})
    assert handed.status_code == 200, handed.text
    assert store.package(code).state is PackageState.PICKED_UP_AT_COUNTER


def test_a_pickup_at_a_store_that_filled_up_is_refused(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = _preview(client, shop)
    assert OPTION in {o["id"] for o in preview["options"]}
    node = session.scalars(select(Node).where(Node.code == STORE)).one()
    node.daily_capacity = 0
    session.commit()
    refused = _order(client, shop, preview["id"], OPTION, "pickup-full")
    assert refused.status_code == 409
    assert refused.json()["error"] == "pickup_unavailable"
    assert session.scalars(select(CounterChoice)).all() == []
    # The delivery options of the same preview still work as they did.
    delivered = _order(client, shop, preview["id"], "next_day", "pickup-full-2")
    assert delivered.status_code == 201, delivered.text
    assert delivered.json()["packages"][0]["collect_at"] is None


def test_a_pickup_option_the_preview_did_not_offer_is_refused(
    client: TestClient, session: Session, shop: Shop
) -> None:
    preview = _preview(client, shop)
    other = _order(client, shop, preview["id"], "pickup:PS-QC-FLORIST", "pickup-other")
    assert other.status_code == 409
    assert other.json()["error"] == "pickup_unavailable"
    malformed = _order(client, shop, preview["id"], "pickup:", "pickup-bad")
    assert malformed.status_code == 422
    unknown = _order(client, shop, preview["id"], "teleport", "pickup-bad-2")
    assert unknown.status_code == 422
    # Strict bodies: a field the API doesn't know is refused, not ignored.
    extra = client.post(
        "/v1/orders",
        json={
            "preview_id": preview["id"],
            "option_id": OPTION,
            "pickup_store": STORE,
            "recipient": {"name": "Pia Pickup"},
        },
        headers=shop.headers() | {"Idempotency-Key": "pickup-bad-3"},
    )
    assert extra.status_code == 422
    assert session.scalars(select(CounterChoice)).all() == []
