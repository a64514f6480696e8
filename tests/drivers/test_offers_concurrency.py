"""Races on PostgreSQL: many drivers accepting at once, each in a transaction of its own.

SQLite lets one writer in at a time (``BEGIN IMMEDIATE``), so accepts there queue and cannot
race; these tests run on PostgreSQL only.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import create_db_engine, unit_of_work
from doorstep.drivers import offers
from doorstep.errors import DomainError
from doorstep.models import Block, BlockEvent, BlockStatus, Driver, Offer, OfferStatus
from tests.drivers.offer_factory import NOW, POLICY, at, make_block, make_driver, network

# Connections the racing transactions share: well under the server's max_connections, which
# other test runs may be using at the same time.
POOL = 16


@pytest.fixture
def sessions(committed_engine: Engine) -> Iterator[sessionmaker[Session]]:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: accepts queue and cannot race")
    engine = create_db_engine(
        committed_engine.url.render_as_string(hide_password=False), pool_size=POOL
    )
    yield sessionmaker(engine, expire_on_commit=False, autoflush=False)
    engine.dispose()


def _accept(sessions: sessionmaker[Session], driver_id: int, offer_id: int) -> str:
    """One driver's tap, in a transaction of its own: ``accepted`` or the refusal's code."""
    try:
        with unit_of_work(sessions) as session:
            driver = session.get_one(Driver, driver_id)
            offers.accept_offer(session, driver, offer_id, now=NOW, policy=POLICY)
        return "accepted"
    except DomainError as refused:
        return refused.code


def _race(sessions: sessionmaker[Session], taps: list[tuple[int, int]]) -> list[str]:
    """Every tap at once (as far as the pool lets them), each on its own thread."""
    start = threading.Barrier(len(taps))

    def tap(pair: tuple[int, int]) -> str:
        start.wait()
        return _accept(sessions, *pair)

    with ThreadPoolExecutor(max_workers=len(taps)) as pool:
        return list(pool.map(tap, taps))


def _in_turn(sessions: sessionmaker[Session], taps: list[tuple[int, int]]) -> list[str]:
    """The taps in their order, as many at a time as the pool has connections: neighbours in
    the list race each other."""
    with ThreadPoolExecutor(max_workers=POOL) as pool:
        return list(pool.map(lambda pair: _accept(sessions, *pair), taps))


def test_two_hundred_drivers_accepting_one_block_at_once_give_it_to_exactly_one(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as session:
        station = network(session)
        drivers = [make_driver(session, f"Driver {n}") for n in range(200)]
        block = make_block(session, station, at(10))
        taps = []
        for driver in drivers:
            [view] = offers.list_offers(session, driver, now=NOW, policy=POLICY)
            taps.append((driver.id, view.id))
        block_id = block.id

    results = Counter(_race(sessions, taps))
    assert results == {"accepted": 1, "block_already_taken": 199}
    with sessions() as session:
        block = session.get_one(Block, block_id)
        assert block.status is BlockStatus.ACCEPTED
        assert block.version == 2  # one UPDATE changed it
        # The losers' accepts were rolled back: their offers are as they were.
        statuses = Counter(session.scalars(select(Offer.status)))
        assert statuses == {OfferStatus.ACCEPTED: 1, OfferStatus.OFFERED: 199}
        winner = session.scalars(
            select(Offer.driver_id).where(Offer.status == OfferStatus.ACCEPTED)
        ).one()
        assert block.driver_id == winner
        events = session.scalars(select(BlockEvent).where(BlockEvent.block_id == block_id)).all()
        assert [(e.to_status, e.driver_id) for e in events] == [(BlockStatus.ACCEPTED, winner)]


def test_fifty_drivers_tapping_twenty_blocks_at_random_never_double_book(
    sessions: sessionmaker[Session],
) -> None:
    rng = random.Random(7)
    with unit_of_work(sessions) as session:
        station = network(session)
        drivers = [make_driver(session, f"Driver {n}") for n in range(50)]
        # Two-hour blocks every half hour: each overlaps the three before and after it.
        for n in range(20):
            make_block(session, station, at(9) + timedelta(minutes=30 * n), hours=2)
        mine = []
        for driver in drivers:
            views = offers.list_offers(session, driver, now=NOW, policy=POLICY)
            assert len(views) == 20
            mine.append([(driver.id, view.id) for view in rng.sample(views, 6)])
    # A driver's six taps side by side, so they race each other as well as other drivers'.
    rng.shuffle(mine)
    taps = [tap for driver_taps in mine for tap in driver_taps]

    results = Counter(_in_turn(sessions, taps))
    assert set(results) <= {"accepted", "block_already_taken", "overlapping_block"}
    with sessions() as session:
        blocks = session.scalars(select(Block).order_by(Block.starts_at)).all()
        taken = [b for b in blocks if b.driver_id is not None]
        assert results["accepted"] == len(taken) > 0
        # No block with two drivers: one accepted offer and one event per taken block.
        accepted = Counter(
            session.scalars(select(Offer.block_id).where(Offer.status == OfferStatus.ACCEPTED))
        )
        assert accepted == {b.id: 1 for b in taken}
        moves = session.execute(
            select(BlockEvent.block_id, func.count()).group_by(BlockEvent.block_id)
        ).all()
        assert dict(moves) == {b.id: 1 for b in taken}
        # No driver with overlapping blocks.
        by_driver: dict[int, list[Block]] = {}
        for block in taken:
            by_driver.setdefault(block.driver_id or 0, []).append(block)
        for held in by_driver.values():
            for earlier, later in pairwise(held):
                assert earlier.ends_at <= later.starts_at
