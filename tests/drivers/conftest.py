"""A driver with a block of a planned wave in hand (`tests.drivers.road`)."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.drivers.road import Road, block_starting_at, hand_over, new_driver, plan_day


@pytest.fixture
def planned(session: Session) -> None:
    plan_day(session)


def _road(session: Session, client: TestClient, kind: str) -> Road:
    driver, token = new_driver(session)
    block = block_starting_at(session, kind)
    hand_over(session, block, driver)

    def set_clock(at: datetime) -> None:
        client.app.state.clock = lambda: at  # type: ignore[attr-defined]

    return Road(session, client, driver, token, block, set_clock)


@pytest.fixture
def road(session: Session, client: TestClient, planned: None) -> Road:
    """A station block: every parcel is loaded at the start node."""
    return _road(session, client, "station")


@pytest.fixture
def mall_road(session: Session, client: TestClient, planned: None) -> Road:
    """A mall run: parcels are picked up at the mall's stores, stop by stop."""
    return _road(session, client, "mall")
