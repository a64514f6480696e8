"""Counter pick-up in the delivery preview: one option per nearby partner store that is open
and has room, next to the delivery speeds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Node, PartnerStoreClosedDay
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import SpeedUnavailable, place_order
from doorstep.promise import service
from doorstep.promise.schemas import OptionOut, PreviewIn, PreviewOut
from tests.factories import make_package
from tests.shop import DOWNTOWN_CHANDLER, NORTH_PHOENIX, QUEEN_CREEK, Shop, local, open_shop

KETTLE = [{"sku": "KETTLE-1", "quantity": 1}]


@pytest.fixture
def shop(session: Session) -> Shop:
    return open_shop(session)


def _preview(
    session: Session, shop: Shop, items: list[dict[str, Any]], where: dict[str, Any], now: datetime
) -> PreviewOut:
    request = PreviewIn.model_validate({"items": items, "destination": where})
    return service.create_preview(session, shop.merchant_id, request, now=now)


def _pickups(preview: PreviewOut) -> dict[str, OptionOut]:
    return {o.id: o for o in preview.options if o.kind == "pickup"}


def _node(session: Session, code: str) -> Node:
    return session.scalars(select(Node).where(Node.code == code)).one()


def test_nearest_two_stores_offer_their_counter_next_day(session: Session, shop: Shop) -> None:
    preview = _preview(session, shop, KETTLE, QUEEN_CREEK, local(9))
    pickups = _pickups(preview)
    # Queen Creek Blooms is 0.4 km away, the San Tan Valley Fuel Stop 7 km.
    assert list(pickups) == ["pickup:PS-QC-FLORIST", "pickup:PS-SANTAN-FUEL"]
    florist = pickups["pickup:PS-QC-FLORIST"]
    assert florist.speed.value == "next_day"
    assert florist.fee_cents == 0
    assert florist.channel.value == "partner_store"
    assert florist.promised_by == local(10, day=25)  # the store opens at 08:00; ready at 10
    assert florist.label == "Ready tomorrow from 10 am"
    assert florist.fulfilment[0].delivered_by == "PS-QC-FLORIST"
    store = florist.pickup
    assert store is not None
    assert store.name == "Queen Creek Blooms"
    assert store.address == "22407 S Ellsworth Rd, Queen Creek, AZ 85142"
    assert store.hours == "Mon-Sat 08:00-18:00"
    assert store.opening_hours["mon"] == ["08:00", "18:00"]
    assert "sun" not in store.opening_hours
    assert store.ready_by == florist.promised_by
    assert 300 < store.distance_m < 600
    # The delivery speeds are still there, with their old ids.
    assert {o.id for o in preview.options if o.kind == "delivery"} == {"next_day", "two_day"}


def test_no_store_in_reach_means_no_pickup(session: Session, shop: Shop) -> None:
    preview = _preview(session, shop, KETTLE, NORTH_PHOENIX, local(9))
    assert _pickups(preview) == {}


def test_a_store_shelf_does_not_ride_the_morning_run(session: Session, shop: Shop) -> None:
    preview = _preview(session, shop, [{"sku": "PAN-28", "quantity": 1}], QUEEN_CREEK, local(9))
    assert _pickups(preview) == {}


def test_a_closed_day_moves_the_pickup_to_the_next_open_day(session: Session, shop: Shop) -> None:
    # Saturday 28th: Queen Creek Blooms is closed on Sunday, so it keeps it from Monday.
    pickups = _pickups(_preview(session, shop, KETTLE, QUEEN_CREEK, local(9, day=28)))
    florist = pickups["pickup:PS-QC-FLORIST"]
    assert florist.speed.value == "two_day"
    assert florist.promised_by == local(10, day=30)
    assert florist.label == "Ready Mon 30 Nov from 10 am"
    assert pickups["pickup:PS-SANTAN-FUEL"].promised_by == local(10, day=29)

    # Closed on Monday too: nothing within two days at the florist.
    florist_node = _node(session, "PS-QC-FLORIST")
    session.add(PartnerStoreClosedDay(partner_store_id=florist_node.id, day=date(2026, 11, 30)))
    session.flush()
    session.expire_all()
    pickups = _pickups(_preview(session, shop, KETTLE, QUEEN_CREEK, local(9, day=28)))
    assert list(pickups) == ["pickup:PS-SANTAN-FUEL"]


def test_a_full_store_offers_no_counter(session: Session, shop: Shop) -> None:
    florist = _node(session, "PS-QC-FLORIST")
    florist.daily_capacity = 1
    for day in (25, 26):
        make_package(session, serving_node_id=florist.id, service_date=date(2026, 11, day))
    pickups = _pickups(_preview(session, shop, KETTLE, QUEEN_CREEK, local(9)))
    assert list(pickups) == ["pickup:PS-SANTAN-FUEL"]


def test_a_speed_asked_without_a_preview_is_never_a_pickup(session: Session, shop: Shop) -> None:
    # The station is full tomorrow, so next-day delivery downtown is refused; the Sun Lakes
    # café still has room at its counter. An order asking for next_day gets the refusal, not
    # the café's counter (a pick-up is chosen by its id, from a preview).
    station = _node(session, "DCH1")
    station.daily_capacity = 1
    make_package(session, serving_node_id=station.id, service_date=date(2026, 11, 25))
    preview = _preview(session, shop, KETTLE, DOWNTOWN_CHANDLER, local(9))
    assert "pickup:PS-SUNLAKES-CAFE" in _pickups(preview)
    assert "next_day" not in {o.id for o in preview.options}
    body = OrderIn.model_validate(
        {
            "items": KETTLE,
            "destination": DOWNTOWN_CHANDLER,
            "speed": "next_day",
            "recipient": {"name": "Dee Direct"},
        }
    )
    with pytest.raises(SpeedUnavailable):
        place_order(session, shop.merchant_id, body, idempotency_key=None, now=local(9))
