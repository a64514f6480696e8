"""Load benchmark of the driver app's API on PostgreSQL, over HTTP against a real server.

In a throw-away database on the server given by ``--postgres``:

* the offers of ``benchmarks/offer_rounds.py``: the Chandler network, 1,000 drivers at DCH1
  with four weeks of history, 200 open blocks in a round that has just closed, an offer for
  every block and driver, 10 interested offers each; the round is closed (rolled back) and
  timed;
* a day of demo orders planned at DCH1: its blocks handed to drivers of their own and checked
  in, so their parcels can be scanned and their doors delivered.

Then ``doorstep serve`` runs against that database (``--workers`` processes) and 16
concurrent drivers (``--clients``), each on one keep-alive connection:

* list their offers (``GET /v1/driver/offers``, 200 blocks each) for ``--seconds``;
* accept: the 200 blocks, now first come, each accepted by a driver of its own;
* scan: each driver scans the labels of their block, one after another;
* start deliveries: each driver taps it once their car is loaded, as the app asks;
* deliver: each driver records their doors, one after another, with a 30 KB photo;
* and one driver uploads 3 MB photos with a delivery, one at a time.

    .venv/bin/python benchmarks/driver_load.py
    .venv/bin/python benchmarks/driver_load.py --seconds 5 --orders 300   # a quicker run

By default each driver sends its next request the moment the last is answered: 16 requests
are always in flight, the server's saturation. ``--pace S`` has each driver act like a person
at a phone instead: the next tap comes S seconds (0.5–1.5 × S, at random) after the last one
began, so 16 drivers tapping once a second is ``--pace 1``. The table says which ran.

    .venv/bin/python benchmarks/driver_load.py --pace 1   # 16 drivers, a tap a second each

Not a test: it prints a Rich table (and writes benchmarks/results/driver_load.json). Targets:
a round closed in 2 s; p99 ≤ 100 ms for each phase; a 3 MB photo stored and acknowledged in
300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkout_load import (
    KeepAliveConnection,
    free_port,
    process_tree_cpu_seconds,
    start_server,
)
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.demo.seed import seed_demo_day
from doorstep.drivers import accounts, offers
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import checkin
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import CheckInIn
from doorstep.drivers.schemas import VehicleIn
from doorstep.geo import TravelModel
from doorstep.migrate import upgrade
from doorstep.models import (
    Block,
    BlockStatus,
    Driver,
    Node,
    Offer,
    OfferMode,
    StopKind,
    Vehicle,
)
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from offer_rounds import (
    PHOENIX,
    close_once,
)
from offer_rounds import build as build_offers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PLAN_DAY_LOCAL_HOUR = 7
ROAD_DAY = date(2026, 11, 24)  # the demo orders' day, planned at DCH1
FIRST_COME = OfferPolicy(mode=OfferMode.FIRST_COME)
WARM_UP_ROADS = 2  # blocks whose scans and a door warm the server before the measured phases
console = Console(width=150)


@dataclass
class Phase:
    name: str
    clients: int
    requests: int
    refused: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_request: float
    target: str
    # The five slowest answers: (ms, seconds into the phase, the connection's first request?).
    slowest: list[tuple[float, float, bool]]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Road:
    """A bench driver with a checked-in block: the codes to scan and the doors to deliver."""

    token: str
    block_id: int
    codes: list[str]
    doors: list[tuple[int, float, float]]  # stop id, lat, lng


# ---- Building -------------------------------------------------------------------------------


def build_roads(engine: Engine, orders: int, seed: int, block_count: int) -> list[Road]:
    """A day of demo orders planned at DCH1 on ``block_count`` blocks; each block handed to a driver
    of its own (first come) and checked in at its start."""
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        seed_demo_day(session, orders=orders, order_time=local(9), seed=seed, console_password=None)
        plan_wave(
            session,
            "DCH1",
            ROAD_DAY,
            drivers=DriverPlan(block_count, 0, capacity_cm3=50_000),
            time_limit_s=5,
            seed=seed,
            max_iterations=2000,
            workers=1,
            offers=FIRST_COME,
            now=local(PLAN_DAY_LOCAL_HOUR),
        )
        blocks = session.scalars(
            select(Block).where(Block.status == BlockStatus.OPEN, Block.package_count > 0)
        ).all()
        blocks = [b for b in blocks if b.offer_mode is OfferMode.FIRST_COME]
        roads = []
        for number, block in enumerate(blocks):
            onboarded = accounts.create_driver(
                session,
                name=f"Road driver {number}",
                email=f"road{number}@example.com",
                station_code="DCH1",
                vehicle=VehicleIn(description="Van", cargo_litres=5000, payload_kg=1000),
                now=local(PLAN_DAY_LOCAL_HOUR),
            )
            driver = onboarded.driver
            assert onboarded.token is not None
            [view] = [
                v
                for v in offers.list_offers(
                    session, driver, now=local(PLAN_DAY_LOCAL_HOUR), policy=FIRST_COME
                )
                if v.block_id == block.id
            ]
            offers.accept_offer(
                session, driver, view.id, now=local(PLAN_DAY_LOCAL_HOUR), policy=FIRST_COME
            )
            start = session.get_one(Node, block.start_node_id)
            at = block.arrival_opens_at or block.starts_at
            checkin.check_in(
                session,
                driver,
                block.id,
                CheckInIn(lat=start.lat, lng=start.lng, accuracy_m=5, at=at),
                now=at,
                radius_m=300,
                travel=TravelModel(),
            )
            load = load_block(session, block)
            doors = [
                (stop.id, stop.lat, stop.lng)
                for stop in load.stops
                if stop.kind is StopKind.DELIVERY and load.live.get(stop.id)
            ]
            codes = sorted(p.tracking_code for p in load.packages.values())
            roads.append(Road(onboarded.token, block.id, codes, doors))
    return roads


def accept_pairs(engine: Engine) -> list[tuple[str, int]]:
    """The 200 round blocks, now first come, each with a driver who may take it (no weekly
    pattern, the largest car) and that driver's offer; a token for each."""
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        blocks = session.scalars(
            select(Block.id)
            .where(Block.status == BlockStatus.OPEN, Block.offer_mode == OfferMode.ROUNDS)
            .order_by(Block.id)
        ).all()
        session.execute(
            update(Block)
            .where(Block.id.in_(blocks))
            .values(offer_mode=OfferMode.FIRST_COME, round_closes_at=None)
        )
        free = session.scalars(
            select(Driver.id)
            .join(Vehicle, Vehicle.driver_id == Driver.id)
            .where(Driver.has_weekly_pattern.is_(False), Vehicle.capacity_cm3 >= 1_500_000)
            .where(Driver.email.like("driver%"))
            .order_by(Driver.id)
        ).all()
        pairs = []
        for driver_id, block_id in zip(free, blocks, strict=False):
            offer_id = session.scalar(
                select(Offer.id).where(Offer.driver_id == driver_id, Offer.block_id == block_id)
            )
            if offer_id is None:
                continue
            driver = session.get_one(Driver, driver_id)
            token = accounts.issue_session(session, driver, now=_now(), page=False)
            pairs.append((token, offer_id))
    return pairs


def listing_tokens(engine: Engine, count: int, seed: int) -> list[str]:
    sessions = session_factory(engine)
    rng = random.Random(seed)
    with unit_of_work(sessions) as session:
        ids = session.scalars(select(Driver.id).where(Driver.email.like("driver%"))).all()
        chosen = rng.sample(list(ids), min(count, len(ids)))
        return [
            accounts.issue_session(session, session.get_one(Driver, i), now=_now(), page=False)
            for i in chosen
        ]


def _now() -> datetime:
    return datetime.now(UTC)


def local(hour: int, minute: int = 0) -> datetime:
    """A moment of the planned day on the station's clock (Phoenix), as UTC."""
    return datetime.combine(ROAD_DAY, dtime(hour, minute), tzinfo=PHOENIX).astimezone(UTC)


def jpeg(size: int, seed: int) -> bytes:
    """A JPEG of about ``size`` bytes: noise, which compresses as badly as a phone's photo."""
    rng = random.Random(seed)
    side = 64
    while True:
        noise = bytes(rng.getrandbits(8) for _ in range(side * side * 3))
        out = io.BytesIO()
        Image.frombytes("RGB", (side, side), noise).save(out, "JPEG", quality=92)
        if out.tell() >= size * 0.95:
            return out.getvalue()
        side = int(side * min(2.0, max(1.05, (size / max(out.tell(), 1)) ** 0.5)))


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="door.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---- Requests -------------------------------------------------------------------------------


async def send(
    connection: KeepAliveConnection,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    raw: tuple[bytes, str] | None = None,
) -> tuple[int, bytes]:
    """One request on a keep-alive connection: JSON (``body``) or raw bytes (``raw``)."""
    headers = {"Authorization": f"Bearer {token}"}
    if raw is None:
        return await connection.request(method, path, body if body is not None else {}, headers)
    data, content_type = raw
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    )
    connection.writer.write(head.encode() + data)
    status = int((await connection.reader.readline()).split()[1])
    length = 0
    while (line := await connection.reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await connection.reader.readexactly(length)


Work = Callable[[KeepAliveConnection, list[float], list[int]], Awaitable[None]]


async def run(name: str, base_url: str, workers: list[Work], server_pid: int, target: str) -> Phase:
    latencies: list[float] = []
    statuses: list[int] = []
    cpu_before = process_tree_cpu_seconds(server_pid)
    started = time.perf_counter()
    Trace.moments.clear()

    async def one(work: Work) -> None:
        connection = await KeepAliveConnection.open(base_url)
        try:
            await work(connection, latencies, statuses)
        finally:
            connection.close()

    await asyncio.gather(*(one(w) for w in workers))
    seconds = time.perf_counter() - started
    cpu = process_tree_cpu_seconds(server_pid) - cpu_before
    ms = sorted(x * 1000 for x in latencies)

    def pct(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))] if ms else 0.0

    return Phase(
        name=name,
        clients=len(workers),
        requests=len(ms),
        refused=sum(1 for s in statuses if s >= 300),
        seconds=seconds,
        p50_ms=statistics.median(ms) if ms else 0.0,
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        max_ms=ms[-1] if ms else 0.0,
        server_cpu_ms_per_request=1000 * cpu / max(1, len(ms)),
        target=target,
        slowest=[
            (round(1000 * took, 1), round(at - started, 2), first)
            for at, took, first in sorted(Trace.moments, key=lambda m: -m[1])[:5]
        ],
    )


class Pace:
    """A person's pace at the phone: each connection's next request waits until 0.5–1.5 ×
    ``seconds`` after its previous one began (the first after a random part of that), so the
    drivers do not tap in step. ``seconds`` 0: no wait, the next request at once."""

    seconds = 0.0
    _due: ClassVar[dict[int, float]] = {}
    _rng = random.Random(7)

    @classmethod
    async def wait(cls, connection: KeepAliveConnection) -> None:
        if cls.seconds <= 0:
            return
        now = time.perf_counter()
        due = cls._due.get(id(connection), now + cls._rng.uniform(0, cls.seconds))
        if due > now:
            await asyncio.sleep(due - now)
        cls._due[id(connection)] = time.perf_counter() + cls.seconds * cls._rng.uniform(0.5, 1.5)


class Trace:
    """When each answer came, so the slowest can be placed in their phase."""

    moments: ClassVar[list[tuple[float, float, bool]]] = []
    _answered: ClassVar[dict[KeepAliveConnection, int]] = {}

    @classmethod
    def first(cls, connection: KeepAliveConnection) -> bool:
        """Whether this was the connection's first answer (a fresh connection costs more)."""
        cls._answered[connection] = cls._answered.get(connection, 0) + 1
        return cls._answered[connection] == 1


async def timed(
    connection: KeepAliveConnection,
    latencies: list[float],
    statuses: list[int],
    *args: Any,
    **kwargs: Any,
) -> bytes:
    await Pace.wait(connection)
    started = time.perf_counter()
    status, payload = await send(connection, *args, **kwargs)
    latencies.append(time.perf_counter() - started)
    statuses.append(status)
    Trace.moments.append((started, latencies[-1], Trace.first(connection)))
    if status >= 300 and len([s for s in statuses if s >= 300]) <= 3:
        console.print(f"[yellow]{args[0]} {args[1]} → {status}: {payload[:200]!r}[/]")
    return payload


def lister(tokens: list[str], seconds: float, seed: int) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        rng = random.Random(seed)
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            await timed(c, lat, st, "GET", "/v1/driver/offers", rng.choice(tokens))

    return work


def warm_lister(tokens: list[str], queue: list[tuple[str, int]], seed: int) -> Work:
    """Two listings and one acceptance on a fresh connection."""

    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        rng = random.Random(seed)
        for _ in range(2):
            await timed(c, lat, st, "GET", "/v1/driver/offers", rng.choice(tokens))
        if queue:
            token, offer_id = queue.pop()
            await timed(c, lat, st, "POST", f"/v1/driver/offers/{offer_id}/accept", token)

    return work


def acceptor(queue: list[tuple[str, int]]) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        while queue:
            token, offer_id = queue.pop()
            await timed(c, lat, st, "POST", f"/v1/driver/offers/{offer_id}/accept", token)

    return work


def scanner(road: Road) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        for code in road.codes:
            body = {"code": code, "at": _now().isoformat(), "client_event_id": uuid.uuid4().hex}
            await timed(
                c, lat, st, "POST", f"/v1/driver/blocks/{road.block_id}/scans", road.token, body
            )

    return work


def departer(road: Road) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        body = {"at": _now().isoformat()}
        await timed(
            c, lat, st, "POST", f"/v1/driver/blocks/{road.block_id}/depart", road.token, body
        )

    return work


def deliverer(road: Road, doors: list[tuple[int, float, float]], photo: bytes) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        for stop_id, stop_lat, stop_lng in doors:
            form = {
                "lat": str(stop_lat),
                "lng": str(stop_lng),
                "accuracy_m": "5",
                "at": _now().isoformat(),
                "client_event_id": uuid.uuid4().hex,
            }
            await timed(
                c,
                lat,
                st,
                "POST",
                f"/v1/driver/blocks/{road.block_id}/stops/{stop_id}/deliver",
                road.token,
                raw=multipart(form, photo),
            )

    return work


# ---- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server URL; a throw-away database is created on it",
    )
    parser.add_argument("--drivers", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--orders", type=int, default=600, help="demo orders for the road")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="length of the listing phase")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--photos", type=int, default=10, help="3 MB uploads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="seconds between one driver's taps (0: back to back, the server's saturation)",
    )
    args = parser.parse_args()
    Pace.seconds = args.pace

    admin_url = make_url(args.postgres)
    name = f"doorstep_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    data_dir = tempfile.mkdtemp(prefix="doorstep-bench-")
    server = None
    phases: list[Phase] = []
    load = 0.0
    try:
        upgrade(engine)
        with console.status(f"Building {args.drivers} drivers and {args.blocks} blocks…"):
            build_offers(engine, args.drivers, args.blocks, args.seed, args.blocks)
        with console.status(f"Planning {args.orders} demo orders at DCH1…"):
            roads = build_roads(engine, args.orders, args.seed, args.clients + WARM_UP_ROADS)
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        closes = [close_once(engine) for _ in range(3)]
        tokens = listing_tokens(engine, 200, args.seed)
        pairs = accept_pairs(engine)
        console.print(
            f"{len(roads)} road blocks ({sum(len(r.codes) for r in roads)} parcels, "
            f"{sum(len(r.doors) for r in roads)} doors); {len(pairs)} blocks to accept"
        )

        os.environ["DOORSTEP_DATA_DIR"] = data_dir
        port = free_port()
        server = start_server(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        small, big = jpeg(30_000, 1), jpeg(3_000_000, 2)
        # The 3 MB uploads take the last door of as many blocks; the rest are delivered.
        measured, warming = roads[: args.clients], roads[args.clients :]
        uploads = [(road, road.doors[-1]) for road in measured if len(road.doors) > 1][
            : args.photos
        ]
        saved = {id(road) for road, _ in uploads}
        clients = args.clients

        async def phases_run() -> None:
            # A server process compiles each statement on its first use and opens its pool's
            # connections as the load grows: those first answers are a fresh server's, reported
            # on their own row, not the steady state the targets are about.
            queue = list(pairs)
            phases.append(
                await run(
                    "warm-up: every kind of request once",
                    base,
                    [warm_lister(tokens, queue, n) for n in range(clients)]
                    + [
                        _one_after_another(
                            [scanner(road), departer(road), deliverer(road, road.doors[:1], small)]
                        )
                        for road in warming
                    ],
                    server.pid,
                    "(a fresh server's first answers)",
                )
            )
            phases.append(
                await run(
                    "list offers, one driver alone",
                    base,
                    [lister(tokens, min(args.seconds, 5), 99)],
                    server.pid,
                    "(the request by itself)",
                )
            )
            phases.append(
                await run(
                    "list offers (200 blocks)",
                    base,
                    [lister(tokens, args.seconds, n) for n in range(clients)],
                    server.pid,
                    "p99 ≤ 100 ms",
                )
            )
            phases.append(
                await run(
                    "accept (first come)",
                    base,
                    [acceptor(queue) for _ in range(clients)],
                    server.pid,
                    "p99 ≤ 100 ms",
                )
            )
            phases.append(
                await run(
                    "scan a label",
                    base,
                    [scanner(road) for road in measured],
                    server.pid,
                    "p99 ≤ 100 ms",
                )
            )
            # The app's "Start deliveries" once the car is loaded: every parcel of the block
            # goes out for delivery (and its shopper is told), once per block.
            phases.append(
                await run(
                    "start deliveries (a block's parcels)",
                    base,
                    [departer(road) for road in measured],
                    server.pid,
                    "(once per block)",
                )
            )
            phases.append(
                await run(
                    "deliver a door (30 KB photo)",
                    base,
                    [
                        deliverer(road, road.doors[:-1] if id(road) in saved else road.doors, small)
                        for road in measured
                    ],
                    server.pid,
                    "p99 ≤ 100 ms",
                )
            )
            phases.append(
                await run(
                    "deliver with a 3 MB photo",
                    base,
                    [_one_after_another([deliverer(road, [door], big) for road, door in uploads])],
                    server.pid,
                    "≤ 300 ms",
                )
            )

        load = os.getloadavg()[0]  # other people's work when the requests began
        asyncio.run(phases_run())
        stored = sum(1 for _ in Path(data_dir, "blobs").rglob("*") if _.is_file())
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        engine.dispose()
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    close_table = Table(title="Closing a round: 1,000 drivers, 200 open blocks (rolled back)")
    for column in ("run", "seconds", "statements", "allocated", "target"):
        close_table.add_column(column, justify="right")
    for n, (seconds, statements, closed) in enumerate(closes, start=1):
        close_table.add_row(
            str(n), f"{seconds:.3f}", str(statements), str(closed.allocated), "≤ 2 s"
        )
    console.print(close_table)

    table = Table(
        title=f"Driver API over HTTP on PostgreSQL, {args.workers} server workers, "
        + (
            f"each driver tapping every {args.pace:g} s (0.5–1.5 ×)"
            if args.pace > 0
            else "each driver's next request at once (saturation)"
        )
        + f"; load average {load:.1f} at the start"
    )
    for column in (
        "phase",
        "clients",
        "requests",
        "refused",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "server CPU ms/req",
        "target",
    ):
        table.add_column(column, justify="left" if column in ("phase", "target") else "right")
    for p in phases:
        table.add_row(
            p.name,
            str(p.clients),
            str(p.requests),
            str(p.refused),
            f"{p.per_second:.0f}",
            f"{p.p50_ms:.1f}",
            f"{p.p95_ms:.1f}",
            f"{p.p99_ms:.1f}",
            f"{p.max_ms:.1f}",
            f"{p.server_cpu_ms_per_request:.1f}",
            p.target,
        )
    console.print(table)
    for p in phases:
        console.print(
            f"{p.name}: slowest "
            + ", ".join(
                f"{ms:.0f} ms at {at:.1f} s{' (first)' if first else ''}"
                for ms, at, first in p.slowest
            )
        )
    console.print(f"{stored} photos in the blob store")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "driver_load.json").write_text(
        json.dumps(
            {
                "round_close_s": [round(s, 3) for s, _, _ in closes],
                "phases": [asdict(p) for p in phases],
                "pace_s": args.pace,
                "load": os.getloadavg(),
            },
            indent=2,
        )
    )


def _one_after_another(works: list[Work]) -> Work:
    async def work(c: KeepAliveConnection, lat: list[float], st: list[int]) -> None:
        for each in works:
            await each(c, lat, st)

    return work


if __name__ == "__main__":
    main()
