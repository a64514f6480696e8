"""Returns from the tracking page: within each product's window, heard by the merchant at each
step, and the stock back on hand where the return is received."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from doorstep.models import (
    InventoryLevel,
    Node,
    OrderLine,
    OutboxEvent,
    Package,
    Product,
    Return,
    ReturnStatus,
)
from tests.drivers.road import Road, delivery_stops
from tests.shop import local
from tests.tracking.conftest import parcels_at


def _delivered(road: Road, index: int = 0) -> Package:
    stop = delivery_stops(road.session, road.block)[index]
    road.deliver(stop, now=local(11, 10 + index))
    return parcels_at(road.session, stop)[0]


def _returnable(road: Road, package: Package, days: int | None) -> list[int]:
    products = list(
        road.session.scalars(select(OrderLine.product_id).where(OrderLine.package_id == package.id))
    )
    road.session.execute(
        update(Product).where(Product.id.in_(products)).values(return_window_days=days)
    )
    road.session.flush()
    return products


def _on_hand(road: Road, product_id: int, node: str) -> int:
    node_id = road.session.scalar(select(Node.id).where(Node.code == node))
    road.session.expire_all()
    return (
        road.session.scalar(
            select(InventoryLevel.on_hand).where(
                InventoryLevel.product_id == product_id, InventoryLevel.node_id == node_id
            )
        )
        or 0
    )


def _events(road: Road, kind: str) -> int:
    return (
        road.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == kind)
        )
        or 0
    )


def test_a_return_started_on_the_page_and_received_at_the_station(
    loaded: Road, operator_headers: dict[str, str]
) -> None:
    road, client = loaded, loaded.client
    package = _delivered(road)
    [product_id, *_] = _returnable(road, package, 30)
    road.set_clock(local(15))
    page = client.get(f"/track/{package.tracking_token}").text
    assert "Start a return" in page
    started = client.post(
        f"/track/{package.tracking_token}/return",
        data={"reason": "Wrong size"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    returned = road.session.scalars(select(Return).where(Return.package_id == package.id)).one()
    assert returned.status is ReturnStatus.REQUESTED
    assert returned.reason == "Wrong size"
    assert _events(road, "return.requested") == 1
    assert returned.public_id in client.get(f"/track/{package.tracking_token}").text
    # Asking twice answers the same return.
    again = client.post(f"/track/{package.tracking_token}/return", follow_redirects=False)
    assert again.status_code == 303
    assert road.session.scalar(select(func.count()).select_from(Return)) == 1

    before = _on_hand(road, product_id, "DCH1")
    receive = client.post(
        f"/v1/returns/{returned.public_id}/receive", json={"node": "DCH1"}, headers=operator_headers
    )
    assert receive.status_code == 200, receive.text
    assert receive.json()["status"] == "received"
    quantity = sum(int(i["quantity"]) for i in returned.items if i["product_id"] == product_id)
    assert _on_hand(road, product_id, "DCH1") == before + quantity
    twice = client.post(
        f"/v1/returns/{returned.public_id}/receive", json={"node": "DCH1"}, headers=operator_headers
    )
    assert twice.status_code == 200
    assert _on_hand(road, product_id, "DCH1") == before + quantity  # counted once
    assert _events(road, "return.received") == 1
    assert "Return received" in client.get(f"/track/{package.tracking_token}").text


def test_outside_the_window_or_not_returnable_is_refused(loaded: Road) -> None:
    road, client = loaded, loaded.client
    late = _delivered(road, 0)
    _returnable(road, late, 14)
    road.set_clock(local(11, 30) + timedelta(days=15))
    refused = client.post(f"/track/{late.tracking_token}/return")
    assert refused.status_code == 409
    assert 'data-error="return_window_closed"' in refused.text
    never = _delivered(road, 1)
    _returnable(road, never, None)
    road.set_clock(local(12))
    assert "does not take these items back" in client.get(f"/track/{never.tracking_token}").text
    refused = client.post(f"/track/{never.tracking_token}/return")
    assert refused.status_code == 409
    assert 'data-error="return_not_allowed"' in refused.text
    assert road.session.scalar(select(func.count()).select_from(Return)) == 0
    assert _events(road, "return.requested") == 0


def test_receiving_an_unknown_return_or_at_an_unknown_node(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    unknown = client.post(
        "/v1/returns/RNOPE/receive", json={"node": "DCH1"}, headers=operator_headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "return_not_found"
    assert client.post("/v1/returns/RNOPE/receive", json={"node": "DCH1"}).status_code == 401
