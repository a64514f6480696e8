"""Load benchmark of the shopper's tracking page, against a real uvicorn server process.

1. **Pages**: 16 shoppers at once, each loading tracking pages of a planned day's parcels
   (``GET /track/{token}``) one after another; the figure is the p99 latency. Target: <= 50 ms.
2. **Live pushes**: 2,000 tracking pages held open by server-sent events on that one server
   process, spread over the parcels of one driver's block; the driver then does doors (the
   drivers' delivery service, committed in this process), and each open page's time from
   the commit to its pushed update is measured. Target: p99 <= 1 s.

The server reads new outbox events once per ``DOORSTEP_TRACKING_PUSH_POLL_MS`` (250 ms) for all
its open pages and pushes each page its state (doorstep.tracking.push).

    .venv/bin/python benchmarks/tracking_load.py                     # SQLite
    .venv/bin/python benchmarks/tracking_load.py --streams 500 --requests 1000  # quicker
    .venv/bin/python benchmarks/tracking_load.py --pace 1 --requests 800  # a load a second each

``--pace S``: each shopper loads the next page 0.5–1.5 × S seconds after the last began, as a
person does; without it each loads the next at once (16 requests always in flight).
    .venv/bin/python benchmarks/tracking_load.py --database-url URL  # an empty database

Not a test: it prints a table and writes benchmarks/results/tracking_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.drivers.road import (  # noqa: E402
    delivery_stops,
    hand_over,
    new_driver,
    plan_day,
)
from tests.tracking.conftest import busiest_block, parcels_at  # noqa: E402

from doorstep.db import create_db_engine, session_factory  # noqa: E402
from doorstep.drivers.road import deliveries  # noqa: E402
from doorstep.drivers.road_schemas import DeliveryIn  # noqa: E402
from doorstep.geo import TravelModel  # noqa: E402
from doorstep.migrate import upgrade  # noqa: E402
from doorstep.models import Block, Driver, Node, Package, utcnow  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
console = Console()
SECRET_KEY = "benchmark-secret-key-0123456789abcdef"


@dataclass
class Result:
    database: str
    page_requests: int
    page_concurrency: int
    page_p50_ms: float
    page_p95_ms: float
    page_p99_ms: float
    pages_per_second: float
    streams_open: int
    stream_parcels: int
    doors: int
    pushes_received: int
    push_p50_ms: float
    push_p99_ms: float
    push_max_ms: float
    poll_ms: int
    page_cache_seconds: float
    pace_s: float
    load_average: float  # other people's work when the page loads began


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(url: str) -> tuple[list[str], list[str], int, str]:
    """A planned morning, a driver with the station block of most doors: every parcel's
    token, the block's parcels' tokens, the block id and the driver's API token."""
    engine = create_db_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        plan_day(session, orders=150)
        block = busiest_block(session)
        driver, token = new_driver(session)
        hand_over(session, block, driver)
        everyone = list(session.scalars(select(Package.tracking_token)))
        on_block = [
            p.tracking_token for s in delivery_stops(session, block) for p in parcels_at(session, s)
        ]
        block_id = block.id
        session.commit()
    engine.dispose()
    return everyone, on_block, block_id, token


def start_server(url: str, port: int, poll_ms: int, cache_s: float) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DOORSTEP_DATABASE_URL": url,
        "DOORSTEP_ENVIRONMENT": "development",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "DOORSTEP_TRACKING_PUSH_POLL_MS": str(poll_ms),
        "DOORSTEP_TRACKING_PAGE_CACHE_SECONDS": str(cache_s),
        "DOORSTEP_RATE_LIMIT": "",  # one client address makes every call here
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "doorstep.api.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


class Connection:
    """A keep-alive HTTP/1.1 connection reading whole answers (Content-Length): a client
    light enough not to eat the CPU the server is measured on."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def pages(
    port: int, tokens: list[str], requests: int, concurrency: int, pace: float = 0.0
) -> list[float]:
    """Each shopper loads pages one after another: at once (``pace`` 0, the server's
    saturation), or as a person would, the next 0.5–1.5 × ``pace`` seconds after the last."""
    latencies: list[float] = []
    rng = random.Random(1)
    waits = random.Random(2)
    todo = [rng.choice(tokens) for _ in range(requests)]
    connections = [Connection(port) for _ in range(concurrency)]
    for connection, token in zip(connections, todo, strict=False):  # warm up
        await connection.get(f"/track/{token}")

    async def shopper(connection: Connection, mine: list[str]) -> None:
        if pace > 0:
            await asyncio.sleep(waits.uniform(0, pace))
        for token in mine:
            started = time.perf_counter()
            status = await connection.get(f"/track/{token}")
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
            if pace > 0:
                await asyncio.sleep(
                    max(0.0, started + pace * waits.uniform(0.5, 1.5) - time.perf_counter())
                )

    await asyncio.gather(*(shopper(c, todo[i::concurrency]) for i, c in enumerate(connections)))
    for connection in connections:
        connection.close()
    return latencies


class Stream:
    """One open tracking page: a raw HTTP/1.1 connection reading ``event: view`` frames."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.events: list[float] = []

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(
            f"GET /track/{self.token}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n", 1)[0], head[:100]

    async def listen(self) -> None:
        assert self.reader is not None
        while True:
            chunk = await self.reader.read(65536)
            if not chunk:
                return
            if b"event: view" in chunk:
                self.events.append(time.perf_counter())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def deliver(url: str, block_id: int, index: int, now: datetime) -> float:
    """Do the block's ``index``-th door with the drivers' service; the commit's time."""
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    with sessions() as session:
        block = session.get_one(Block, block_id)
        driver = session.get_one(Driver, block.driver_id)
        stop = delivery_stops(session, block)[index]
        body = DeliveryIn.model_validate(
            {
                "lat": stop.lat,
                "lng": stop.lng,
                "accuracy_m": 5,
                "at": now.isoformat(),
                "client_event_id": f"bench-{stop.id}",
            }
        )
        deliveries.deliver(
            session,
            driver,
            block_id,
            stop.id,
            body,
            photo_key="pod/bench/photo.jpg",
            signature_key=None,
            now=now,
            far_m=150,
            secret_key=SECRET_KEY,
            travel=TravelModel(),
        )
        session.commit()
        committed = time.perf_counter()
    engine.dispose()
    return committed


async def live(
    url: str, port: int, tokens: list[str], streams: int, block_id: int, doors: int
) -> tuple[list[float], int]:
    opened: list[Stream] = []
    for i in range(streams):
        stream = Stream(tokens[i % len(tokens)])
        await stream.open(port)
        opened.append(stream)
        if i % 250 == 249:
            console.print(f"  {i + 1:,} pages open")
    listeners = [asyncio.create_task(s.listen()) for s in opened]
    await asyncio.sleep(2)  # every first page in
    latencies: list[float] = []
    now = utcnow()
    for door in range(doors):
        before = [len(s.events) for s in opened]
        committed = await asyncio.to_thread(
            deliver, url, block_id, door, now + timedelta(minutes=10 * (door + 1))
        )
        await asyncio.sleep(3)
        for stream, seen in zip(opened, before, strict=True):
            fresh = [t for t in stream.events[seen:] if t >= committed]
            if fresh:
                latencies.append((fresh[0] - committed) * 1000)
        updated = sum(len(s.events) > b for s, b in zip(opened, before, strict=True))
        console.print(f"  door {door + 1}: {updated:,} of {len(opened):,} pages updated")
    for task in listeners:
        task.cancel()
    for stream in opened:
        stream.close()
    return latencies, len(opened)


def check_in_and_scan(base: str, block_id: int, token: str, url: str) -> None:
    engine = create_db_engine(url)
    with Session(engine) as session:
        block = session.get_one(Block, block_id)
        start = session.get_one(Node, block.start_node_id)
        codes = sorted(
            p.tracking_code for s in delivery_stops(session, block) for p in parcels_at(session, s)
        )
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        now = utcnow()
        answer = client.post(
            f"/v1/driver/blocks/{block_id}/check-in",
            json={
                "lat": start.lat + 0.001,
                "lng": start.lng,
                "accuracy_m": 8,
                "at": now.isoformat(),
            },
        )
        if answer.status_code != 200:
            raise SystemExit(f"check-in refused: {answer.text}")
        for number, code in enumerate(codes):
            answer = client.post(
                f"/v1/driver/blocks/{block_id}/scans",
                json={"code": code, "at": now.isoformat(), "client_event_id": f"s{number}"},
            )
            if answer.status_code != 200:
                raise SystemExit(f"scan refused: {answer.text}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(url: str, args: argparse.Namespace) -> Result:
    console.print("planning a morning of 150 orders…")
    everyone, on_block, block_id, token = prepare(url)
    port = free_port()
    server = start_server(url, port, args.poll_ms, args.page_cache_seconds)
    base = f"http://127.0.0.1:{port}"
    try:
        console.print(f"{args.concurrency} shoppers, {args.requests:,} page loads…")
        latencies = []
        started = time.perf_counter()
        load = os.getloadavg()[0]
        latencies = asyncio.run(pages(port, everyone, args.requests, args.concurrency, args.pace))
        elapsed = time.perf_counter() - started
        console.print("the driver checks in and scans…")
        # The clock is the real one: the block is checked in now, whatever its planned hour.
        check_in_and_scan(base, block_id, token, url)
        console.print(f"{args.streams:,} pages held open on {len(on_block)} parcels…")
        pushes, opened = asyncio.run(live(url, port, on_block, args.streams, block_id, args.doors))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Result(
        database=url.split(":", 1)[0],
        page_requests=len(latencies),
        page_concurrency=args.concurrency,
        page_p50_ms=round(statistics.median(latencies), 1),
        page_p95_ms=round(pct(latencies, 0.95), 1),
        page_p99_ms=round(pct(latencies, 0.99), 1),
        pages_per_second=round(len(latencies) / elapsed, 1),
        streams_open=opened,
        stream_parcels=len(on_block),
        doors=args.doors,
        pushes_received=len(pushes),
        push_p50_ms=round(pct(pushes, 0.5), 1),
        push_p99_ms=round(pct(pushes, 0.99), 1),
        push_max_ms=round(max(pushes, default=float("nan")), 1),
        poll_ms=args.poll_ms,
        page_cache_seconds=args.page_cache_seconds,
        pace_s=args.pace,
        load_average=round(load, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--doors", type=int, default=3)
    parser.add_argument("--poll-ms", type=int, default=250)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="seconds between one shopper's page loads (0: back to back, the saturation)",
    )
    parser.add_argument("--database-url", help="an empty database (PostgreSQL); default SQLite")
    parser.add_argument(
        "--page-cache-seconds",
        type=float,
        default=15.0,
        help="DOORSTEP_TRACKING_PAGE_CACHE_SECONDS of the server (0: render every page)",
    )
    args = parser.parse_args()
    if args.database_url:
        result = run(args.database_url, args)
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args)
    table = Table(
        title=f"Tracking page ({result.database}, one uvicorn process, page cache "
        f"{result.page_cache_seconds:g} s)"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row(
        f"page p50 / p95 / p99 at {result.page_concurrency} shoppers, "
        + (f"a load every {result.pace_s:g} s each" if result.pace_s else "back to back"),
        f"{result.page_p50_ms} / {result.page_p95_ms} / {result.page_p99_ms} ms",
        "p99 <= 50 ms",
    )
    table.add_row("pages per second", f"{result.pages_per_second:,.0f}", "")
    table.add_row(
        "pages open (server-sent events)",
        f"{result.streams_open:,} on {result.stream_parcels} parcels",
        "2,000",
    )
    table.add_row(
        f"door to page, p50 / p99 / max ({result.pushes_received:,} pushes, {result.doors} doors)",
        f"{result.push_p50_ms} / {result.push_p99_ms} / {result.push_max_ms} ms",
        "p99 <= 1,000 ms",
    )
    console.print(table)
    console.print(
        f"[dim]{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {result.load_average} when "
        "the page loads began (2 cores): figures are what the machine gave then.[/]"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "tracking_load.json" if result.page_cache_seconds else "tracking_load_uncached.json"
    if result.pace_s:
        name = name.replace(".json", "_paced.json")
    (RESULTS / name).write_text(json.dumps(asdict(result), indent=2) + "\n")


if __name__ == "__main__":
    main()
