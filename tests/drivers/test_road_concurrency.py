"""A phone that taps twice, or re-sends while the first request is still running: under real
concurrency (a database of its own), a parcel is scanned once and the other taps replay."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import Engine, func, select

from doorstep.db import session_factory, unit_of_work
from doorstep.drivers.road import checkin, scans
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import CheckInIn, ScanIn
from doorstep.geo import TravelModel
from doorstep.models import Block, Driver, Node, PackageEvent
from doorstep.orders.lifecycle import PackageState
from tests.drivers.road import block_starting_at, hand_over, new_driver, plan_day
from tests.shop import local

TAPS = 8


def test_concurrent_scans_of_one_parcel_pick_it_up_once(committed_engine: Engine) -> None:
    factory = session_factory(committed_engine)
    with unit_of_work(factory) as session:
        plan_day(session)
        driver, _ = new_driver(session)
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
        package = next(iter(load_block(session, block).packages.values()))
        ids = (driver.id, block.id, package.id, package.tracking_code)
    driver_id, block_id, package_id, code = ids
    together = Barrier(TAPS)

    def tap(number: int) -> bool:
        together.wait()
        with unit_of_work(factory) as session:
            driver = session.get_one(Driver, driver_id)
            body = ScanIn(code=code, at=local(10, 55), client_event_id=f"tap-{number}")
            return scans.scan(session, driver, block_id, body, now=local(10, 55)).replayed

    with ThreadPoolExecutor(max_workers=TAPS) as pool:
        replays = Counter(pool.map(tap, range(TAPS)))

    assert replays == {False: 1, True: TAPS - 1}
    with unit_of_work(factory) as session:
        picked = session.scalar(
            select(func.count())
            .select_from(PackageEvent)
            .where(
                PackageEvent.package_id == package_id,
                PackageEvent.to_state == PackageState.PICKED_UP,
            )
        )
        assert picked == 1
        assert session.get_one(Block, block_id).status.value == "in_progress"
