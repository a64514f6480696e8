"""Greedy, lazy and our scenario policy side by side on the ORTEC dynamic benchmark.

Runs every dynamic entry of a `configs.json` (default: the 10 qualification instances with
their seeds) in one process, one policy after another per instance, so the three share the same
machine conditions. Prints a table (three costs and ours ÷ greedy per instance, and the means)
and writes a CSV to benchmarks/results/.

    .venv/bin/python benchmarks/dynamic.py --epoch-time-limit 60            # the full measurement
    .venv/bin/python benchmarks/dynamic.py --epoch-time-limit 60 --jobs 2   # two instances at once
    .venv/bin/python benchmarks/dynamic.py --epoch-time-limit 5 --limit 3   # a short run
    .venv/bin/python benchmarks/dynamic.py --policies scenario --only e46f81b5 \
        --scenario dispatch_threshold=0.35                                  # try a setting
    .venv/bin/python benchmarks/dynamic.py --policies greedy,scenario --hindsight 120

``--hindsight S`` adds the day in hindsight (every request known up front, none served before it
is revealed; `doorstep.dynamic_dispatch.hindsight`), routed in S seconds: what greedy leaves
to win, and how much of it ours found (the share of the gap column). Its CSV rows give the
hindsight seconds, for the whole day, in the `epoch_time_limit` column.

Every epoch's decision is a call with the epoch's time limit: the table's last column is the
slowest epoch of the instance's policies, and a line under it says whether every epoch of
every run kept its limit plus one second.

With ``--jobs 2`` two instances run at once, one per core; the three policies of an instance
still run one after another in the same process. Each finished run is written to the CSV at
once, so a run that is cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from doorstep.dynamic_dispatch.benchmark_files import DynamicConfig, read_dynamic_configs
from doorstep.dynamic_dispatch.hindsight import hindsight_cost
from doorstep.dynamic_dispatch.ortec_instance import read_ortec_instance
from doorstep.dynamic_dispatch.policies import ScenarioSettings
from doorstep.dynamic_dispatch.runner import (
    POLICY_NAMES,
    ScenarioSettingError,
    benchmark_policy,
    run_policy,
    scenario_settings,
)

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE, OURS, HINDSIGHT = "greedy", "scenario", "hindsight"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, default=Path("ortec/qualification/configs.json"))
    parser.add_argument("--epoch-time-limit", type=float, default=60.0)
    parser.add_argument("--policies", default="greedy,lazy,scenario")
    parser.add_argument("--limit", type=int, default=None, help="only the first N instances")
    parser.add_argument("--only", default=None, help="comma-separated instance name fragments")
    parser.add_argument("--jobs", type=int, default=1, help="instances run at once (one per core)")
    parser.add_argument(
        "--hindsight",
        type=float,
        default=None,
        metavar="SECONDS",
        help="also route each day in hindsight, every request known, for SECONDS",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario policy setting other than its default (ScenarioSettings), repeatable",
    )
    args = parser.parse_args(argv)
    try:
        settings = scenario_settings(args.scenario)
    except ScenarioSettingError as error:
        parser.error(f"--scenario {error}")
    if args.scenario:
        print(f"scenario settings: {settings}", file=sys.stderr)

    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICY_NAMES]
    if unknown:
        parser.error(f"unknown policies {unknown}; choose from {POLICY_NAMES}")
    if args.hindsight is not None and args.hindsight <= 0:
        parser.error(f"--hindsight {args.hindsight:g}: give the seconds, more than 0")
    configs = read_dynamic_configs(args.configs)
    if args.only:
        fragments = args.only.split(",")
        configs = [c for c in configs if any(f in c.instance.name for f in fragments)]
    if args.limit is not None:
        configs = configs[: args.limit]

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    csv_path = RESULTS / f"dynamic-{args.epoch_time_limit:g}s-{stamp}.csv"
    console = Console(stderr=True)
    costs: dict[str, dict[str, int]] = {}
    slowest: dict[str, float] = {}
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "instance",
                "seed",
                "policy",
                "epoch_time_limit",
                "requests",
                "total_cost",
                "seconds",
                "slowest_epoch_s",
            ]
        )
        runs = _runs(configs, policies, args.epoch_time_limit, args.jobs, settings, args.hindsight)
        for run in runs:
            name, seed, policy, total_cost, seconds = run[0], run[1], run[2], run[5], run[6]
            costs.setdefault(str(name), {})[str(policy)] = int(total_cost)
            if policy != HINDSIGHT:
                epoch = float(run[7])
                slowest[str(name)] = max(slowest.get(str(name), 0.0), epoch)
            writer.writerow(run)
            handle.flush()
            console.print(
                f"{name} seed {seed} {policy}: {int(total_cost):,} ({seconds} s, "
                f"slowest epoch {run[7]} s)"
            )

    columns = [*policies, *([HINDSIGHT] if args.hindsight is not None else [])]
    # Wide enough for every column when the table goes to a log rather than a terminal.
    out = Console(width=None if sys.stdout.isatty() else 160)
    out.print(_table(costs, slowest, columns, args.epoch_time_limit))
    if slowest:
        most = max(slowest.values())
        kept = "yes" if most <= args.epoch_time_limit + 1 else "NO"
        out.print(
            f"every epoch within its limit + 1 s: {kept} (the slowest took {most:.2f} s "
            f"of {args.epoch_time_limit:g} s)"
        )
    print(f"CSV: {csv_path}", file=sys.stderr)
    return 0


def _table(
    costs: dict[str, dict[str, int]],
    slowest: dict[str, float],
    columns: list[str],
    epoch_time_limit: float,
) -> Table:
    """Costs per instance and their means; with greedy, ours and hindsight, how they compare;
    and the slowest epoch of each instance's policies."""
    table = Table(title=f"ORTEC dynamic, {epoch_time_limit:g} s per epoch")
    table.add_column("instance", no_wrap=True)
    for name in columns:
        table.add_column(name, justify="right")
    ratio_columns = [
        (label, ratio)
        for label, needs, ratio in (
            (f"{OURS} ÷ {BASELINE}", (OURS, BASELINE), _ours_to_greedy),
            (f"{HINDSIGHT} ÷ {BASELINE}", (HINDSIGHT, BASELINE), _hindsight_to_greedy),
            ("gap found", (OURS, BASELINE, HINDSIGHT), _gap_found),
        )
        if all(name in columns for name in needs)
    ]
    for label, _ in ratio_columns:
        table.add_column(label, justify="right")
    table.add_column("slowest epoch s", justify="right")
    for instance_name, row in costs.items():
        cells = [f"{row[name]:,}" for name in columns]
        cells += [f"{ratio(row):.3f}" for _, ratio in ratio_columns]
        epoch = slowest.get(instance_name)
        cells.append("-" if epoch is None else f"{epoch:.2f}")
        table.add_row(instance_name.removeprefix("ORTEC-VRPTW-ASYM-"), *cells)
    table.add_section()
    rows = list(costs.values())
    means = [f"{sum(r[name] for r in rows) / len(rows):,.0f}" for name in columns]
    mean_ratios = [f"{sum(ratio(r) for r in rows) / len(rows):.3f}" for _, ratio in ratio_columns]
    table.add_row("mean", *means, *mean_ratios, "")
    return table


def _ours_to_greedy(row: dict[str, int]) -> float:
    return row[OURS] / row[BASELINE]


def _hindsight_to_greedy(row: dict[str, int]) -> float:
    return row[HINDSIGHT] / row[BASELINE]


def _gap_found(row: dict[str, int]) -> float:
    """The share of what greedy leaves to win (down to hindsight) that ours won; NaN when
    hindsight found nothing cheaper than greedy, so there was no gap to win."""
    gap = row[BASELINE] - row[HINDSIGHT]
    return (row[BASELINE] - row[OURS]) / gap if gap > 0 else float("nan")


Row = list[str | int | float]


def _runs(
    configs: list[DynamicConfig],
    policies: list[str],
    epoch_time_limit: float,
    jobs: int,
    settings: ScenarioSettings,
    hindsight: float | None,
) -> Iterator[Row]:
    """CSV rows as the runs finish: in order with one job, as they come with several."""
    if jobs <= 1:
        for config in configs:
            yield from _instance_rows(config, policies, epoch_time_limit, settings, hindsight)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(_instance_rows, config, policies, epoch_time_limit, settings, hindsight)
            for config in configs
        ]
        for future in as_completed(futures):
            yield from future.result()


def _instance_rows(
    config: DynamicConfig,
    policies: list[str],
    epoch_time_limit: float,
    settings: ScenarioSettings,
    hindsight: float | None,
) -> list[Row]:
    instance = read_ortec_instance(config.instance)
    rows: list[Row] = []
    for name in policies:
        started = time.monotonic()
        result = run_policy(
            instance,
            benchmark_policy(name, instance, settings),
            seed=config.seed,
            epoch_time_limit=epoch_time_limit,
        )
        seconds = time.monotonic() - started
        rows.append(
            [
                instance.name,
                config.seed,
                name,
                epoch_time_limit,
                result.requests,
                result.total_cost,
                f"{seconds:.1f}",
                f"{max(epoch.seconds for epoch in result.epochs):.2f}",
            ]
        )
    if hindsight is not None:
        started = time.monotonic()
        day = hindsight_cost(instance, seed=config.seed, time_limit=hindsight)
        seconds = time.monotonic() - started
        # Its time limit is for the whole day, not per epoch.
        rows.append(
            [
                instance.name,
                config.seed,
                HINDSIGHT,
                hindsight,
                day.requests,
                day.total_cost,
                f"{seconds:.1f}",
                "",
            ]
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
