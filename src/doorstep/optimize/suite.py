"""Run benchmark instances and compare them with the best-known solutions of their folder."""

from __future__ import annotations

import csv
import os
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pyvrp
from pyvrp.stop import MaxRuntime

from doorstep.optimize.checker import check
from doorstep.optimize.decomposition import Runner, decomposable, in_turn, solve_decomposed
from doorstep.optimize.engines.base import EnginePlan
from doorstep.optimize.engines.pyvrp_engine import _routes, to_problem_data, vehicles_first
from doorstep.optimize.errors import ProblemError
from doorstep.optimize.instances import (
    BenchmarkInstance,
    Convention,
    is_instance_file,
    read_instance,
    vrptw,
    write_solution,
)
from doorstep.optimize.lazy_matrix import RoundedEuclidean
from doorstep.optimize.solution import Solution
from doorstep.optimize.solve import assemble, solve

ENV_BENCHMARKS = "DOORSTEP_BENCHMARKS_DIR"


def benchmarks_dir() -> Path:
    """Shared benchmark data: ``$DOORSTEP_BENCHMARKS_DIR`` or ``../shared/benchmarks``
    next to the repository."""
    if value := os.environ.get(ENV_BENCHMARKS):
        return Path(value)
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "benchmarks"


@dataclass(frozen=True)
class BestKnown:
    vehicles: int | None
    distance: float


@dataclass(frozen=True)
class InstanceResult:
    instance: str
    engine: str
    convention: str
    vehicles: int
    distance: float  # as the literature counts it
    objective: int  # our objective, integer matrix units / cents
    feasible: bool  # by our checker
    complete: bool  # every required job served
    unassigned: int
    runtime_s: float
    #: Wall time of the whole call, start of worker processes included (≤ limit + 1 s).
    wall_s: float
    time_limit: float
    seed: int
    cores: int | None  # solver cores asked for (None: the machine's default)
    bks_vehicles: int | None
    bks_distance: float | None
    gap_pct: float | None  # distance gap to best-known (Li & Lim: only with equal vehicles)


def find_instances(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_instance_file(p))


def _read_cost(path: Path) -> BestKnown | None:
    routes, cost = 0, None
    for line in path.read_text().splitlines():
        if line.lower().startswith("route"):
            routes += 1
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return None if cost is None else BestKnown(routes or None, cost)


def _instance_stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".txt", ".vrp"):
        name = name.removesuffix(suffix)
    return name


def best_known(path: Path) -> BestKnown | None:
    """The best-known solution stored next to an instance: a ``.sol`` file with the same
    name, else a ``bks.csv`` row in its folder or the folder above."""
    sol = path.with_name(_instance_stem(path) + ".sol")
    if sol.is_file():
        return _read_cost(sol)
    stem = _instance_stem(path).lower()
    for table in (path.parent / "bks.csv", path.parent.parent / "bks.csv"):
        if not table.is_file():
            continue
        with table.open() as handle:
            for row in csv.DictReader(handle):
                if row.get("instance", "").lower() == stem:
                    distance = row.get("distance_dimacs") or row.get("distance")
                    routes = row.get("routes")
                    if distance:
                        return BestKnown(int(routes) if routes else None, float(distance))
    return None


def gap(
    instance: BenchmarkInstance,
    vehicles: int,
    distance: float,
    bks: BestKnown | None,
    complete: bool = True,
) -> float | None:
    """Per cent above the best-known; None where there is none to compare with, or the plan
    leaves stops out (it would read as shorter than the best-known: an empty one, -100 %)."""
    if bks is None or not complete:
        return None
    if instance.convention is Convention.VEHICLES_THEN_DISTANCE and vehicles != bks.vehicles:
        return None
    return 100.0 * (distance - bks.distance) / bks.distance


#: Stops above which PyVRP solves an instance in parts unless told how (`in_parts_by_default`).
WHOLE_AT_MOST = 1_000


def in_parts_by_default(instance: BenchmarkInstance, engine: str) -> bool:
    """Whether PyVRP, given no ``workers``, solves ``instance`` in parts in this process.

    Above `WHOLE_AT_MOST` stops the parts were better at every limit measured, and a whole
    solve could not keep a short one: its start alone (PyVRP's data, neighbourhood and a
    first local search from a random plan) took 2 s on Leuven2's 4,000 stops and 4 s on
    Antwerp1's 6,000, so a 1 s call ran 2 to 4 s (docs/optimize.md). Only where the parts'
    model holds (`decomposable`) and the objective does not rank vehicles first: the parts
    do not minimise the fleet."""
    return (
        engine == "pyvrp"
        and instance.positions is not None
        and len(instance.problem.jobs) > WHOLE_AT_MOST
        and decomposable(instance.problem)
        and not vehicles_first(instance.problem)
    )


def solve_instance(
    instance: BenchmarkInstance,
    engine: str,
    time_limit: float,
    seed: int = 1,
    *,
    workers: int | None = None,
    run: Runner = in_turn,
    cores: int | None = None,
    whole: bool = False,
) -> Solution:
    """The engine on the whole instance, its search on ``cores`` cores (`solve`); with
    ``workers``, PyVRP on sub-problems, ``workers`` at a time by ``run``
    (`optimize.decomposition`), when the instance gives its stops' positions. Given no
    ``workers``, a large instance is still solved in parts, one at a time in this process
    on ``cores`` cores (`in_parts_by_default`), unless ``whole``."""
    positions = instance.positions
    asked = workers is not None or (not whole and in_parts_by_default(instance, engine))
    if asked and positions is not None:
        return solve_decomposed(
            instance.problem,
            positions,
            time_limit=time_limit,
            seed=seed,
            workers=workers or 1,
            run=run,
            cores=cores,
        )
    locations = len(instance.problem.locations)
    lazy = isinstance(instance.problem.distances, RoundedEuclidean)
    if lazy and locations > vrptw.DENSE_LIMIT:
        raise ProblemError(
            "distances",
            f"{locations:,} locations are too many to solve whole (its dense matrix would take "
            f"{locations**2 * 8 / 1e9:.1f} GB): solve it in parts (--workers N, or PyVRP "
            "without --whole)",
        )
    return solve(instance.problem, engine=engine, time_limit=time_limit, seed=seed, workers=cores)


def pyvrp_alone(instance: BenchmarkInstance, time_limit: float, seed: int) -> Solution:
    """Plain PyVRP on one core: the same model doorstep builds, its default search."""
    started = time.perf_counter()
    data, mapping = to_problem_data(instance.problem, soften_required=False)
    result = pyvrp.solve(data, MaxRuntime(time_limit), seed=seed, collect_stats=False)
    plan = EnginePlan(routes=_routes(result.best, mapping))
    runtime = time.perf_counter() - started
    return assemble(instance.problem, plan, {}, "pyvrp-1", runtime, seed)


def run_instance(
    path: str,
    engine: str,
    time_limit: float,
    seed: int = 1,
    solution_out: str | None = None,
    *,
    workers: int | None = None,
    run: Runner = in_turn,
    cores: int | None = None,
    whole: bool = False,
) -> InstanceResult:
    """Solve one instance file (`solve_instance`) and check the result (a top-level
    function, so worker processes can run it)."""
    # Solved in parts, only the parts' matrices are needed: none of the whole is built (a
    # CVRP file PyVRP solves whole builds its dense matrix as the search starts).
    instance = read_instance(path, in_parts=workers is not None or engine == "pyvrp")
    started = time.perf_counter()
    solution = solve_instance(
        instance, engine, time_limit, seed, workers=workers, run=run, cores=cores, whole=whole
    )
    wall = time.perf_counter() - started
    report = check(instance.problem, solution)
    if solution_out:
        write_solution(solution_out, instance, solution)
    distance = instance.distance(solution)
    bks = best_known(Path(path))
    return InstanceResult(
        instance=instance.name,
        engine=solution.engine,
        convention=str(instance.convention),
        vehicles=solution.num_vehicles,
        distance=round(distance, 4),
        objective=solution.objective,
        feasible=report.feasible,
        complete=report.complete,
        unassigned=len(solution.unassigned),
        runtime_s=round(solution.runtime_s, 2),
        wall_s=round(wall, 2),
        time_limit=time_limit,
        seed=seed,
        cores=cores,
        bks_vehicles=bks.vehicles if bks else None,
        bks_distance=bks.distance if bks else None,
        gap_pct=gap(instance, solution.num_vehicles, distance, bks, report.complete),
    )


def write_csv(path: Path, results: Iterable[InstanceResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(InstanceResult)])
        writer.writeheader()
        for result in results:
            writer.writerow(asdict(result))


@dataclass(frozen=True)
class EngineSummary:
    engine: str
    instances: int
    feasible: int
    complete: int
    #: Over the complete plans only (an empty one would pull the means down); None: none.
    mean_vehicles: float | None
    mean_distance: float | None
    mean_gap_pct: float | None
    gap_count: int  # instances that have a gap (Li & Lim: equal vehicles)
    vehicles_equal_bks: int
    mean_runtime_s: float
    #: The most any call ran past its time limit (wall seconds; the target is ≤ 1).
    max_over_limit_s: float


def summarise(results: Sequence[InstanceResult], engine: str) -> EngineSummary:
    mine = [r for r in results if r.engine == engine]
    gaps = [r.gap_pct for r in mine if r.gap_pct is not None]
    whole = [r for r in mine if r.complete]
    return EngineSummary(
        engine=engine,
        instances=len(mine),
        feasible=sum(r.feasible for r in mine),
        complete=sum(r.complete for r in mine),
        mean_vehicles=statistics.fmean(r.vehicles for r in whole) if whole else None,
        mean_distance=statistics.fmean(r.distance for r in whole) if whole else None,
        mean_gap_pct=statistics.fmean(gaps) if gaps else None,
        gap_count=len(gaps),
        vehicles_equal_bks=sum(r.vehicles == r.bks_vehicles for r in mine),
        mean_runtime_s=statistics.fmean(r.runtime_s for r in mine) if mine else 0.0,
        max_over_limit_s=max((r.wall_s - r.time_limit for r in mine), default=0.0),
    )
