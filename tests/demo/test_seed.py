"""The demo day goes through the real services and can be run twice."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.models import InventoryLevel, Order, OrderLine, Package
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES
from tests.shop import local


def test_demo_orders_reserve_stock_and_a_rerun_adds_nothing(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    first = seed_demo_day(session, orders=40, order_time=local(9))
    assert first.orders + sum(first.refused.values()) == 40
    assert first.orders >= 35
    assert len(first.merchants) == 7
    assert {"store_pickup", "station_route"} <= set(first.packages_by_channel)
    ordered = session.scalar(select(func.sum(OrderLine.quantity)))
    assert session.scalar(select(func.sum(InventoryLevel.reserved))) == ordered

    again = seed_demo_day(session, orders=40, order_time=local(9))
    assert again.replayed == first.orders
    assert again.merchants == {}
    assert session.scalar(select(func.count()).select_from(Order)) == first.orders
    assert session.scalar(select(func.count()).select_from(Package)) == sum(
        first.packages_by_channel.values()
    )
