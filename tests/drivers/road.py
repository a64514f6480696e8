"""A small wave of the example network, planned, and a block handed to a driver: what the
tests of a block on the road start from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.drivers import accounts, offers
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import attempts, deliveries
from doorstep.drivers.road.load import BlockLoad, load_block
from doorstep.drivers.road_schemas import AttemptIn, DeliveryIn
from doorstep.drivers.schemas import VehicleIn
from doorstep.geo import TravelModel
from doorstep.models import Block, Driver, Node, OfferMode, Route, Stop, StopKind
from doorstep.network.service import import_network_file
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.conftest import EXAMPLES
from tests.shop import local

DAY = date(2026, 11, 24)
SECRET_KEY = "test-secret-key-for-pins-0123456789"
PHOTO_KEY = "pod/2026/11/24/photo.jpg"
CAR = VehicleIn(description="2019 Honda Fit", cargo_litres=1500, payload_kg=350)
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
TINY_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


# Blocks go on offer first come, so a driver takes one with a single accept.
OFFERS = OfferPolicy(mode=OfferMode.FIRST_COME)


def plan_day(session: Session, orders: int = 30) -> None:
    """The Chandler network, a morning of orders, and DCH1's wave planned and on offer (same
    seed, same blocks)."""
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=orders, order_time=local(9), console_password=None)
    plan_dch1(session)


def plan_dch1(session: Session) -> None:
    """DCH1's wave of the day planned (seed 1) and on offer first come."""
    plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(8, 2),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        offers=OFFERS,
        now=local(7),
    )


def new_driver(session: Session, email: str = "ada@example.com") -> tuple[Driver, str]:
    onboarded = accounts.create_driver(
        session, name="Ada", email=email, station_code="DCH1", vehicle=CAR, now=local(7)
    )
    assert onboarded.token is not None
    return onboarded.driver, onboarded.token


def hand_over(session: Session, block: Block, driver: Driver, at: datetime | None = None) -> None:
    """The driver takes the block through the offers: lists them and accepts this one."""
    at = at or local(8)
    [offer] = [
        view
        for view in offers.list_offers(session, driver, now=at, policy=OFFERS)
        if view.block_id == block.id
    ]
    offers.accept_offer(session, driver, offer.id, now=at, policy=OFFERS)
    session.refresh(block)
    assert block.driver_id == driver.id


def block_starting_at(session: Session, kind: str) -> Block:
    """The first block of the plan that starts at a node of ``kind`` (station or mall) and has
    stops of its own."""
    for block in session.scalars(select(Block).order_by(Block.id)):
        start = session.get_one(Node, block.start_node_id)
        if start.kind.value == kind:
            return block
    raise AssertionError(f"no block starts at a {kind}")


def delivery_stops(session: Session, block: Block) -> list[Stop]:
    route = session.scalars(select(Route).where(Route.block_id == block.id)).one()
    return list(
        session.scalars(
            select(Stop)
            .where(Stop.route_id == route.id, Stop.kind == StopKind.DELIVERY)
            .order_by(Stop.sequence)
        )
    )


@dataclass
class Road:
    """A driver with a block in hand, talking to the API at a chosen time."""

    session: Session
    client: TestClient
    driver: Driver
    token: str
    block: Block
    set_clock: Callable[[datetime], None]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def start(self) -> Node:
        return self.session.get_one(Node, self.block.start_node_id)

    def load(self) -> BlockLoad:
        """The block as the API left it (this session's copies are refreshed)."""
        self.session.expire_all()
        return load_block(self.session, self.block)

    def url(self, tail: str = "") -> str:
        return f"/v1/driver/blocks/{self.block.id}{tail}"

    def post(self, tail: str, json: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(self.url(tail), json=json, headers=self.headers, **kwargs)

    def check_in(self, at: datetime | None = None) -> Any:
        at = at or local(10, 50)
        self.set_clock(at)
        start = self.start
        return self.post(
            "/check-in",
            {"lat": start.lat + 0.001, "lng": start.lng, "accuracy_m": 8, "at": at.isoformat()},
        )

    def deliver(
        self,
        stop: Stop,
        *,
        photo_key: str | None = PHOTO_KEY,
        signature_key: str | None = None,
        now: datetime | None = None,
        **fields: Any,
    ) -> Any:
        """Deliver at ``stop`` through the service (the API's photo handling aside), standing
        at the address unless ``fields`` say otherwise."""
        now = now or local(11, 20)
        body = DeliveryIn.model_validate(
            {
                "lat": stop.lat,
                "lng": stop.lng,
                "accuracy_m": 5,
                "at": (now - timedelta(minutes=1)).isoformat(),
                "client_event_id": f"deliver-{stop.id}",
            }
            | fields
        )
        result = deliveries.deliver(
            self.session,
            self.driver,
            self.block.id,
            stop.id,
            body,
            photo_key=photo_key,
            signature_key=signature_key,
            now=now,
            far_m=150,
            secret_key=SECRET_KEY,
            travel=TravelModel(),
        )
        self.session.flush()
        return result

    def attempt(self, stop: Stop, *, now: datetime | None = None, **fields: Any) -> Any:
        now = now or local(11, 30)
        body = AttemptIn.model_validate(
            {
                "reason": "recipient_unavailable",
                "lat": stop.lat,
                "lng": stop.lng,
                "at": (now - timedelta(minutes=1)).isoformat(),
                "client_event_id": f"attempt-{stop.id}",
            }
            | fields
        )
        result = attempts.attempt(
            self.session,
            self.driver,
            self.block.id,
            stop.id,
            body,
            photo_key=None,
            now=now,
            max_attempts=3,
            travel=TravelModel(),
        )
        self.session.flush()
        return result

    def scan_all(self) -> list[str]:
        codes = sorted(p.tracking_code for p in self.load().packages.values())
        for number, code in enumerate(codes):
            answer = self.post(
                "/scans",
                {"code": code, "at": local(10, 55).isoformat(), "client_event_id": f"s{number}"},
            )
            assert answer.status_code == 200, answer.text
        return codes
