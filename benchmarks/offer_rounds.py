"""How long closing a round takes: 1,000 drivers, 200 open blocks, on PostgreSQL.

Builds, in a throw-away database, the Chandler example network with 1,000 drivers at DCH1 (a
third with a weekly pattern and a dated exception, four weeks of driven blocks behind them
for their hours and standing, some forfeits) and 200 open blocks in round 1 whose round has
just closed. Each driver has an offer for every block (listing makes one per eligible open
block: 200,000 offers) and is interested in 10 of them. Then it closes the round
(`drivers.rounds.close_due_rounds`, what the worker runs) several times, each in a
transaction rolled back afterwards, and prints the time and the statements of each close.

    .venv/bin/python benchmarks/offer_rounds.py
    .venv/bin/python benchmarks/offer_rounds.py --drivers 2000 --blocks 400 --repeat 3

Not a test: it prints a table. The target is a close within 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.drivers import rounds
from doorstep.drivers.policy import OfferPolicy
from doorstep.migrate import upgrade
from doorstep.models import (
    AvailabilityException,
    Block,
    BlockStatus,
    Driver,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
    Vehicle,
    WeeklyAvailability,
)
from doorstep.network.service import import_network_file

ROOT = Path(__file__).resolve().parent.parent
NETWORK = ROOT / "examples" / "chandler-az" / "network.geojson"
PHOENIX = ZoneInfo("America/Phoenix")
DAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 7, 17, 30, tzinfo=PHOENIX).astimezone(UTC)
console = Console()


def build(engine: Engine, drivers: int, blocks: int, seed: int, offered: int) -> None:
    rng = random.Random(seed)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        import_network_file(session, NETWORK)
        station = session.scalars(select(Node).where(Node.code == "DCH1")).one()
        driver_ids = _drivers(session, station, drivers, rng)
        _history(session, station, driver_ids, rng)
        block_ids = [
            session.execute(
                insert(Block).values(_block(station, rng)).returning(Block.id)
            ).scalar_one()
            for _ in range(blocks)
        ]
        rows = []
        for driver_id in driver_ids:
            picked = rng.sample(block_ids, min(max(offered, 10), len(block_ids)))
            for n, block_id in enumerate(picked):
                interested = n < 10
                rows.append(
                    {
                        "block_id": block_id,
                        "driver_id": driver_id,
                        "status": OfferStatus.INTERESTED if interested else OfferStatus.OFFERED,
                        "offered_at": NOW - timedelta(minutes=29),
                        "expires_at": NOW + timedelta(hours=14),
                        "responded_at": NOW - timedelta(minutes=rng.randint(1, 29))
                        if interested
                        else None,
                        "round": 1 if interested else None,
                    }
                )
        session.execute(insert(Offer), rows)


def _drivers(session: Session, station: Node, count: int, rng: random.Random) -> list[int]:
    ids = []
    for n in range(count):
        patterned = n % 3 == 0
        driver_id = session.execute(
            insert(Driver)
            .values(
                name=f"Driver {n}",
                email=f"driver{n}@example.com",
                home_node_id=station.id,
                home_lat=station.lat,
                home_lng=station.lng,
                has_weekly_pattern=patterned,
            )
            .returning(Driver.id)
        ).scalar_one()
        ids.append(driver_id)
        session.add(
            Vehicle(
                driver_id=driver_id,
                description="Own car",
                capacity_cm3=rng.choice((600_000, 1_000_000, 1_500_000)),
                max_weight_g=300_000,
            )
        )
        if patterned:
            for weekday in range(7):
                session.add(
                    WeeklyAvailability(
                        driver_id=driver_id, weekday=weekday, start_minute=360, end_minute=1320
                    )
                )
            session.add(
                AvailabilityException(
                    driver_id=driver_id,
                    day=DAY + timedelta(days=rng.randint(-10, 3)),
                    available=False,
                    excused=rng.random() < 0.5,
                )
            )
    session.flush()
    return ids


def _history(session: Session, station: Node, driver_ids: list[int], rng: random.Random) -> None:
    """Four weeks of driven blocks (their hours and check-ins) and a few forfeits."""
    rows = []
    for driver_id in driver_ids:
        for _ in range(rng.randint(0, 8)):
            starts = NOW - timedelta(days=rng.randint(1, 27), hours=rng.randint(0, 10))
            rows.append(
                {
                    **_block(station, rng, starts),
                    "driver_id": driver_id,
                    "status": BlockStatus.COMPLETED,
                    "accepted_at": starts - timedelta(days=1),
                    "checked_in_at": starts + timedelta(minutes=rng.choice((-3, -1, 2, 6))),
                    "completed_at": starts + timedelta(hours=3),
                }
            )
    session.execute(insert(Block), rows)
    forfeited = session.scalars(select(Block.id).limit(len(driver_ids) // 10)).all()
    session.execute(
        insert(Offer),
        [
            {
                "block_id": block_id,
                "driver_id": rng.choice(driver_ids),
                "status": OfferStatus.FORFEITED,
                "offered_at": NOW - timedelta(days=5),
                "expires_at": NOW - timedelta(days=4),
                "responded_at": NOW - timedelta(days=rng.randint(1, 20)),
            }
            for block_id in forfeited
        ],
    )


def _block(station: Node, rng: random.Random, starts: datetime | None = None) -> dict[str, Any]:
    if starts is None:
        starts = datetime(DAY.year, DAY.month, DAY.day, rng.randint(7, 15), tzinfo=PHOENIX)
    hours = rng.choice((2, 3, 4, 5))
    return {
        "start_node_id": station.id,
        "station_id": station.id,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=hours),
        "pay_cents": 2200 * hours,
        "estimated_distance_m": 25_000 * hours,
        "stop_count": 12 * hours,
        "package_count": 16 * hours,
        "required_capacity_cm3": rng.choice((300_000, 500_000, 800_000)),
        "required_weight_g": 100_000,
        "offer_mode": OfferMode.ROUNDS,
        "offer_round": 1,
        "round_closes_at": NOW,
        "arrival_opens_at": starts - timedelta(minutes=5),
        "arrival_closes_at": starts,
    }


def close_once(engine: Engine) -> tuple[float, int, rounds.RoundsClosed]:
    """One close in a transaction rolled back afterwards: seconds, statements, outcome."""
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with engine.connect() as connection:
        transaction = connection.begin()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with Session(bind=connection, autoflush=False) as session:
                started = time.perf_counter()
                closed = rounds.close_due_rounds(session, now=NOW, policy=OfferPolicy())
                session.flush()
                seconds = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", count)
            transaction.rollback()
    return seconds, statements, closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server URL; a throw-away database is created on it",
    )
    parser.add_argument("--drivers", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--offered",
        type=int,
        default=200,
        help="offers per driver (listing makes one per eligible open block; 10 of them interested)",
    )
    args = parser.parse_args()
    admin_url = make_url(args.postgres)
    name = f"doorstep_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        with console.status(f"Building {args.drivers} drivers and {args.blocks} blocks…"):
            build(engine, args.drivers, args.blocks, args.seed, args.offered)
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        runs = [close_once(engine) for _ in range(args.repeat)]
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    table = Table(
        title=f"Closing a round on PostgreSQL: {args.drivers} drivers, {args.blocks} open "
        f"blocks, {args.offered} offers per driver, 10 of them interested"
    )
    for column in ("run", "seconds", "statements", "allocated", "next round", "first come"):
        table.add_column(column, justify="right")
    for n, (seconds, statements, closed) in enumerate(runs, start=1):
        table.add_row(
            str(n),
            f"{seconds:.3f}",
            str(statements),
            str(closed.allocated),
            str(closed.next_round),
            str(closed.first_come),
        )
    console.print(table)
    median = statistics.median(s for s, _, _ in runs)
    console.print(f"median {median:.3f} s, slowest {max(s for s, _, _ in runs):.3f} s (target 2 s)")


if __name__ == "__main__":
    main()
