"""City scale, every target in one run: the Belgium XXL instances against PyVRP alone at
equal time, a 30,000-stop city in 5 minutes within the memory target, the 10,000-stop
Chandler day against a 30-minute run, and the workers a 50-station metro needs.

    .venv/bin/python benchmarks/city_targets.py                  # about 45 minutes
    .venv/bin/python benchmarks/city_targets.py --reference 600  # a shorter reference day

Each measurement is a process of its own, started one after the other by the scripts that
measure it alone (`city_scale.py`, `chandler_scale.py`, `plan_day.py`), so its peak memory
and its cores are its own. Run it on a quiet machine: the table states the load average at
the start and at the end. Not a test: it prints one table and writes
benchmarks/results/city_targets.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
console = Console(width=200)

XXL = ("Leuven1", "Leuven2", "Antwerp1")
#: What the issue asks of each: gap to the best-known at 60 s on 2 cores, the memory of a
#: 30,000-stop solve, the 10,000-stop day against a 30-minute run, the metro's window.
GAP_TARGET_PCT = 1.5
MEMORY_TARGET_MB = 8_000
DAY_GAP_TARGET_PCT = 3.0
METRO_STATIONS = 50
METRO_WINDOW_S = 15 * 60


def _run(command: list[str]) -> str:
    """Run one measuring process to its end; its output (it stops the run if it failed)."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _last_json(command: list[str]) -> dict[str, Any]:
    """Run one measuring process; its last line of output is its JSON row."""
    row: dict[str, Any] = json.loads(_run(command).strip().splitlines()[-1])
    return row


def _city(instance: str, limit: float, workers: int, seed: int) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "city_scale.py"), "--time-limit", str(limit)]
    command += ["--seed", str(seed), "--one", str(workers)]
    if instance.isdigit():
        command += ["--generate", instance]
    else:
        command += ["--instance", instance]
    return _last_json(command)


def _day(limit: float, seed: int) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "chandler_scale.py"), "--seed", str(seed)]
    return _last_json([*command, "--workers", "2", "--one", str(limit)])


def _station_day(workers: int, seed: int) -> dict[str, Any]:
    """One station's day planned by `plan_day.py` on ``workers``: its row of the day."""
    started = time.time()
    command = [sys.executable, str(HERE / "plan_day.py"), "--seeds", str(seed)]
    command += ["--workers", str(workers), "--time-limit", "1200", "--plans", "doorstep"]
    _run(command)
    written = [p for p in RESULTS.glob("plan_day-*.json") if p.stat().st_mtime >= started]
    summary = json.loads(max(written, key=lambda p: p.stat().st_mtime).read_text())
    row: dict[str, Any] = summary["rows"][0]
    return row


def _peak(row: dict[str, Any]) -> int:
    """Peak resident memory of the main process and its workers together (MB)."""
    return int(row["peak_mb_main"] + sum(row["peak_mb_workers"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="XXL and the day")
    parser.add_argument("--big", type=int, default=30_000, help="stops of the generated city")
    parser.add_argument("--big-time-limit", type=float, default=300.0)
    parser.add_argument("--reference", type=float, default=1800.0, help="the long day run, s")
    args = parser.parse_args()
    seed, limit = args.seed, args.time_limit
    load = os.getloadavg()
    steps: list[tuple[str, Any]] = []
    for name in XXL:
        steps.append((f"{name}: PyVRP alone, 1 core, {limit:g} s", (_city, name, limit, 0)))
        steps.append((f"{name}: doorstep, 2 workers, {limit:g} s", (_city, name, limit, 2)))
    steps.append(
        (
            f"generated city of {args.big:,}: doorstep, 2 workers, {args.big_time_limit:g} s",
            (_city, str(args.big), args.big_time_limit, 2),
        )
    )
    steps.append((f"Chandler day of 10,000 stops, {limit:g} s", (_day, limit)))
    steps.append((f"Chandler day of 10,000 stops, {args.reference:g} s", (_day, args.reference)))
    steps.append(("one station's day on 1 worker", (_station_day, 1)))
    steps.append(("one station's day on 2 workers", (_station_day, 2)))

    measured: dict[str, dict[str, Any]] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        overall = progress.add_task("all targets", total=len(steps))
        for label, (function, *call) in steps:
            task = progress.add_task(label, total=None)
            measured[label] = function(*call, seed)
            progress.remove_task(task)
            progress.advance(overall)
            console.print(f"[green]done[/] {label}")
    end_load = os.getloadavg()

    rows = _rows(measured, args)
    table = Table(
        title=f"City scale: every target in one run (seed {seed})",
        caption=f"load average {load[0]:.1f} at the start, {end_load[0]:.1f} at the end, "
        f"on {os.cpu_count()} cores",
    )
    for column in ("target", "PyVRP alone, 1 core", "doorstep, 2 workers", "wall s", "met"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for row in rows:
        table.add_row(
            row["target"],
            row["pyvrp"],
            row["doorstep"],
            row["wall"],
            row["met"] if isinstance(row["met"], str) else "yes" if row["met"] else "NO",
        )
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "city_targets.json"
    out.write_text(
        json.dumps(
            {"args": vars(args), "load_average": [load, end_load], "rows": rows, "runs": measured},
            indent=2,
        )
        + "\n"
    )
    console.print(f"wrote {out}")


def _rows(measured: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The table: one row per target, what was measured against it and whether it is met."""
    limit = args.time_limit
    rows: list[dict[str, Any]] = []
    for name in XXL:
        alone = measured[f"{name}: PyVRP alone, 1 core, {limit:g} s"]
        ours = measured[f"{name}: doorstep, 2 workers, {limit:g} s"]
        rows.append(
            {
                "target": f"{name} ({ours['clients']:,}): below PyVRP alone and within "
                f"{GAP_TARGET_PCT} % of the best-known ({ours['bks']:,.0f})",
                "pyvrp": f"{alone['distance']:,.0f} (+{alone['gap_pct']:.2f} %)",
                "doorstep": f"{ours['distance']:,.0f} (+{ours['gap_pct']:.2f} %), "
                f"{ours['routes']} routes",
                "wall": f"{alone['wall_s']:.1f} / {ours['wall_s']:.1f}",
                "met": ours["feasible"]
                and ours["complete"]
                and ours["distance"] < alone["distance"]
                and ours["gap_pct"] <= GAP_TARGET_PCT,
            }
        )
    big = measured[
        f"generated city of {args.big:,}: doorstep, 2 workers, {args.big_time_limit:g} s"
    ]
    gigabytes = (args.big + 1) ** 2 * 8 / 1e9
    rows.append(
        {
            "target": f"{args.big:,} stops in {args.big_time_limit:g} s within "
            f"{MEMORY_TARGET_MB:,} MB (no best-known: a generated city)",
            "pyvrp": f"not run: its dense matrix alone is {gigabytes:.1f} GB",
            "doorstep": f"{big['distance']:,.0f}, {big['routes']:,} routes, peak "
            f"{_peak(big):,} MB ({big['peak_mb_main']:,} main)",
            "wall": f"{big['wall_s']:.1f}",
            "met": big["feasible"] and big["complete"] and _peak(big) <= MEMORY_TARGET_MB,
        }
    )
    short = measured[f"Chandler day of 10,000 stops, {limit:g} s"]
    long = measured[f"Chandler day of 10,000 stops, {args.reference:g} s"]
    gap = 100 * (short["objective"] - long["objective"]) / long["objective"]
    rows.append(
        {
            "target": f"Chandler day of 10,000 stops with windows and volume: feasible in "
            f"{limit:g} s, within {DAY_GAP_TARGET_PCT} % of a {args.reference:g} s run",
            "pyvrp": "-",
            "doorstep": f"{short['objective']:,} against {long['objective']:,} "
            f"({gap:+.2f} %), {short['unassigned']} unassigned",
            "wall": f"{short['wall_s']:.1f} / {long['wall_s']:.1f}",
            "met": short["feasible"] and short["complete"] and gap <= DAY_GAP_TARGET_PCT,
        }
    )
    one = measured["one station's day on 1 worker"]
    two = measured["one station's day on 2 workers"]
    efficiency = one["runtime_s"] / two["runtime_s"] / 2
    work = METRO_STATIONS * one["runtime_s"]
    workers = math.ceil(work / METRO_WINDOW_S / min(1.0, efficiency))
    rows.append(
        {
            "target": f"{METRO_STATIONS} stations planned in {METRO_WINDOW_S // 60} minutes: "
            "workers needed, from one station's day on 1 and 2 workers",
            "pyvrp": "-",
            "doorstep": f"1 worker {one['runtime_s']:.1f} s, 2 workers {two['runtime_s']:.1f} s "
            f"({100 * efficiency:.0f} % efficient): {work:,.0f} worker-s, {workers} workers",
            "wall": f"{one['runtime_s']:.1f} / {two['runtime_s']:.1f}",
            "met": "on paper",
        }
    )
    return rows


if __name__ == "__main__":
    main()
