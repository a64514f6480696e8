"""City scale: a Belgium XXL CVRP instance solved by PyVRP alone on one core and by doorstep's
decomposition on a local Dask cluster, at the same time limit, side by side.

    .venv/bin/python benchmarks/city_scale.py                          # Leuven1, 30 s, 2 workers
    .venv/bin/python benchmarks/city_scale.py --instance Antwerp1 --time-limit 60 --workers 1,2
    .venv/bin/python benchmarks/city_scale.py --generate 10000        # a generated city of 10,000

Each run is a process of its own (``--one``), so its peak memory is its own: the main
process's, plus each worker's for the cluster. CPU seconds add the main process and the
workers. The machine may be shared: the table states the load average at the start, and the
figures are indicative only. Not a test: it prints a table and writes
benchmarks/results/city_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from doorstep.optimize.checker import check
from doorstep.optimize.instances.vrptw import DENSE_LIMIT
from doorstep.optimize.suite import benchmarks_dir, best_known, pyvrp_alone, solve_instance

RESULTS = Path(__file__).parent / "results" / "city_scale.json"
console = Console(width=200)


def _clients(path: Path) -> int:
    """The instance's clients, from its DIMENSION line (the depot is one of them)."""
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip().upper() == "DIMENSION":
            return int(value) - 1
    raise SystemExit(f"{path}: no DIMENSION line")


def _rusage() -> tuple[float, float]:
    """This process's peak resident memory (MB) and CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def one(path: Path, time_limit: float, workers: int, seed: int) -> dict[str, Any]:
    """One run in this process: ``workers`` 0 is PyVRP alone on the whole instance."""
    from doorstep.optimize.instances import read_instance

    worker_peaks: list[float] = []
    worker_cpu = 0.0
    setup_s = 0.0
    if workers == 0:
        instance = read_instance(path)
        started = time.perf_counter()
        # Plain PyVRP on one core (not doorstep's search, which would take both cores).
        solution = pyvrp_alone(instance, time_limit, seed)
    else:
        from doorstep.cluster import open_client, runner_on

        started = time.perf_counter()
        # The workers start before the instance is read: a process's peak memory survives
        # fork and exec, so workers started later would report the reader's peak as theirs.
        with open_client(workers=workers) as client:
            setup_s = time.perf_counter() - started
            instance = read_instance(path)
            started = time.perf_counter()
            run = runner_on(client)
            solution = solve_instance(instance, "pyvrp", time_limit, seed, workers=workers, run=run)
            for peak, cpu in client.run(_rusage).values():
                worker_peaks.append(peak)
                worker_cpu += cpu
    wall = time.perf_counter() - started
    report = check(instance.problem, solution)
    distance = instance.distance(solution)
    bks = best_known(path)
    peak, cpu = _rusage()
    return {
        "instance": instance.name,
        "clients": len(instance.problem.jobs),
        "solver": "PyVRP alone, 1 core" if workers == 0 else f"doorstep, {workers} workers",
        "engine": solution.engine,
        "time_limit_s": time_limit,
        "wall_s": round(wall, 1),
        "cluster_start_s": round(setup_s, 1),
        "cpu_s": round(cpu + worker_cpu, 1),
        "distance": distance,
        "bks": bks.distance if bks else None,
        "gap_pct": None if bks is None else 100 * (distance - bks.distance) / bks.distance,
        "routes": len(solution.routes),
        # Improving rounds after the first (the decomposition), parts whose routes got cheaper.
        "rounds": int(solution.stats.get("rounds", 0)),
        "parts_improved": int(solution.stats.get("parts_improved", 0)),
        "feasible": report.feasible,
        "complete": report.complete,
        "peak_mb_main": round(peak),
        "peak_mb_workers": [round(p) for p in worker_peaks],
    }


def generate(clients: int, seed: int) -> Path:
    """A CVRP file of ``clients`` stops spread over a city around a central depot (more of
    them near the centre), 1 to 10 parcels each, vans of 100: no best-known."""
    import numpy as np

    rng = np.random.default_rng(seed)
    radius = 20_000 * np.sqrt(rng.uniform(0, 1, clients)) * rng.uniform(0.3, 1, clients)
    angle = rng.uniform(0, 2 * np.pi, clients)
    xy = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]).round() + 25_000
    demand = rng.integers(1, 11, clients)
    path = RESULTS.parent / f"city{clients}.vrp"
    lines = [f"NAME : city{clients}", "TYPE : CVRP", f"DIMENSION : {clients + 1}"]
    lines += ["EDGE_WEIGHT_TYPE : EUC_2D", "CAPACITY : 100", "NODE_COORD_SECTION"]
    lines += ["1 25000 25000", *(f"{i + 2} {x:.0f} {y:.0f}" for i, (x, y) in enumerate(xy))]
    lines += ["DEMAND_SECTION", "1 0", *(f"{i + 2} {d}" for i, d in enumerate(demand))]
    lines += ["DEPOT_SECTION", "1", "-1", "EOF"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="Leuven1")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", default="2", help="comma-separated worker counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate", type=int, default=None, help="a generated city of N")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        args.instance = str(generate(args.generate, args.seed))
    # A name of the XXL set, or a .vrp file's path.
    if args.instance.endswith(".vrp"):
        path = Path(args.instance)
    else:
        path = benchmarks_dir() / "xxl" / f"{args.instance}.vrp"
    if args.one is not None:
        print(json.dumps(one(path, args.time_limit, args.one, args.seed)))
        return
    load = os.getloadavg()
    rows = []
    runs = [int(w) for w in args.workers.split(",")]
    clients = _clients(path)
    if clients + 1 > DENSE_LIMIT:
        # PyVRP alone needs the whole dense matrix (and more for its neighbourhoods): at
        # 30,000 stops it was killed for memory at 23.6 GB of this machine's 24 GiB.
        gigabytes = (clients + 1) ** 2 * 8 / 1e9
        console.print(
            f"PyVRP alone not run: {clients:,} clients need a dense matrix of {gigabytes:.1f} GB"
        )
    else:
        runs.insert(0, 0)
    for workers in runs:
        command = [sys.executable, __file__, "--instance", args.instance]
        command += ["--time-limit", str(args.time_limit), "--seed", str(args.seed)]
        done = subprocess.run(
            [*command, "--one", str(workers)], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    table = Table(
        title=f"{Path(args.instance).stem}: {rows[0]['clients']:,} clients, {args.time_limit:g} s, "
        f"seed {args.seed}",
        caption=f"load average at the start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"on {os.cpu_count()} cores (shared machine: indicative figures)",
    )
    columns = ["solver", "distance", "best-known", "gap %", "routes", "feasible", "rounds"]
    columns += ["parts improved", "wall s"]
    columns += ["cluster start s", "CPU s", "peak MB main", "peak MB workers"]
    for column in columns:
        table.add_column(column, justify="left" if column == "solver" else "right")
    for r in rows:
        table.add_row(
            r["solver"],
            f"{r['distance']:,.0f}",
            "-" if r["bks"] is None else f"{r['bks']:,.0f}",
            "-" if r["gap_pct"] is None else f"{r['gap_pct']:.2f}",
            str(r["routes"]),
            "yes" if r["feasible"] and r["complete"] else "NO",
            str(r["rounds"]) if "decomposition" in r["engine"] else "-",
            str(r["parts_improved"]) if "decomposition" in r["engine"] else "-",
            f"{r['wall_s']:.1f}",
            f"{r['cluster_start_s']:.1f}",
            f"{r['cpu_s']:.1f}",
            str(r["peak_mb_main"]),
            ", ".join(str(p) for p in r["peak_mb_workers"]) or "-",
        )
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"load_average": load, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
