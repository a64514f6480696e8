"""The delivery promise for a basket and an address, by speed, with reasons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Node, NodeKind, PartnerStoreClosedDay
from doorstep.promise import service
from doorstep.promise.schemas import OptionOut, PreviewIn, PreviewOut, UnavailableOut
from tests.factories import make_package
from tests.shop import DOWNTOWN_CHANDLER, NORTH_PHOENIX, QUEEN_CREEK, Shop, local, open_shop


@pytest.fixture
def shop(session: Session) -> Shop:
    return open_shop(session)


def _preview(
    session: Session,
    shop: Shop,
    items: list[dict[str, Any]],
    destination: dict[str, Any],
    now: datetime,
) -> PreviewOut:
    request = PreviewIn.model_validate({"items": items, "destination": destination})
    return service.create_preview(session, shop.merchant_id, request, now=now)


def _by_speed(preview: PreviewOut) -> tuple[dict[str, OptionOut], dict[str, UnavailableOut]]:
    return (
        {o.speed.value: o for o in preview.options if o.kind == "delivery"},
        {u.speed.value: u for u in preview.unavailable},
    )


def _node(session: Session, code: str) -> Node:
    return session.scalars(select(Node).where(Node.code == code)).one()


def test_morning_order_from_a_mall_store_gets_today_by_9pm(session: Session, shop: Shop) -> None:
    preview = _preview(
        session, shop, [{"sku": "PAN-28", "quantity": 1}], DOWNTOWN_CHANDLER, local(10)
    )
    options, unavailable = _by_speed(preview)
    assert set(options) == {"same_day", "next_day", "two_day"}
    assert unavailable == {}
    same_day = options["same_day"]
    assert same_day.promised_by == local(21)
    assert same_day.label == "Today by 9 pm"
    assert same_day.channel.value == "store_pickup"
    assert [f.node for f in same_day.fulfilment] == ["MCFC-KITCHEN"]
    assert options["next_day"].promised_by == local(21, day=25)
    assert preview.expires_at == local(10, 10)


def test_warehouse_stock_misses_same_day_after_the_station_cutoff(
    session: Session, shop: Shop
) -> None:
    before = _preview(
        session, shop, [{"sku": "KETTLE-1", "quantity": 1}], DOWNTOWN_CHANDLER, local(10, 59)
    )
    assert _by_speed(before)[0]["same_day"].channel.value == "station_route"
    after = _preview(
        session, shop, [{"sku": "KETTLE-1", "quantity": 1}], DOWNTOWN_CHANDLER, local(11, 0)
    )
    options, unavailable = _by_speed(after)
    assert unavailable["same_day"].reason == "past_cutoff"
    assert "11:00" in unavailable["same_day"].detail
    assert "next_day" in options


def test_mixed_basket_is_split_across_nodes(session: Session, shop: Shop) -> None:
    preview = _preview(
        session,
        shop,
        [{"sku": "PAN-28", "quantity": 2}, {"sku": "KETTLE-1", "quantity": 1}],
        DOWNTOWN_CHANDLER,
        local(9),
    )
    same_day = _by_speed(preview)[0]["same_day"]
    assert {f.node: f.channel.value for f in same_day.fulfilment} == {
        "MCFC-KITCHEN": "store_pickup",
        "WTE1": "station_route",
    }


def test_partner_store_radius_gives_next_day_but_not_same_day(session: Session, shop: Shop) -> None:
    preview = _preview(session, shop, [{"sku": "KETTLE-1", "quantity": 1}], QUEEN_CREEK, local(9))
    options, unavailable = _by_speed(preview)
    assert unavailable["same_day"].reason == "outside_service_area"
    assert options["next_day"].channel.value == "partner_store"
    # Queen Creek Blooms closes at 18:00.
    assert options["next_day"].promised_by == local(18, day=25)
    assert options["next_day"].label == "Tomorrow by 6 pm"


def test_closed_partner_store_is_skipped(session: Session, shop: Shop) -> None:
    # Saturday 28th: the next day is Sunday, when Queen Creek Blooms is closed, so the San Tan
    # Valley Fuel Stop (open daily until 22:00, 5 miles away) takes it.
    sunday = date(2026, 11, 29)
    preview = _preview(
        session, shop, [{"sku": "KETTLE-1", "quantity": 1}], QUEEN_CREEK, local(9, day=28)
    )
    next_day = _by_speed(preview)[0]["next_day"]
    assert next_day.fulfilment[0].delivered_by == "PS-SANTAN-FUEL"
    assert next_day.promised_by == local(22, day=29)

    fuel_stop = _node(session, "PS-SANTAN-FUEL")
    session.add(PartnerStoreClosedDay(partner_store_id=fuel_stop.id, day=sunday))
    session.flush()
    session.expire_all()
    preview = _preview(
        session, shop, [{"sku": "KETTLE-1", "quantity": 1}], QUEEN_CREEK, local(9, day=28)
    )
    options, unavailable = _by_speed(preview)
    assert unavailable["next_day"].reason == "partner_closed"
    assert options["two_day"].fulfilment[0].delivered_by == "PS-QC-FLORIST"
    assert options["two_day"].promised_by == local(18, day=30)


def test_store_stock_reaches_partner_areas_only_by_carrier(session: Session, shop: Shop) -> None:
    # The pan sits on a mall store's shelf: the station's morning run to the partner stores
    # does not carry it, so the partner store is not offered; two days by carrier is.
    preview = _preview(session, shop, [{"sku": "PAN-28", "quantity": 1}], QUEEN_CREEK, local(9))
    options, unavailable = _by_speed(preview)
    assert unavailable["next_day"].reason == "outside_service_area"
    assert "by carrier" in unavailable["next_day"].detail
    assert options["two_day"].channel.value == "carrier"
    assert options["two_day"].fulfilment[0].node == "MCFC-KITCHEN"


def test_outside_every_area(session: Session, shop: Shop) -> None:
    preview = _preview(session, shop, [{"sku": "PAN-28", "quantity": 1}], NORTH_PHOENIX, local(9))
    assert preview.options == []
    assert {u.reason for u in preview.unavailable} == {"outside_service_area"}


def test_out_of_stock_is_a_reason_not_an_error(session: Session, shop: Shop) -> None:
    preview = _preview(
        session, shop, [{"sku": "KETTLE-1", "quantity": 6}], DOWNTOWN_CHANDLER, local(9)
    )
    assert preview.options == []
    assert {u.reason for u in preview.unavailable} == {"out_of_stock"}
    assert "KETTLE-1" in preview.unavailable[0].detail


def test_full_station_has_no_same_day_and_two_day_falls_back_to_carrier(
    session: Session, shop: Shop
) -> None:
    station = _node(session, "DCH1")
    station.daily_capacity = 1
    for day in (24, 25, 26):
        make_package(session, serving_node_id=station.id, service_date=date(2026, 11, day))
    preview = _preview(
        session, shop, [{"sku": "PAN-28", "quantity": 1}], DOWNTOWN_CHANDLER, local(9)
    )
    options, unavailable = _by_speed(preview)
    assert unavailable["same_day"].reason == "no_capacity"
    assert unavailable["next_day"].reason == "no_capacity"
    assert options["two_day"].channel.value == "carrier"


def test_unknown_sku_and_oversized_basket_are_422_with_the_field(
    client: TestClient, session: Session, shop: Shop
) -> None:
    session.commit()
    body: dict[str, Any] = {
        "items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER,
    }
    unknown = client.post("/v1/delivery-previews", json=body, headers=shop.headers())
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_sku"
    assert unknown.json()["context"]["field"] == "items[1].sku"
    body["items"] = [{"sku": "ANVIL", "quantity": 1}]
    heavy = client.post("/v1/delivery-previews", json=body, headers=shop.headers())
    assert (heavy.status_code, heavy.json()["error"]) == (422, "basket_too_large")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"items": [{"sku": "PAN-28", "quantity": 0}], "destination": DOWNTOWN_CHANDLER},
            "body.items.0.quantity",
        ),
        (
            {
                "items": [{"sku": "PAN-28", "quantity": 1}],
                "destination": {"lat": 95, "lng": -111.8},
            },
            "body.destination.lat",
        ),
        (
            {
                "items": [{"sku": "PAN-28", "quantity": 1}],
                "destination": {"lat": "north", "lng": -111.8},
            },
            "body.destination.lat",
        ),
        ({"items": [], "destination": DOWNTOWN_CHANDLER}, "body.items"),
    ],
)
def test_malformed_previews_name_the_field(
    client: TestClient, session: Session, shop: Shop, body: dict[str, Any], field: str
) -> None:
    session.commit()
    response = client.post("/v1/delivery-previews", json=body, headers=shop.headers())
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_publishable_key_may_preview(client: TestClient, session: Session, shop: Shop) -> None:
    session.commit()
    client.app.state.clock = lambda: local(10)  # type: ignore[attr-defined]
    response = client.post(
        "/v1/delivery-previews",
        json={"items": [{"sku": "PAN-28", "quantity": 1}], "destination": DOWNTOWN_CHANDLER},
        headers=shop.headers(publishable=True),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("dp_")
    assert [o["id"] for o in body["options"]] == ["same_day", "next_day", "two_day"]
    assert body["options"][0]["label"] == "Today by 9 pm"


def test_the_merchant_owns_its_mall_store(session: Session, shop: Shop) -> None:
    store = _node(session, "MCFC-KITCHEN")
    assert store.kind is NodeKind.MALL_STORE
    assert store.merchant_id == shop.merchant_id
