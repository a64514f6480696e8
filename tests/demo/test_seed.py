"""The demo day goes through the real services and can be run twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.geo import postal_codes
from doorstep.models import InventoryLevel, Order, OrderLine, Package
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES
from tests.shop import local

CHANDLER_ZIPS = {"85224", "85225", "85226", "85248", "85249", "85286"}


def test_demo_orders_reserve_stock_and_a_rerun_adds_nothing(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    first = seed_demo_day(session, orders=40, order_time=local(9))
    assert first.orders + sum(first.refused.values()) == 40
    assert first.orders >= 35
    assert len(first.merchants) == 7
    assert {"store_pickup", "station_route"} <= set(first.packages_by_channel)
    ordered = session.scalar(select(func.sum(OrderLine.quantity)))
    assert session.scalar(select(func.sum(InventoryLevel.reserved))) == ordered
    # Every order has an address a carrier can label; Chandler is the most common city.
    orders = list(session.scalars(select(Order)))
    assert all(o.has_structured_address and o.dest_state == "AZ" for o in orders)
    assert {o.dest_postal_code for o in orders} <= set(postal_codes.table())
    [(city, _)] = Counter(o.dest_city for o in orders).most_common(1)
    assert city == "Chandler"
    chandler = {o.dest_postal_code for o in orders if o.dest_city == "Chandler"}
    assert chandler <= CHANDLER_ZIPS
    assert any(o.dest_address_line2 for o in orders)

    again = seed_demo_day(session, orders=40, order_time=local(9))
    assert again.replayed == first.orders
    assert again.merchants == {}
    assert session.scalar(select(func.count()).select_from(Order)) == first.orders
    assert session.scalar(select(func.count()).select_from(Package)) == sum(
        first.packages_by_channel.values()
    )
