"""Webhooks at the speed of orders: how fast the worker delivers a burst of orders' events.

Builds the Chandler example network and one merchant in a fresh database (PostgreSQL by
default, a throw-away database on the given server; ``--sqlite`` for a file), registers a
webhook endpoint on a local receiver that answers every POST after 30 ms, starts
``doorstep worker`` against it, and places orders at up to ``--rate`` per second for
``--seconds`` (each order: order.created then package.created), one of four ways
(``--orders``):

- ``preview`` (default): in this process, through the orders service (`place_order`, the
  transaction that writes the order and its outbox events), each order from one delivery
  preview quoted at the start (as a checkout quotes once and places the order): the events
  are real, and the promise is not recomputed per order, so a 2-core machine can offer
  200 orders/s while the worker runs;
- ``service``: in this process, through the orders service, the full promise per order;
- ``http``: ``POST /v1/orders`` with the merchant's secret key to a ``doorstep serve``
  subprocess, as a shop's server would;
- ``outbox``: the worker alone. The orders are placed (through the orders service, from one
  preview) before the endpoint exists and the worker starts; then, paced, each order's
  events are written again as placing it wrote them (`order_event_values`,
  `transitions.created_outbox_rows`, `transitions.record_outbox`: the same rows, the same
  statement, a transaction per order), about a millisecond each instead of placing's
  6.5 ms, so the rate asked for is the rate offered even on 2 shared cores.

It reports which way ran, the orders offered per second, the events delivered per second,
the time from each order's commit to its event's arrival at the receiver (p50, p99, max),
events lost, duplicated and orders whose events arrived out of order, how long the backlog
took to drain after the last order, the worker's CPU seconds per 1,000 events delivered
(from /proc, start-up excluded) and the load average before and after.

    .venv/bin/python benchmarks/webhook_throughput.py                      # 200/s for 10 s
    .venv/bin/python benchmarks/webhook_throughput.py --sqlite --rate 100
    .venv/bin/python benchmarks/webhook_throughput.py --orders http --rate 50
    .venv/bin/python benchmarks/webhook_throughput.py --orders outbox --rate 200
    .venv/bin/python benchmarks/webhook_throughput.py --worker-args "--concurrency 10"

Not a test: it prints a table and writes benchmarks/results/webhook_throughput.json. Timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from doorstep.catalog import service as catalog
from doorstep.catalog.schemas import ProductIn, StockIn
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.merchants.service import create_merchant
from doorstep.migrate import upgrade
from doorstep.models import DeliverySpeed, Order, OutboxEvent, Package, utcnow
from doorstep.network.service import import_network_file
from doorstep.orders import service as orders
from doorstep.orders import transitions
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.promise import service as promise
from doorstep.promise.capacity import CommittedVolumeCache
from doorstep.promise.network import SnapshotCache
from doorstep.promise.rules import PromisePolicy
from doorstep.promise.schemas import BasketItem, Destination, PreviewIn
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

            # Answers go out at once: with Nagle's algorithm a small answer written in two
            # parts waits for the client's delayed ACK (about 40 ms on Linux) on every request.
            disable_nagle_algorithm = True

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


def prepare(database_url: str) -> tuple[int, str]:
    """The network, a merchant with a pan in stock at its mall store; the merchant's id and
    secret key."""
    engine = create_db_engine(database_url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        import_network_file(session, NETWORK)
        created = create_merchant(session, "Copper Pot Kitchenware", store_codes=["MCFC-KITCHEN"])
        merchant_id = created.merchant.id
        secret_key = created.secret_key.plaintext
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
    engine.dispose()
    return merchant_id, secret_key


def add_endpoint(database_url: str, merchant_id: int, receiver_url: str) -> int:
    """The merchant's endpoint on the receiver, for every event written from now on; the
    newest event id before it (the events it will not hear of)."""
    engine = create_db_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        endpoint = webhooks.create_endpoint(
            session,
            merchant_id,
            receiver_url,
            ["*"],
            environment=Environment.TEST,
            addresses=AddressPolicy.allowing(["127.0.0.1"]),
        )
        seen = endpoint.last_event_id
    engine.dispose()
    return seen


ORDER = OrderIn(
    items=[BasketItem(sku="PAN-28", quantity=1)],
    destination=OrderDestination(**DESTINATION),
    speed=DeliverySpeed.TWO_DAY,
    recipient=Recipient(name="Webhook Bench"),
)


def paced(
    rate: float, seconds: float, threads: int, place: Callable[[int], object]
) -> tuple[int, float]:
    """Call ``place(thread)`` at ``rate`` per second in all for ``seconds``, from ``threads``
    threads, each on its own schedule (a late one catches up); (calls made, seconds)."""
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
            place(offset)
            with lock:
                placed += 1
            due += interval

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return placed, time.monotonic() - started


def place_in_process(
    database_url: str,
    merchant_id: int,
    *,
    rate: float,
    seconds: float,
    threads: int,
    from_preview: bool,
) -> tuple[int, float]:
    """Orders through the orders service, in this process: from one delivery preview, or
    with the full promise each (with the API's per-process caches)."""
    engine = create_db_engine(database_url, pool_size=threads)
    try:
        place = order_placer(engine, merchant_id, from_preview=from_preview)
        return paced(rate, seconds, threads, lambda _: place())
    finally:
        engine.dispose()


def order_placer(engine: Engine, merchant_id: int, *, from_preview: bool) -> Callable[[], int]:
    """A function that places one order (in a transaction of its own) and returns its id."""
    factory = session_factory(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    snapshots = SnapshotCache(settings.network_cache_seconds)
    committed = CommittedVolumeCache(settings.capacity_cache_seconds)
    policy = PromisePolicy(travel=settings.travel_model())
    body = ORDER
    if from_preview:
        with unit_of_work(factory) as session:
            quoted = promise.create_preview(
                session,
                merchant_id,
                PreviewIn(items=ORDER.items or [], destination=Destination(**DESTINATION)),
                now=utcnow(),
                policy=policy,
                network=snapshots.get(session),
                committed=committed,
            )
        body = OrderIn(
            preview_id=quoted.id,
            option_id=DeliverySpeed.TWO_DAY,
            destination=OrderDestination(**DESTINATION),
            recipient=Recipient(name="Webhook Bench"),
        )

    def place() -> int:
        with unit_of_work(factory) as session:
            placed = orders.place_order(
                session,
                merchant_id,
                body,
                idempotency_key=None,
                now=utcnow(),
                policy=policy,
                network=snapshots.fresh() or snapshots.get(session),
                committed=committed,
                savepoint=False,
            )
            return placed.order.id

    return place


def place_ahead(database_url: str, merchant_id: int, *, count: int, threads: int) -> list[int]:
    """``count`` orders placed as fast as ``threads`` threads go (from one preview); their ids."""
    engine = create_db_engine(database_url, pool_size=threads)
    place = order_placer(engine, merchant_id, from_preview=True)
    ids: list[int] = []
    lock = threading.Lock()
    left = itertools.count(count, -1)

    def run() -> None:
        while next(left) > 0:
            order_id = place()
            with lock:
                ids.append(order_id)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        engine.dispose()
    return sorted(ids)


def write_events(
    database_url: str, order_ids: list[int], *, rate: float, seconds: float, threads: int
) -> tuple[int, float]:
    """Paced, each placed order's events written again as placing it wrote them (its
    ``order.created``, then its packages' ``package.created``), a transaction per order."""
    engine = create_db_engine(database_url, pool_size=threads)
    factory = session_factory(engine)
    with factory() as session:
        placed = {
            order.id: order
            for order in session.scalars(select(Order).where(Order.id.in_(order_ids)))
        }
        packages: dict[int, list[Package]] = defaultdict(list)
        for package in session.scalars(
            select(Package).where(Package.order_id.in_(order_ids)).order_by(Package.id)
        ):
            packages[package.order_id].append(package)
    turn = itertools.count()

    def write(_: int) -> None:
        order_id = order_ids[next(turn)]  # place_ahead placed enough for every turn
        order, now = placed[order_id], utcnow()
        with unit_of_work(factory) as session:
            transitions.record_outbox(
                session,
                [
                    orders.order_event_values(order, "order.created", now),
                    *transitions.created_outbox_rows(order, packages[order_id], now),
                ],
            )

    try:
        return paced(rate, seconds, threads, write)
    finally:
        engine.dispose()


def place_over_http(
    base_url: str, secret_key: str, *, rate: float, seconds: float, threads: int
) -> tuple[int, float]:
    """``POST /v1/orders`` to the server, one keep-alive client per thread."""
    clients = [
        httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {secret_key}"},
            timeout=30.0,
            trust_env=False,
        )
        for _ in range(threads)
    ]
    payload = ORDER.model_dump(mode="json", exclude_none=True)
    refused = itertools.count()

    def place(thread: int) -> None:
        response = clients[thread].post("/v1/orders", json=payload)
        if response.status_code != 201:
            next(refused)

    try:
        placed, elapsed = paced(rate, seconds, threads, place)
    finally:
        for client in clients:
            client.close()
    failures = next(refused)
    if failures:
        console.print(f"[red]{failures} orders were refused[/]")
    return placed - failures, elapsed


def environment(database_url: str) -> dict[str, str]:
    return os.environ | {
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_ENVIRONMENT": "test",
        "DOORSTEP_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "DOORSTEP_RATE_LIMIT": "",  # one key sends the whole load
    }


def start_server(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``doorstep serve`` on a free port, once /readyz answers; and its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "doorstep", "serve", "--port", str(port)],
            env=environment(database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_worker(
    database_url: str, extra: list[str], log: Path, profile: Path | None, source: Path | None
) -> subprocess.Popen[bytes]:
    # Under cProfile the stats are written when the worker exits (SIGTERM stops it cleanly).
    profiled = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
    env = environment(database_url)
    if source is not None:  # another checkout's worker, same environment otherwise
        env["PYTHONPATH"] = str(source.resolve())
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *profiled, "-m", "doorstep", "worker", *extra],
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
    parser.add_argument(
        "--orders",
        choices=["preview", "service", "http", "outbox"],
        default="preview",
        help="how orders are placed: the orders service in this process from one preview "
        "(default) or with the full promise each, over HTTP to a doorstep serve subprocess, "
        "or placed ahead and only their events written at the rate (the worker alone)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads placing orders")
    parser.add_argument("--drain", type=float, default=300.0, help="longest wait to drain")
    parser.add_argument("--worker-args", default="", help="extra options of doorstep worker")
    parser.add_argument("--label", default="", help="a name for this run in the JSON")
    parser.add_argument(
        "--worker-src",
        type=Path,
        help="run the worker from this src/ folder (another checkout: before and after back "
        "to back); the rest of the benchmark runs this checkout",
    )
    parser.add_argument(
        "--profile", type=Path, help="run the worker under cProfile, its stats to this file"
    )
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
    worker = server = None
    load_before = os.getloadavg()
    try:
        merchant_id, secret_key = prepare(database_url)
        ahead: list[int] = []
        if args.orders == "outbox":
            with console.status("Placing the orders ahead…"):
                ahead = place_ahead(
                    database_url,
                    merchant_id,
                    count=int(args.rate * args.seconds) + 2 * args.threads,
                    threads=args.threads,
                )
        first_event = add_endpoint(database_url, merchant_id, receiver.url)
        if args.orders == "http":
            server, base_url = start_server(database_url, folder / "server.log")
        worker = start_worker(
            database_url,
            args.worker_args.split(),
            folder / "worker.log",
            args.profile,
            args.worker_src,
        )
        # The worker's start-up (imports: seconds on a loaded machine) is not what is measured.
        deadline = time.monotonic() + 120
        while b"polls every" not in (folder / "worker.log").read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((folder / "worker.log").read_text()[-2000:])
            time.sleep(0.1)
        time.sleep(1)  # its first pass
        worker_cpu = cpu_seconds(worker.pid)
        server_cpu = cpu_seconds(server.pid) if server is not None else 0.0
        with console.status(f"Orders ({args.orders}) at {args.rate:g}/s for {args.seconds:g} s…"):
            if args.orders == "http":
                placed, placing = place_over_http(
                    base_url,
                    secret_key,
                    rate=args.rate,
                    seconds=args.seconds,
                    threads=args.threads,
                )
            elif args.orders == "outbox":
                placed, placing = write_events(
                    database_url,
                    ahead,
                    rate=args.rate,
                    seconds=args.seconds,
                    threads=args.threads,
                )
            else:
                placed, placing = place_in_process(
                    database_url,
                    merchant_id,
                    rate=args.rate,
                    seconds=args.seconds,
                    threads=args.threads,
                    from_preview=args.orders == "preview",
                )
        last_order = time.time()
        if server is not None:
            server_cpu = cpu_seconds(server.pid) - server_cpu
        engine = create_db_engine(database_url)
        with unit_of_work(session_factory(engine)) as session:
            events = {
                f"evt_{event_id}": (created_at, key)
                for event_id, created_at, key in session.execute(
                    select(OutboxEvent.id, OutboxEvent.created_at, OutboxEvent.ordering_key).where(
                        OutboxEvent.id > first_event
                    )
                )
            }
        engine.dispose()
        with console.status(f"Waiting for {len(events)} events…"):
            deadline = time.monotonic() + args.drain
            while receiver.count() < len(events) and time.monotonic() < deadline:
                time.sleep(0.05)
        drained = time.time()
        worker_cpu = cpu_seconds(worker.pid) - worker_cpu
        load_after = os.getloadavg()
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
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
        "orders_placed_by": {
            "preview": "orders service in-process, from one preview",
            "service": "orders service in-process, full promise each",
            "http": "POST /v1/orders to doorstep serve",
            "outbox": "placed ahead; each order's events written again at the rate",
        }[args.orders],
        "worker_args": args.worker_args,
        "worker_src": str(args.worker_src or ""),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "orders_asked_per_s": args.rate,
        "orders": placed,
        "orders_offered_per_s": round(placed / placing, 1),
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
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_cpu_s_per_1000_events": round(1000 * worker_cpu / delivered, 2)
        if delivered
        else None,
        "server_cpu_s_per_1000_orders": round(1000 * server_cpu / placed, 2)
        if server is not None and placed
        else None,
        "load_average_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_average_after": " ".join(f"{x:.2f}" for x in load_after),
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
