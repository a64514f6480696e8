"""Small builders for the offer tests: the Chandler network, drivers with a car, open blocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import accounts
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.schemas import VehicleIn
from doorstep.models import Block, BlockStatus, Driver, Node, OfferMode
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES

PHOENIX = ZoneInfo("America/Phoenix")
TUESDAY = date(2026, 11, 24)
POLICY = OfferPolicy()


def at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    """A moment on the station's clock (Phoenix), as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PHOENIX).astimezone(UTC)


#: 07:00 in Phoenix on the Tuesday: the blocks of the tests start later that day.
NOW = at(7)


def network(session: Session) -> Node:
    """The Chandler example network; its station DCH1."""
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    return node(session, "DCH1")


def node(session: Session, code: str) -> Node:
    return session.scalars(select(Node).where(Node.code == code)).one()


def make_driver(
    session: Session,
    name: str = "Ada",
    *,
    litres: int = 1500,
    kg: int = 350,
    station: str = "DCH1",
) -> Driver:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return accounts.create_driver(
        session,
        name=name,
        email=email,
        station_code=station,
        vehicle=VehicleIn(description="Own car", cargo_litres=litres, payload_kg=kg),
        now=NOW,
        with_token=False,
    ).driver


def make_block(
    session: Session,
    station: Node,
    starts_at: datetime,
    hours: float = 3,
    *,
    mode: OfferMode = OfferMode.FIRST_COME,
    round_number: int = 1,
    closes_at: datetime | None = None,
    start: Node | None = None,
    **overrides: Any,
) -> Block:
    """An open block of the station, on offer as ``mode`` (a round closing at ``closes_at``)."""
    values: dict[str, Any] = {
        "start_node_id": (start or station).id,
        "station_id": station.id,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=hours),
        "pay_cents": round(2200 * hours),
        "estimated_distance_m": 64_374,  # 40 miles
        "stop_count": 20,
        "package_count": 30,
        "required_capacity_cm3": 300_000,
        "required_weight_g": 60_000,
        "offer_mode": mode,
        "offer_round": round_number,
        "round_closes_at": closes_at
        if closes_at is not None or mode is not OfferMode.ROUNDS
        else NOW + POLICY.round_length,
        "arrival_opens_at": starts_at - timedelta(minutes=5),
        "arrival_closes_at": starts_at,
        "status": BlockStatus.OPEN,
    }
    block = Block(**(values | overrides))
    session.add(block)
    session.flush()
    return block


def headers_for(session: Session, driver: Driver) -> dict[str, str]:
    """The app's bearer header for ``driver``."""
    token = accounts.issue_session(session, driver, now=NOW, page=False)
    return {"Authorization": f"Bearer {token}"}


def pin_clock(client: TestClient, moment: datetime) -> Callable[[datetime], None]:
    """Run the API at ``moment``; returns a setter to move its clock."""

    def set_clock(when: datetime) -> None:
        client.app.state.clock = lambda: when  # type: ignore[attr-defined]

    set_clock(moment)
    return set_clock
