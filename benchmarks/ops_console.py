"""Load benchmark of the operator's console: the live map and the pages with a busy day.

Builds a day of ``--blocks`` blocks (300), each with a driver and ``--stops`` stops (20), in a
throw-away SQLite file (or ``--database-url``), starts ``doorstep serve`` on it in a process of
its own, and while every driver sends a position every 30 s (the app's rhythm: 10 writes a
second for 300 drivers, through the drivers' own ``update_position``), measures:

- **map latency**: a probe driver moves; the time until the map's event stream
  (``/ops/map/events``, one dispatcher watching) carries the new position. Target p99 <= 2 s.
- **pages**: ``/ops/``, ``/ops/map``, ``/ops/exceptions``, ``/ops/numbers`` answered to a
  signed-in dispatcher, one request at a time. Target p99 <= 200 ms.

    .venv/bin/python benchmarks/ops_console.py                   # 300 blocks, 60 s of load
    .venv/bin/python benchmarks/ops_console.py --blocks 50 --seconds 20

Not a test: it prints a table and writes benchmarks/results/ops_console.json. The machine's
load (/proc/loadavg) is printed with it: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.drivers.offers import update_position
from doorstep.migrate import upgrade
from doorstep.models import (
    Block,
    BlockStatus,
    Channel,
    Driver,
    Node,
    NodeKind,
    OperatorRole,
    Route,
    Stop,
    StopKind,
)
from doorstep.network.service import import_network_file
from doorstep.ops import audit, users
from doorstep.web.ops.live_map import network_frame

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PASSWORD = "benchmark-dispatcher-1"
console = Console()


def build(url: str, blocks: int, stops: int) -> list[int]:
    """The network, ``blocks`` blocks in progress today with a driver and stops each; the
    drivers' ids."""
    engine = create_db_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    rng = random.Random(7)
    with unit_of_work(session_factory(engine)) as session:
        import_network_file(session, ROOT / "examples" / "chandler-az" / "network.geojson")
        session.flush()
        station = session.scalars(select(Node).where(Node.kind == NodeKind.STATION)).first()
        assert station is not None
        users.create_operator(
            session,
            "dispatcher@bench.example",
            OperatorRole.DISPATCHER,
            name="Bench",
            password=PASSWORD,
            by=audit.COMMAND_LINE,
            now=now,
        )
        drivers = []
        for i in range(blocks):
            driver = Driver(
                name=f"Driver {i}",
                email=f"d{i}@bench.example",
                last_lat=station.lat,
                last_lng=station.lng,
                last_seen_at=now,
            )
            session.add(driver)
            session.flush()
            block = Block(
                start_node_id=station.id,
                station_id=station.id,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
                pay_cents=6000,
                stop_count=stops,
                package_count=stops,
                status=BlockStatus.IN_PROGRESS,
                driver_id=driver.id,
                accepted_at=now - timedelta(hours=2),
                checked_in_at=now - timedelta(hours=1),
            )
            session.add(block)
            session.flush()
            route = Route(
                channel=Channel.STATION_ROUTE,
                start_node_id=station.id,
                block_id=block.id,
                service_date=now.date(),
                planned_start_at=block.starts_at,
                planned_end_at=block.ends_at,
            )
            session.add(route)
            session.flush()
            session.add_all(
                Stop(
                    route_id=route.id,
                    sequence=k + 1,
                    kind=StopKind.DELIVERY,
                    lat=station.lat + rng.uniform(-0.06, 0.06),
                    lng=station.lng + rng.uniform(-0.06, 0.06),
                    window_end=block.ends_at,
                    eta_at=now + timedelta(minutes=5 * k),
                )
                for k in range(stops)
            )
            drivers.append(driver.id)
    engine.dispose()
    return drivers


def positions(url: str, drivers: list[int], stop: threading.Event, lat0: float) -> None:
    """Each driver reports every 30 s, spread evenly: len(drivers)/30 writes a second."""
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    gap = 30 / max(1, len(drivers))
    rng = random.Random(1)
    i = 0
    while not stop.is_set():
        started = time.monotonic()
        with unit_of_work(sessions) as session:
            driver = session.get(Driver, drivers[i % len(drivers)])
            assert driver is not None
            update_position(
                session,
                driver,
                lat0 + rng.uniform(-0.05, 0.05),
                (driver.last_lng or 0) + rng.uniform(-0.001, 0.001),
                now=datetime.now(UTC),
            )
        i += 1
        time.sleep(max(0.0, gap - (time.monotonic() - started)))
    engine.dispose()


def cpu_s(pid: int) -> float:
    """The CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=300)
    parser.add_argument("--stops", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="doorstep-ops-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    console.print(f"building {args.blocks} blocks x {args.stops} stops in {url}")
    drivers = build(url, args.blocks, args.stops)
    probe, moving = drivers[0], drivers[1:]
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": url,
        "DOORSTEP_DATA_DIR": str(folder),
        "DOORSTEP_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "doorstep", "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    stop = threading.Event()
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = httpx.Client(base_url=base, timeout=30)
        signed = client.post(
            "/ops/sign-in", data={"email": "dispatcher@bench.example", "password": PASSWORD}
        )
        assert signed.status_code in (200, 303), signed.status_code
        engine = create_db_engine(url)
        sessions = session_factory(engine)
        with unit_of_work(sessions) as session:
            lat0 = session.get_one(Driver, probe).last_lat or 33.3
        writer = threading.Thread(target=positions, args=(url, moving, stop, lat0), daemon=True)
        writer.start()

        latencies: list[float] = []
        pending: dict[str, float] = {}
        seen_at: dict[int, object] = {}
        block_of_probe: list[int] = []

        def watch() -> None:
            # The server ends a stream after 30 s and the browser reconnects at once: so do we
            # (without it, every move after the first 30 s went unseen).
            with httpx.Client(base_url=base, cookies=client.cookies, timeout=None) as sse:
                while not stop.is_set():
                    with sse.stream("GET", "/ops/map/events") as stream:
                        event = ""
                        for line in stream.iter_lines():
                            if stop.is_set():
                                return
                            if line.startswith("event:"):
                                event = line[6:].strip()
                            elif line.startswith("data:") and event in ("blocks", "changes"):
                                seen(line[5:], time.monotonic())

        def seen(data: str, arrived: float) -> None:
            for b in json.loads(data)["blocks"]:
                if b["driver"] == "Driver 0":
                    block_of_probe[:] = [b["id"]]
                    key = json.dumps(b["at"])
                    if key in pending:
                        latencies.append(arrived - pending.pop(key))
                    seen_at[b["id"]] = b["at"]

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        time.sleep(3)
        page_times: dict[str, list[float]] = {
            p: [] for p in ("/ops/", "/ops/map", "/ops/exceptions", "/ops/numbers")
        }
        # The server's CPU while each page was answered (its map stream keeps reading
        # meanwhile, so this is an upper bound), and over the whole run.
        page_cpu: dict[str, list[float]] = {p: [] for p in page_times}
        cpu_before, wall_before = cpu_s(server.pid), time.monotonic()
        ends = time.monotonic() + args.seconds
        k = 0

        with unit_of_work(sessions) as session:
            frame = network_frame(session)
        # Each page once before measuring: its first answer after a start compiles templates
        # and statements. That first answer is reported on its own, not mixed into the p99.
        first_answer: dict[str, float] = {}
        for path in page_times:
            started = time.monotonic()
            assert client.get(path).status_code == 200, path
            first_answer[path] = time.monotonic() - started
        while time.monotonic() < ends:
            k += 1
            lat, lng = lat0 + 0.0005 * (k % 50 + 1), -111.85 - 0.0003 * k
            with unit_of_work(sessions) as session:
                update_position(
                    session, session.get_one(Driver, probe), lat, lng, now=datetime.now(UTC)
                )
            pending_key = json.dumps(list(frame.xy(lat, lng)))
            pending[pending_key] = time.monotonic()
            for path, times in page_times.items():
                started, cpu_started = time.monotonic(), cpu_s(server.pid)
                answer = client.get(path)
                times.append(time.monotonic() - started)
                page_cpu[path].append(cpu_s(server.pid) - cpu_started)
                assert answer.status_code == 200, (path, answer.status_code)
            time.sleep(1.5)
        time.sleep(3)
        missed = len(pending)
        server_cpu = cpu_s(server.pid) - cpu_before
        server_wall = time.monotonic() - wall_before
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=40)  # an open map stream ends within 30 s
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    load = Path("/proc/loadavg").read_text().split()[:3]
    table = Table(
        title=f"operator console, {args.blocks} blocks x {args.stops} stops, load {' '.join(load)}"
    )
    for column in ("what", "n", "p50 ms", "p99 ms", "max ms", "server CPU p50 ms", "target"):
        table.add_column(column, justify="right" if column != "what" else "left")
    results = {
        "blocks": args.blocks,
        "stops": args.stops,
        "loadavg": load,
        "missed": missed,
        "server_cpu_s_per_s": server_cpu / server_wall,
    }
    rows: list[tuple[str, list[float], list[float], str]] = [
        ("map: a driver's move on the stream", latencies, [], "p99 <= 2000")
    ]
    rows += [(f"page {p}", t, page_cpu[p], "p99 <= 200") for p, t in page_times.items()]
    for what, values, cpu, target in rows:
        if not values:
            table.add_row(what, "0", "-", "-", "-", "-", target)
            continue
        ms = [v * 1000 for v in values]
        table.add_row(
            what,
            str(len(ms)),
            f"{statistics.median(ms):.0f}",
            f"{pct(ms, 0.99):.0f}",
            f"{max(ms):.0f}",
            f"{statistics.median(cpu) * 1000:.0f}" if cpu else "-",
            target,
        )
        results[what] = {"n": len(ms), "p50_ms": statistics.median(ms), "p99_ms": pct(ms, 0.99)}
        if cpu:
            results[what]["server_cpu_p50_ms"] = statistics.median(cpu) * 1000
    console.print(table)
    console.print(
        f"server CPU: {server_cpu:.1f} s over {server_wall:.0f} s "
        f"({server_cpu / server_wall:.2f} CPU-seconds a second, map stream and pages together)"
    )
    console.print(f"probe moves never seen on the stream: {missed}")
    console.print(
        "first answer after the start (not in the table): "
        + ", ".join(f"{path} {seconds * 1000:.0f} ms" for path, seconds in first_answer.items())
    )
    results["first_answer_ms"] = {path: s * 1000 for path, s in first_answer.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ops_console.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
