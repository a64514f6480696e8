"""Webhooks at the speed of orders: how fast the worker delivers a burst of orders' events.

Builds the Chandler example network and one merchant in a fresh database (PostgreSQL by
default, a throw-away database on the given server; ``--sqlite`` for a file), registers a
webhook endpoint on a local receiver that answers every POST after 30 ms, starts
``doorstep worker`` against it, and places orders through the checkout service at up to
``--rate`` per second for ``--seconds`` (each order: order.created then package.created).

It reports the orders' rate, the events delivered per second, the time from each order's
commit to its event's arrival at the receiver (p50, p99, max), how long the backlog took to
drain after the last order, and checks that each order's events arrived in order.

    .venv/bin/python benchmarks/webhook_throughput.py                      # 200/s for 10 s
    .venv/bin/python benchmarks/webhook_throughput.py --sqlite --rate 100
    .venv/bin/python benchmarks/webhook_throughput.py --worker-args "--concurrency 10"

Not a test: it prints a table and writes benchmarks/results/webhook_throughput.json. Timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from doorstep.catalog import service as catalog
from doorstep.catalog.schemas import ProductIn, StockIn
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.merchants.service import create_merchant
from doorstep.migrate import upgrade
from doorstep.models import DeliverySpeed, OutboxEvent, utcnow
from doorstep.network.service import import_network_file
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.promise.capacity import CommittedVolumeCache
from doorstep.promise.network import SnapshotCache
from doorstep.promise.rules import PromisePolicy
from doorstep.promise.schemas import BasketItem
from doorstep.settings import Environment, Settings
from doorstep.webhooks import service as webhooks
from doorstep.webhooks.addresses import AddressPolicy

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
NETWORK = ROOT / "examples" / "chandler-az" / "network.geojson"
DESTINATION = {"lat": 33.3035, "lng": -111.8410, "address": "1 E Chicago St, Chandler"}
console = Console()


class Receiver:
    """Every POST: its webhook-id and arrival time (wall clock), answered after ``delay``."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrivals: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.arrivals.append((self.headers.get("webhook-id", ""), time.time()))
                time.sleep(receiver.delay)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def prepare(database_url: str, receiver_url: str) -> int:
    """The network, a merchant with a pan in stock at its mall store, an endpoint; its id."""
    engine = create_db_engine(database_url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        import_network_file(session, NETWORK)
        created = create_merchant(session, "Copper Pot Kitchenware", store_codes=["MCFC-KITCHEN"])
        merchant_id = created.merchant.id
        catalog.upsert_products(
            session,
            merchant_id,
            [
                ProductIn(
                    sku="PAN-28",
                    name="28 cm skillet",
                    length_mm=500,
                    width_mm=300,
                    height_mm=80,
                    weight_g=1800,
                )
            ],
        )
        catalog.set_stock(
            session, merchant_id, [StockIn(sku="PAN-28", node="MCFC-KITCHEN", on_hand=10_000_000)]
        )
        webhooks.create_endpoint(
            session,
            merchant_id,
            receiver_url,
            ["*"],
            environment=Environment.TEST,
            addresses=AddressPolicy.allowing(["127.0.0.1"]),
        )
    engine.dispose()
    return merchant_id


def place_orders(
    database_url: str, merchant_id: int, rate: float, seconds: float, threads: int
) -> tuple[int, float]:
    """Orders at ``rate`` per second (paced, from ``threads`` threads); (placed, seconds)."""
    engine = create_db_engine(database_url, pool_size=threads)
    factory = session_factory(engine)
    # What the API keeps per process: the network snapshot, the promise policy, the volumes.
    settings = Settings(database_url=database_url)
    snapshots = SnapshotCache(settings.network_cache_seconds)
    committed = CommittedVolumeCache(settings.capacity_cache_seconds)
    policy = PromisePolicy(travel=settings.travel_model())
    placed = 0
    lock = threading.Lock()
    started = time.monotonic()
    interval = threads / rate

    def run(offset: int) -> None:
        nonlocal placed
        due = started + offset * (1 / rate)
        while due < started + seconds:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with unit_of_work(factory) as session:
                network = snapshots.fresh() or snapshots.get(session)
                orders.place_order(
                    session,
                    merchant_id,
                    OrderIn(
                        items=[BasketItem(sku="PAN-28", quantity=1)],
                        destination=OrderDestination(**DESTINATION),
                        speed=DeliverySpeed.TWO_DAY,
                        recipient=Recipient(name="Webhook Bench"),
                    ),
                    idempotency_key=None,
                    now=utcnow(),
                    policy=policy,
                    network=network,
                    committed=committed,
                    savepoint=False,
                )
            with lock:
                placed += 1
            due += interval

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    engine.dispose()
    return placed, elapsed


def start_worker(database_url: str, extra: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "DOORSTEP_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "doorstep", "worker", *extra],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server URL; a throw-away database is created on it",
    )
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--rate", type=float, default=200.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long orders come")
    parser.add_argument("--delay", type=float, default=0.03, help="the receiver's answer time")
    parser.add_argument("--threads", type=int, default=4, help="threads placing orders")
    parser.add_argument("--drain", type=float, default=300.0, help="longest wait to drain")
    parser.add_argument("--worker-args", default="", help="extra options of doorstep worker")
    parser.add_argument("--label", default="", help="a name for this run in the JSON")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="doorstep-webhooks-"))
    admin = None
    if args.sqlite:
        database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    else:
        admin_url = make_url(args.postgres)
        name = f"doorstep_bench_{secrets.token_hex(4)}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = admin_url.set(database=name).render_as_string(hide_password=False)
    receiver = Receiver(args.delay)
    worker = None
    try:
        merchant_id = prepare(database_url, receiver.url)
        worker = start_worker(database_url, args.worker_args.split(), folder / "worker.log")
        time.sleep(2)  # the worker's start-up (imports) is not what is measured
        with console.status(f"Orders at {args.rate:g}/s for {args.seconds:g} s…"):
            placed, placing = place_orders(
                database_url, merchant_id, args.rate, args.seconds, args.threads
            )
        last_order = time.time()
        engine = create_db_engine(database_url)
        with unit_of_work(session_factory(engine)) as session:
            events = {
                f"evt_{event_id}": (created_at, key)
                for event_id, created_at, key in session.execute(
                    select(OutboxEvent.id, OutboxEvent.created_at, OutboxEvent.ordering_key)
                )
            }
        engine.dispose()
        with console.status(f"Waiting for {len(events)} events…"):
            deadline = time.monotonic() + args.drain
            while receiver.count() < len(events) and time.monotonic() < deadline:
                time.sleep(0.05)
        drained = time.time()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        receiver.server.shutdown()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    arrivals = receiver.arrivals
    first_arrival: dict[str, float] = {}
    for msg_id, at in arrivals:
        first_arrival.setdefault(msg_id, at)
    latencies = [
        first_arrival[msg_id] - created.replace(tzinfo=created.tzinfo or UTC).timestamp()
        for msg_id, (created, _) in events.items()
        if msg_id in first_arrival
    ]
    # Each order's events must arrive in the order they were written (event id order).
    by_order: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for msg_id, (_, key) in events.items():
        if msg_id in first_arrival and key:
            by_order[key].append((first_arrival[msg_id], int(msg_id[4:])))
    out_of_order = sum(
        1 for seq in by_order.values() if [e for _, e in sorted(seq)] != sorted(e for _, e in seq)
    )
    start = min(c.replace(tzinfo=c.tzinfo or UTC).timestamp() for c, _ in events.values())
    delivered = len(first_arrival)
    result: dict[str, Any] = {
        "label": args.label,
        "database": "sqlite" if args.sqlite else "postgresql",
        "worker_args": args.worker_args,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "orders": placed,
        "orders_per_s": round(placed / placing, 1),
        "events": len(events),
        "delivered": delivered,
        "lost": len(events) - delivered,
        "duplicates": len(arrivals) - delivered,
        "events_per_s": round(delivered / max(1e-9, max(first_arrival.values()) - start), 1)
        if first_arrival
        else 0.0,
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "drain_after_last_order_s": round(drained - last_order, 2),
        "orders_out_of_order": out_of_order,
    }
    table = Table(title=f"Webhooks to a receiver answering in {args.delay * 1000:g} ms")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "webhook_throughput.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*runs, result], indent=2))


if __name__ == "__main__":
    main()
