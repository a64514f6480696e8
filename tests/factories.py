"""Small functions that build valid rows for tests; override only what a test is about."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from doorstep.models import (
    CarrierShipment,
    DeliverySpeed,
    Merchant,
    Node,
    NodeKind,
    Order,
    Package,
    Plan,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import record_package_created, transition_package

# An address a carrier can label (Order's structured destination columns).
LABELLABLE = {
    "dest_address": "1 E Chicago St",
    "dest_address_line2": "Apt 4",
    "dest_city": "Chandler",
    "dest_state": "AZ",
    "dest_postal_code": "85225",
    "recipient_phone": "+1 480 555 0101",
}


def make_merchant(session: Session, **overrides: Any) -> Merchant:
    merchant = Merchant(**{"name": "Copper Pot Kitchenware", **overrides})
    session.add(merchant)
    session.flush()
    return merchant


def make_node(session: Session, **overrides: Any) -> Node:
    values: dict[str, Any] = {
        "code": f"N-{secrets.token_hex(4)}",
        "kind": NodeKind.STATION,
        "name": "Test Station",
        "lat": 33.2744,
        "lng": -111.8887,
        "timezone": "America/Phoenix",
    }
    node = Node(**{**values, **overrides})
    session.add(node)
    session.flush()
    return node


def make_order(session: Session, merchant: Merchant, **overrides: Any) -> Order:
    values: dict[str, Any] = {
        "public_id": f"ord_{secrets.token_urlsafe(12)}",
        "merchant_id": merchant.id,
        "speed": DeliverySpeed.SAME_DAY,
        "promised_by": datetime.now(UTC) + timedelta(hours=8),
        "recipient_name": "Ana Ruiz",
        "dest_address": "1 E Chicago St, Chandler, AZ 85225",
        "dest_lat": 33.3035,
        "dest_lng": -111.8410,
    }
    order = Order(**{**values, **overrides})
    session.add(order)
    session.flush()
    return order


def make_package(session: Session, **overrides: Any) -> Package:
    order = overrides.pop("order", None)
    if order is None:
        order = make_order(session, make_merchant(session))
    origin = overrides.pop("origin", None) or make_node(session)
    values: dict[str, Any] = {
        "tracking_code": secrets.token_urlsafe(16),
        "order_id": order.id,
        "origin_node_id": origin.id,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 150,
        "weight_g": 1200,
        "promised_by": order.promised_by,
    }
    package = Package(**{**values, **overrides})
    record_package_created(session, package, order, actor="system")
    return package


def make_planned_carrier_shipment(
    session: Session,
    service_date: date,
    *,
    service: str = "next_day",
    origin: Node | None = None,
    **order: Any,
) -> CarrierShipment:
    """A package the planner gave to a carrier: warehouse stock (unless ``origin``), planned
    at a station, to a labellable address (override the order's columns to change it)."""
    station = make_node(
        session, name="Chandler Delivery Station", address="2600 S Price Rd, Chandler, AZ 85286"
    )
    origin = origin or make_node(
        session,
        kind=NodeKind.WAREHOUSE,
        name="Tempe Fulfillment Warehouse",
        address="1700 W Broadway Rd, Tempe, AZ 85282",
    )
    placed = make_order(session, make_merchant(session), **(LABELLABLE | order))
    package = make_package(session, order=placed, origin=origin, service_date=service_date)
    for state in (PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED):
        transition_package(session, package, state, actor="planner")
    plan = Plan(
        station_id=station.id,
        service_date=service_date,
        seed=1,
        runtime_s=0.1,
        input_fingerprint="f" * 64,
        totals={},
        unassigned=[],
        decisions=[],
    )
    session.add(plan)
    session.flush()
    shipment = CarrierShipment(
        package_id=package.id, plan_id=plan.id, carrier="manual", service=service, rate_cents=2100
    )
    session.add(shipment)
    session.flush()
    return shipment
