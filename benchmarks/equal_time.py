"""doorstep on 2 cores against PyVRP alone on 1 core, at equal wall time, per suite.

For every chosen instance and seed, back to back in this process: PyVRP alone (a plain
``pyvrp.solve`` on one core of the same PyVRP model doorstep builds, stopped by
``MaxRuntime(limit)``), then doorstep's ``solve(..., time_limit=limit, workers=CORES)`` (its
whole call, worker start-up included, within the limit).  Both are read the way the literature
reads the instance (DIMACS distance, vehicles then distance, ORTEC duration) and checked by our
independent checker. A table per suite: seed 1 side by side, the spread over the seeds, the
verdict (doorstep ≤ PyVRP at seed 1, or a tie within the seeds' spread, else behind) and the
most doorstep's wall time ran past its limit. Load averages are printed before and after each
suite: on a shared machine doorstep's cores are not free, and the tables say so.

    .venv/bin/python benchmarks/equal_time.py --time-limit 10 --per-suite 2 --seeds 1,2,3
    # the long quiet run (96 instances: 10 a suite, ORTEC's 5 train and 1 test; x 5 seeds
    # x 2 solvers x 60 s = about 16 h):
    nohup .venv/bin/python benchmarks/equal_time.py --time-limit 60 --per-suite 10 \\
        --seeds 1,2,3,4,5 > benchmarks/results/equal_time.out 2>&1 &
    .venv/bin/python benchmarks/equal_time.py --suites gh-r1 --instances R1_2_1,R1_2_5

CSV (one row per instance, seed and solver) goes to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from doorstep.optimize.checker import check
from doorstep.optimize.engines import pyvrp_search
from doorstep.optimize.instances import BenchmarkInstance, Convention, read_instance
from doorstep.optimize.solve import solve
from doorstep.optimize.suite import benchmarks_dir, best_known, find_instances, pyvrp_alone

#: Suites: folder under the benchmark root, and the file-name prefixes of the subset.
SUITES: dict[str, tuple[str, tuple[str, ...]]] = {
    # Gehring & Homberger 200, one suite a family (the routing-quality check names R1 and RC2).
    "gh-r1": ("gehring_homberger/GH200", ("R1_2_",)),
    "gh-rc2": ("gehring_homberger/GH200", ("RC2_2_",)),
    "gh-c1": ("gehring_homberger/GH200", ("C1_2_",)),
    "gh-c2": ("gehring_homberger/GH200", ("C2_2_",)),
    "gh-r2": ("gehring_homberger/GH200", ("R2_2_",)),
    "gh-rc1": ("gehring_homberger/GH200", ("RC1_2_",)),
    "lilim": ("li_lim/pdp_100", ("lr1", "lrc2", "lc1", "lr2", "lrc1", "lc2")),
    "ortec": ("ortec/train_sample", ("ORTEC",)),
    # The organisers' qualification and test instances, each also run as a static problem.
    "ortec-qualification": ("ortec/qualification", ("ORTEC",)),
    "ortec-test": ("ortec/test", ("ORTEC",)),
    "solomon": ("solomon", ("R1", "RC2", "RC1", "R2", "C1", "C2")),
}
console = Console(width=200)


@dataclass(frozen=True)
class Run:
    suite: str
    instance: str
    solver: str  # "pyvrp-1" or "doorstep-N"
    seed: int
    vehicles: int
    distance: float  # as the literature counts it
    feasible: bool  # by our checker, and every required job served
    wall_s: float
    time_limit: float
    load_1m: float


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def _measure(
    suite: str, instance: BenchmarkInstance, solver: str, time_limit: float, seed: int, cores: int
) -> Run:
    started = time.perf_counter()
    if solver == "pyvrp-1":
        solution = pyvrp_alone(instance, time_limit, seed)
    else:
        # "-indep": the same searches without sharing their best plan (one round each).
        rounds = (pyvrp_search.MIN_ROUND_S, pyvrp_search.MAX_ROUND_S)
        if solver.endswith("-indep"):
            pyvrp_search.MIN_ROUND_S = pyvrp_search.MAX_ROUND_S = math.inf
        try:
            solution = solve(
                instance.problem, engine="pyvrp", time_limit=time_limit, seed=seed, workers=cores
            )
        finally:
            pyvrp_search.MIN_ROUND_S, pyvrp_search.MAX_ROUND_S = rounds
    wall = time.perf_counter() - started
    report = check(instance.problem, solution)
    return Run(
        suite=suite,
        instance=instance.name,
        solver=solver,
        seed=seed,
        vehicles=solution.num_vehicles,
        distance=round(instance.distance(solution), 4),
        feasible=report.feasible and report.complete,
        wall_s=round(wall, 3),
        time_limit=time_limit,
        load_1m=round(os.getloadavg()[0], 2),
    )


def _key(run: Run, convention: Convention) -> tuple[int, int, float]:
    """What the instance's literature minimises: infeasible last, then vehicles where they
    count first, then distance."""
    vehicles = run.vehicles if convention is Convention.VEHICLES_THEN_DISTANCE else 0
    return (0 if run.feasible else 1, vehicles, run.distance)


def _fmt(run: Run, convention: Convention) -> str:
    text = f"{run.distance:,.1f}" if run.feasible else f"{run.distance:,.1f} ✗"
    if convention is Convention.VEHICLES_THEN_DISTANCE:
        return f"{run.vehicles} / {text}"
    return text


def _gap(run: Run, bks: tuple[int | None, float] | None, convention: Convention) -> float | None:
    if bks is None or not run.feasible:
        return None
    vehicles, distance = bks
    if convention is Convention.VEHICLES_THEN_DISTANCE and run.vehicles != vehicles:
        return None
    return 100.0 * (run.distance - distance) / distance


def _spread(runs: list[Run], convention: Convention) -> str:
    if len(runs) < 2:
        return "-"
    ordered = sorted(runs, key=lambda run: _key(run, convention))
    return f"{_fmt(ordered[0], convention)} – {_fmt(ordered[-1], convention)}"


def _verdict(mine: list[Run], theirs: list[Run], convention: Convention) -> str:
    """doorstep ≤ PyVRP at seed 1; else a tie if doorstep's best over the seeds is no worse
    than PyVRP's worst (the spreads overlap); else behind."""
    first = min(r.seed for r in mine)
    ours = next(r for r in mine if r.seed == first)
    alone = next(r for r in theirs if r.seed == first)
    if _key(ours, convention) <= _key(alone, convention):
        return "[green]≤[/green]"
    best_ours = min(_key(r, convention) for r in mine)
    worst_alone = max(_key(r, convention) for r in theirs)
    if len(mine) > 1 and best_ours <= worst_alone:
        return "[yellow]tie (spread)[/yellow]"
    return "[red]behind[/red]"


def suite_table(
    suite: str, runs: list[Run], instances: dict[str, BenchmarkInstance], cores: int
) -> Table:
    limit = runs[0].time_limit
    table = Table(title=f"{suite}: PyVRP alone (1 core) vs doorstep ({cores} cores), {limit:g} s")
    for column in (
        "instance",
        "BKS",
        "PyVRP s1",
        f"doorstep×{cores} s1",
        "Δ s1 %",
        "PyVRP seeds min–max",
        "doorstep seeds min–max",
        "verdict",
        "doorstep wall − limit s",
    ):
        table.add_column(column, justify="right")
    gaps: dict[str, list[float]] = {"pyvrp-1": [], f"doorstep-{cores}": []}
    for name in dict.fromkeys(r.instance for r in runs):
        instance = instances[name]
        convention = instance.convention
        theirs = sorted((r for r in runs if r.instance == name and r.solver == "pyvrp-1"),
                        key=lambda r: r.seed)  # fmt: skip
        mine = sorted((r for r in runs if r.instance == name and r.solver == f"doorstep-{cores}"),
                      key=lambda r: r.seed)  # fmt: skip
        if not theirs or not mine:
            continue
        known = best_known(Path(instance.path))
        bks = (known.vehicles, known.distance) if known else None
        for run in (*theirs[:1], *mine[:1]):
            gap = _gap(run, bks, convention)
            if gap is not None:
                gaps[run.solver].append(gap)
        delta = 100.0 * (mine[0].distance - theirs[0].distance) / theirs[0].distance

        table.add_row(
            name,
            "-" if bks is None else (f"{bks[0]} / " if bks[0] else "") + f"{bks[1]:,.1f}",
            _fmt(theirs[0], convention),
            _fmt(mine[0], convention),
            f"{delta:+.2f}",
            _spread(theirs, convention),
            _spread(mine, convention),
            _verdict(mine, theirs, convention),
            f"{max(r.wall_s - r.time_limit for r in mine):+.2f}",
        )
    summary = "; ".join(
        f"{solver} mean gap to BKS {statistics.fmean(values):+.2f} % (n={len(values)})"
        for solver, values in gaps.items()
        if values
    )
    means = "; ".join(
        f"{solver} mean {statistics.fmean(r.distance for r in runs if r.solver == solver):,.1f}"
        for solver in dict.fromkeys(r.solver for r in runs)
    )
    table.caption = (summary or "no best-known to compare with") + f"\nover every seed: {means}"
    return table


def _choose(suite: str, per_suite: int, names: set[str] | None) -> list[Path]:
    folder, prefixes = SUITES[suite]
    paths = find_instances(benchmarks_dir() / folder)
    if names:
        # Only the suite's own families: gh-r1 and gh-rc2 share a folder, and each took
        # the other's named instances too (every one ran twice).
        return [p for p in paths if p.name.split(".")[0] in names and p.name.startswith(prefixes)]
    # Round-robin over the families, so a short run still sees each of them.
    by_prefix = [[p for p in paths if p.name.startswith(prefix)] for prefix in prefixes]
    for group, prefix in zip(by_prefix, prefixes, strict=True):
        # "R1" also matches "RC1…": keep each family to itself.
        group[:] = [p for p in group if not any(
            len(other) > len(prefix) and p.name.startswith(other) for other in prefixes
        )]  # fmt: skip
    chosen: list[Path] = []
    while len(chosen) < per_suite and any(by_prefix):
        for group in by_prefix:
            if group and len(chosen) < per_suite:
                chosen.append(group.pop(0))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", default=",".join(SUITES), help="comma-separated")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated; the first is 'seed 1'")
    parser.add_argument("--per-suite", type=int, default=2, help="instances per suite")
    parser.add_argument("--instances", default="", help="only these instance names")
    parser.add_argument("--cores", type=int, default=2, help="doorstep's cores")
    parser.add_argument(
        "--independent",
        action="store_true",
        help="also doorstep's searches without sharing their best plan (in the CSV and means)",
    )
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = {n.strip() for n in args.instances.split(",") if n.strip()} or None
    suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.csv or Path("benchmarks/results") / f"equal_time-{args.time_limit:g}s-{stamp}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    doorstep = f"doorstep-{args.cores}"
    solvers = ["pyvrp-1", doorstep] + ([f"{doorstep}-indep"] if args.independent else [])
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        parser.error(f"--suites: no suite {', '.join(unknown)} (there are {', '.join(SUITES)})")
    plan = [(suite, path) for suite in suites for path in _choose(suite, args.per_suite, names)]
    missing = sorted((names or set()) - {path.name.split(".")[0] for _, path in plan})
    if missing:
        parser.error(f"--instances: {', '.join(missing)} not in the suites {', '.join(suites)}")
    console.print(
        f"{len(plan)} instances x {len(seeds)} seeds x {len(solvers)} solvers x "
        f"{args.time_limit:g} s (about "
        f"{len(plan) * len(seeds) * len(solvers) * args.time_limit / 60:.0f} min); {_load()}"
    )
    runs: list[Run] = []
    instances: dict[str, BenchmarkInstance] = {}
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(Run.__dataclass_fields__))
        writer.writeheader()
        for suite in suites:
            paths = [p for s, p in plan if s == suite]
            if not paths:
                continue
            console.print(f"[bold]{suite}[/bold] starts: {_load()}")
            mine: list[Run] = []
            with progress:
                task = progress.add_task(suite, total=len(paths) * len(seeds) * len(solvers))
                for path in paths:
                    instance = read_instance(path)
                    instances[instance.name] = instance
                    for seed in seeds:
                        # Back to back, PyVRP alone first, under the same conditions.
                        for solver in solvers:
                            progress.update(task, description=f"{suite} {instance.name} {solver}")
                            run = _measure(
                                suite, instance, solver, args.time_limit, seed, args.cores
                            )
                            mine.append(run)
                            writer.writerow(asdict(run))
                            handle.flush()
                            progress.advance(task)
                progress.remove_task(task)
            runs += mine
            console.print(suite_table(suite, mine, instances, args.cores))
            console.print(f"{suite} ends: {_load()}")
    console.print(f"CSV: {out}")


if __name__ == "__main__":
    main()
