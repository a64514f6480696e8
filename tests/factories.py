"""Small functions that build valid rows for tests; override only what a test is about."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from doorstep.models import DeliverySpeed, Merchant, Node, NodeKind, Order, Package
from doorstep.orders.transitions import record_package_created


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
