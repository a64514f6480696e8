"""A phone that taps twice, or re-sends while its first request is still running, and the
station scanning back beside the driver: under real concurrency (a database of its own), each
parcel moves once and the block's last parcel completes it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import session_factory, unit_of_work
from doorstep.drivers.blocks import history
from doorstep.drivers.road import checkin, deliveries, returns, scans
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import (
    CheckInIn,
    DeliveryIn,
    ReturnScanIn,
    ScanIn,
    StationReturnIn,
)
from doorstep.geo import TravelModel
from doorstep.models import Block, BlockStatus, DeliveryProof, Driver, Node, PackageEvent
from doorstep.orders.lifecycle import PackageState
from tests.drivers.road import (
    PHOTO_KEY,
    Road,
    block_starting_at,
    delivery_stops,
    hand_over,
    new_driver,
    plan_day,
)
from tests.shop import local

TAPS = 8


@dataclass(frozen=True)
class OnTheRoad:
    sessions: sessionmaker[Session]
    driver_id: int
    block_id: int

    def all_at_once(self, count: int, act: Callable[[Session, Driver, int], Any]) -> list[Any]:
        """``act(session, driver, number)`` from ``count`` threads released together, each in
        a transaction of its own."""
        together = Barrier(count)

        def run(number: int) -> Any:
            together.wait()
            with unit_of_work(self.sessions) as session:
                return act(session, session.get_one(Driver, self.driver_id), number)

        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(run, range(count)))


def _checked_in(engine: Engine, prepare: Callable[[Road], None] | None = None) -> OnTheRoad:
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        plan_day(session)
        driver, token = new_driver(session)
        block = block_starting_at(session, "station")
        hand_over(session, block, driver)
        start = session.get_one(Node, block.start_node_id)
        checkin.check_in(
            session,
            driver,
            block.id,
            CheckInIn(lat=start.lat, lng=start.lng, at=local(10, 50)),
            now=local(10, 50),
            radius_m=300,
            travel=TravelModel(),
        )
        if prepare is not None:
            # No API here: the helper only uses the session, the driver and the block.
            road = Road(session, None, driver, token, block, lambda _: None)  # type: ignore[arg-type]
            for package in load_block(session, block).packages.values():
                scans.scan(
                    session,
                    driver,
                    block.id,
                    ScanIn(code=package.tracking_code, at=local(10, 55), client_event_id="s"),
                    now=local(10, 55),
                )
            prepare(road)
        return OnTheRoad(sessions, driver.id, block.id)


def _count(session: Session, to_state: PackageState) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(PackageEvent).where(PackageEvent.to_state == to_state)
        )
        or 0
    )


def test_concurrent_scans_of_one_parcel_pick_it_up_once(committed_engine: Engine) -> None:
    road = _checked_in(committed_engine)
    with unit_of_work(road.sessions) as session:
        block = session.get_one(Block, road.block_id)
        code = next(iter(load_block(session, block).packages.values())).tracking_code
        picked_before = _count(session, PackageState.PICKED_UP)

    def tap(session: Session, driver: Driver, number: int) -> bool:
        body = ScanIn(code=code, at=local(10, 55), client_event_id=f"tap-{number}")
        return scans.scan(session, driver, road.block_id, body, now=local(10, 55)).replayed

    assert Counter(road.all_at_once(TAPS, tap)) == {False: 1, True: TAPS - 1}
    with unit_of_work(road.sessions) as session:
        assert _count(session, PackageState.PICKED_UP) == picked_before + 1


def test_a_delivery_resent_while_it_runs_is_accepted_once(committed_engine: Engine) -> None:
    road = _checked_in(committed_engine, prepare=lambda _: None)
    with unit_of_work(road.sessions) as session:
        stop = delivery_stops(session, session.get_one(Block, road.block_id))[0]
        where = {"lat": stop.lat, "lng": stop.lng}

    def send(session: Session, driver: Driver, _: int) -> Any:
        body = DeliveryIn.model_validate(
            where | {"at": local(11, 19).isoformat(), "client_event_id": "door-1"}
        )
        return deliveries.deliver(
            session,
            driver,
            road.block_id,
            stop.id,
            body,
            photo_key=PHOTO_KEY,
            signature_key=None,
            now=local(11, 20),
            far_m=150,
            secret_key="k",
            travel=TravelModel(),
        )

    answers = road.all_at_once(TAPS, send)
    assert Counter(a.replayed for a in answers) == {False: 1, True: TAPS - 1}
    assert len({tuple(p.proof_id for p in a.proofs) for a in answers}) == 1
    with unit_of_work(road.sessions) as session:
        proofs = session.scalar(select(func.count()).select_from(DeliveryProof))
        assert proofs == len(answers[0].proofs)


def test_the_station_and_the_driver_scanning_back_together_complete_the_block(
    committed_engine: Engine,
) -> None:
    def every_door_fails(road: Road) -> None:
        for stop in delivery_stops(road.session, road.block):
            road.attempt(stop)

    road = _checked_in(committed_engine, prepare=every_door_fails)
    with unit_of_work(road.sessions) as session:
        block = session.get_one(Block, road.block_id)
        assert block.status is BlockStatus.RETURNING
        codes = sorted(p.tracking_code for p in load_block(session, block).with_the_driver())
        station = session.get_one(Node, block.start_node_id)
    assert len(codes) >= 2

    def scan_back(session: Session, driver: Driver, number: int) -> Any:
        code = codes[number]
        if number % 2:
            return returns.station_return(
                session, station.code, StationReturnIn(code=code), now=local(12), max_attempts=3
            )
        body = ReturnScanIn(
            code=code, lat=station.lat, lng=station.lng, at=local(12), client_event_id=code
        )
        return returns.scan_return(
            session, driver, road.block_id, body, now=local(12), radius_m=300, max_attempts=3
        )

    road.all_at_once(len(codes), scan_back)
    with unit_of_work(road.sessions) as session:
        moves = [e.to_status for e in history(session, road.block_id)]
        assert moves[-2:] == [BlockStatus.RETURNING, BlockStatus.COMPLETED]
        assert moves.count(BlockStatus.COMPLETED) == 1
