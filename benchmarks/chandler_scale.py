"""A generated 10,000-stop day around Chandler with time windows and cargo volume, solved by
doorstep's decomposition on a local Dask cluster, and checked.

    .venv/bin/python benchmarks/chandler_scale.py                          # 10,000 stops, 60 s
    .venv/bin/python benchmarks/chandler_scale.py --reference 1800         # and a 30-minute run

The day: stops around the Chandler station (DCH1) over its service area, a third of them in
four denser neighbourhoods; three in four may be served 11:00-21:00, one in four asks for a
two-hour window; two minutes at each door; each stop's parcels 0.5-60 litres (log-normal
around 6 litres, one to three parcels); cars of 600 litres on a 10-hour shift. Travel comes
from the one travel model (`geo.TravelModel`: straight line, circuity, speed by hour). The
objective is the planner's kind: a fixed cost per car, pay per hour and per kilometre.

With ``--reference S`` the same day is solved again for S seconds, and the table gives the
60-second run's gap to it. Each run is a process of its own, so its peak memory is its own.
Not a test: it prints a table (with the load average, the machine may be shared) and writes
benchmarks/results/chandler_scale.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from doorstep.geo import TravelModel
from doorstep.optimize import ProblemBuilder, check
from doorstep.optimize.decomposition import solve_decomposed
from doorstep.optimize.problem import Problem

RESULTS = Path(__file__).parent / "results" / "chandler_scale.json"
STATION = (33.2744, -111.8887)
AREA = ((33.203, 33.36), (-111.972, -111.806))  # the Chandler service area's box
HUBS = [(33.3062, -111.8413), (33.2483, -111.8578), (33.3406, -111.9291), (33.2797, -111.9448)]
HOUR = 3600
console = Console(width=160)


def chandler_day(stops: int, seed: int) -> tuple[Problem, npt.NDArray[np.float64]]:
    """The day's problem and its locations' positions in metres (east, north of the
    station), the same for the same arguments."""
    rng = np.random.default_rng(seed)
    spread = stops - stops // 3
    lats = rng.uniform(*AREA[0], spread)
    lngs = rng.uniform(*AREA[1], spread)
    hub = rng.integers(len(HUBS), size=stops - spread)
    radius = 2_500 * np.sqrt(rng.uniform(0, 1, stops - spread))
    angle = rng.uniform(0, 2 * math.pi, stops - spread)
    hub_lat = np.array([HUBS[h][0] for h in hub]) + radius * np.sin(angle) / 111_320
    hub_lng = np.array([HUBS[h][1] for h in hub]) + radius * np.cos(angle) / (
        111_320 * math.cos(math.radians(STATION[0]))
    )
    points = [STATION, *zip(np.r_[lats, hub_lat], np.r_[lngs, hub_lng], strict=True)]
    travel = TravelModel().matrix(points, depart_s=14 * HOUR)

    b = ProblemBuilder(dimensions=("volume_cm3",), name=f"chandler{stops}")
    b.add_location("DCH1", opening=(10 * HOUR, 22 * HOUR))
    for n in range(stops):
        b.add_location(f"S{n:05d}")
    b.set_matrices(travel.distances, travel.durations)
    # Enough cars for the volume twice over: the search decides how many go out.
    b.add_vehicle_type(
        "car",
        start=0,
        end=0,
        capacity=(600_000,),
        count=max(2, stops // 20),
        shift=(11 * HOUR, 21 * HOUR),
        fixed_cost=2_000,
        cost_per_hour=2_200,
        cost_per_km=35,
    )
    for n in range(stops):
        parcels = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        volume = int(np.clip(rng.lognormal(math.log(6_000), 0.8, parcels), 500, 60_000).sum())
        window = (11 * HOUR, 21 * HOUR)
        if rng.uniform(0, 1) < 0.25:
            start = int(rng.choice([11, 13, 15, 17, 19])) * HOUR
            window = (start, start + 2 * HOUR)
        b.add_job(f"S{n:05d}", location=n + 1, demand=(volume,), service=120, time_windows=[window])
    north = (np.array([p[0] for p in points]) - STATION[0]) * 111_320
    east = (
        (np.array([p[1] for p in points]) - STATION[1])
        * 111_320
        * math.cos(math.radians(STATION[0]))
    )
    return b.build(), np.column_stack([east, north])


def _rusage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def one(stops: int, seed: int, time_limit: float, workers: int) -> dict[str, Any]:
    """One run in this process, on a local cluster of ``workers``."""
    from doorstep.cluster import open_client, runner_on

    with open_client(workers=workers) as client:
        built = time.perf_counter()
        problem, positions = chandler_day(stops, seed)
        build_s = time.perf_counter() - built
        started = time.perf_counter()
        solution = solve_decomposed(
            problem,
            positions,
            time_limit=time_limit,
            seed=seed,
            workers=workers,
            run=runner_on(client),
        )
        wall = time.perf_counter() - started
        worker_peaks = [peak for peak, _ in client.run(_rusage).values()]
        worker_cpu = sum(cpu for _, cpu in client.run(_rusage).values())
    report = check(problem, solution)
    peak, cpu = _rusage()
    return {
        "stops": stops,
        "time_limit_s": time_limit,
        "workers": workers,
        "engine": solution.engine,
        "objective": solution.objective,
        "distance_km": round(solution.distance / 1000, 1),
        "routes": len(solution.routes),
        "unassigned": len(solution.unassigned),
        "feasible": report.feasible,
        "complete": report.complete,
        "violations": list(report.violations[:5]),
        "rounds": int(solution.stats.get("rounds", 0)),
        "parts_improved": int(solution.stats.get("parts_improved", 0)),
        "build_s": round(build_s, 1),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu + worker_cpu, 1),
        "peak_mb_main": round(peak),
        "peak_mb_workers": [round(p) for p in worker_peaks],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, default=10_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference", type=float, default=None, help="seconds of a longer run")
    parser.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.stops, args.seed, args.one, args.workers)))
        return
    load = os.getloadavg()
    rows = []
    limits = [args.time_limit] + ([args.reference] if args.reference else [])
    for limit in limits:
        command = [sys.executable, __file__, "--stops", str(args.stops), "--seed", str(args.seed)]
        command += ["--workers", str(args.workers), "--one", str(limit)]
        with console.status(f"solving {args.stops:,} stops for {limit:g} s"):
            done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    reference = rows[-1]["objective"] if args.reference else None
    end_load = os.getloadavg()
    table = Table(
        title=f"Chandler day: {args.stops:,} stops with time windows and volume, "
        f"{args.workers} workers, seed {args.seed}",
        caption=f"load average {load[0]:.1f} at the start, {end_load[0]:.1f} at the end, "
        f"on {os.cpu_count()} cores",
    )
    columns = ["time limit s", "feasible", "unassigned", "routes", "objective", "gap %"]
    columns += ["km", "rounds", "build s", "wall s", "CPU s", "peak MB main", "peak MB workers"]
    for column in columns:
        table.add_column(column, justify="right")
    for r in rows:
        gap = "-" if reference is None else f"{100 * (r['objective'] - reference) / reference:.2f}"
        table.add_row(
            f"{r['time_limit_s']:g}",
            "yes" if r["feasible"] and r["complete"] else "NO",
            str(r["unassigned"]),
            str(r["routes"]),
            f"{r['objective']:,}",
            gap,
            f"{r['distance_km']:,.0f}",
            str(r["rounds"]),
            f"{r['build_s']:.1f}",
            f"{r['wall_s']:.1f}",
            f"{r['cpu_s']:.1f}",
            str(r["peak_mb_main"]),
            ", ".join(str(p) for p in r["peak_mb_workers"]),
        )
    console.print(table)
    for r in rows:
        for violation in r["violations"]:
            console.print(f"[red]{r['time_limit_s']:g} s: {violation}[/]")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"load_average": [load, end_load], "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
