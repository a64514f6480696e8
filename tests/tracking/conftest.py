"""A planned day with a driver on the road (the drivers' own fixtures), seen by shoppers."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Block, Node, NodeKind, Package, Stop, StopPackage
from doorstep.settings import Settings
from tests.drivers.road import Road, delivery_stops, hand_over, new_driver, plan_day
from tests.shop import local


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every page rendered afresh: these tests change the data under the app's feet, in a
    transaction no outbox reader would see."""
    return settings.model_copy(update={"tracking_page_cache_seconds": 0})


@pytest.fixture
def planned(session: Session) -> None:
    """A busier morning than the drivers' tests plan: blocks with several doors."""
    plan_day(session, orders=120)


@pytest.fixture
def road(session: Session, client: TestClient, planned: None) -> Road:
    """The station block of the plan with the most doors, in a driver's hands."""
    block = busiest_block(session)
    driver, token = new_driver(session)
    hand_over(session, block, driver)

    def set_clock(at: datetime) -> None:
        client.app.state.clock = lambda: at  # type: ignore[attr-defined]

    return Road(session, client, driver, token, block, set_clock)


@pytest.fixture
def loaded(road: Road) -> Road:
    """Checked in, every parcel scanned: the doors are next."""
    assert road.check_in().status_code == 200
    road.scan_all()
    road.set_clock(local(11, 0))
    return road


def parcels_at(session: Session, stop: Stop) -> list[Package]:
    return list(
        session.scalars(
            select(Package)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .where(StopPackage.stop_id == stop.id)
            .order_by(Package.id)
        )
    )


def busiest_block(session: Session) -> Block:
    """The station block of the plan with the most doors."""
    blocks = [
        b
        for b in session.scalars(select(Block).order_by(Block.id))
        if session.get_one(Node, b.start_node_id).kind is NodeKind.STATION
    ]
    return max(blocks, key=lambda b: len(delivery_stops(session, b)))
