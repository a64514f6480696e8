"""A scale benchmark's network sized to its day: the stations' capacities and the stock
scaled, the partner stores' kept (one clerk's day)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import InventoryLevel, Node, NodeKind
from doorstep.twin.repository import scale_capacity, station_capacity
from doorstep.twin.service import prepare


def test_stations_capacities_and_stock_grow_by_the_factor(session: Session) -> None:
    prepare(session)
    capacities = dict(session.execute(select(Node.code, Node.daily_capacity)).all())
    stations = set(session.scalars(select(Node.code).where(Node.kind == NodeKind.STATION)))
    stock = {
        (row.product_id, row.node_id): row.on_hand
        for row in session.scalars(select(InventoryLevel))
    }
    assert any(capacities.values())
    assert any(stock.values())
    assert station_capacity(session) == sum(capacities[code] or 0 for code in stations)
    scale_capacity(session, 4)
    session.expire_all()
    assert dict(session.execute(select(Node.code, Node.daily_capacity)).all()) == {
        code: capacity * 4 if code in stations and capacity is not None else capacity
        for code, capacity in capacities.items()
    }
    assert {
        (row.product_id, row.node_id): row.on_hand
        for row in session.scalars(select(InventoryLevel))
    } == {key: on_hand * 4 for key, on_hand in stock.items()}
    assert station_capacity(session) == 4 * sum(capacities[code] or 0 for code in stations)
