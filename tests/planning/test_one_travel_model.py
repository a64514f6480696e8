"""A promise, a plan and a block's itinerary give the same driving time for the same trip.

The trip: a mall store's pans driven to one address in downtown Chandler. The promise refuses
same day exactly when that drive is longer than its limit; the plan routes the store run; the
operator reads the block's itinerary back. All three must see one number, with the default
model and with a road router configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.geo import Router, RouterKind, TravelModel
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderIn
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from doorstep.promise import service as promise
from doorstep.promise.rules import PromisePolicy
from doorstep.promise.schemas import PreviewIn
from tests.geo.router_stub import osrm_router
from tests.shop import DOWNTOWN_CHANDLER, local, open_shop

DAY = date(2026, 11, 24)
BASKET = [{"sku": "PAN-28", "quantity": 1}]
ROUTER_TABLE = Path(__file__).parent.parent / "geo" / "data" / "osrm_table_chandler.json"


@pytest.fixture(params=["default model", "road router"])
def travel(request: pytest.FixtureRequest) -> Iterator[TravelModel]:
    if request.param == "default model":
        yield TravelModel()
        return
    with osrm_router(ROUTER_TABLE) as (url, table):
        yield TravelModel(router=Router(RouterKind.OSRM, url))
        assert table.requests > 0  # the router, not the straight line, answered


def _same_day_offered(session: Session, merchant_id: int, policy: PromisePolicy) -> bool:
    preview = promise.create_preview(
        session,
        merchant_id,
        PreviewIn.model_validate({"items": BASKET, "destination": DOWNTOWN_CHANDLER}),
        now=local(10),
        policy=policy,
    )
    return any(o.speed == "same_day" for o in preview.options)


def _itinerary_drive_s(client: TestClient, headers: dict[str, str], plan_id: int) -> int:
    """Seconds from leaving the store to arriving at the door, as the itinerary lists them."""
    plan = client.get(f"/v1/plans/{plan_id}", headers=headers).json()
    [block] = plan["blocks"]
    stops = client.get(f"/v1/plans/{plan_id}/blocks/{block['id']}", headers=headers).json()
    pickup, delivery = stops["itinerary"][0], stops["itinerary"][1]
    assert pickup["site"] == "MCFC-KITCHEN"
    assert delivery["kind"] == "delivery"
    service_s: int = pickup["service_s"]
    leaves = datetime.fromisoformat(pickup["planned_arrival_at"]).timestamp() + service_s
    arrives = datetime.fromisoformat(delivery["planned_arrival_at"]).timestamp()
    return round(arrives - leaves)


def test_promise_plan_and_itinerary_agree(
    session: Session,
    client: TestClient,
    operator_headers: dict[str, str],
    travel: TravelModel,
) -> None:
    shop = open_shop(session)
    policy = PromisePolicy(travel=travel)
    # Ten shoppers at one door: one stop, worth a block rather than ten couriers.
    for n in range(10):
        orders.place_order(
            session,
            shop.merchant_id,
            OrderIn.model_validate(
                {
                    "items": BASKET,
                    "destination": DOWNTOWN_CHANDLER,
                    "speed": "same_day",
                    "recipient": {"name": f"Shopper {n}"},
                }
            ),
            idempotency_key=f"agree-{n}",
            now=local(10),
            policy=policy,
        )
    run = plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(0, 1),
        time_limit_s=1,
        max_iterations=50,
        workers=1,
        travel=travel,
    )
    session.flush()

    planned = _itinerary_drive_s(client, operator_headers, run.plan.id)
    assert planned > 0
    # The promise allows exactly that drive, and not a second less.
    allowed = PromisePolicy(travel=travel, max_same_day_drive_s=planned)
    assert _same_day_offered(session, shop.merchant_id, allowed)
    refused = PromisePolicy(travel=travel, max_same_day_drive_s=planned - 1)
    assert not _same_day_offered(session, shop.merchant_id, refused)
