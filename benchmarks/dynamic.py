"""Greedy, lazy and our scenario policy side by side on the ORTEC dynamic benchmark.

Runs every dynamic entry of a `configs.json` (default: the 10 qualification instances with
their seeds) in one process, one policy after another per instance, so the three share the same
machine conditions. Prints a table (three costs and ours ÷ greedy per instance, and the means)
and writes a CSV to benchmarks/results/.

    .venv/bin/python benchmarks/dynamic.py --epoch-time-limit 60            # the full measurement
    .venv/bin/python benchmarks/dynamic.py --epoch-time-limit 5 --limit 3   # a short run
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from doorstep.dispatch.benchmark_files import read_dynamic_configs
from doorstep.dispatch.ortec_instance import read_ortec_instance
from doorstep.dispatch.runner import POLICY_NAMES, benchmark_policy, run_policy

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE, OURS = "greedy", "scenario"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, default=Path("ortec/qualification/configs.json"))
    parser.add_argument("--epoch-time-limit", type=float, default=60.0)
    parser.add_argument("--policies", default="greedy,lazy,scenario")
    parser.add_argument("--limit", type=int, default=None, help="only the first N instances")
    parser.add_argument("--only", default=None, help="comma-separated instance name fragments")
    args = parser.parse_args(argv)

    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICY_NAMES]
    if unknown:
        parser.error(f"unknown policies {unknown}; choose from {POLICY_NAMES}")
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
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["instance", "seed", "policy", "epoch_time_limit", "requests", "total_cost", "seconds"]
        )
        for config in configs:
            instance = read_ortec_instance(config.instance)
            costs[instance.name] = {}
            for name in policies:
                started = time.monotonic()
                result = run_policy(
                    instance,
                    benchmark_policy(name, instance),
                    seed=config.seed,
                    epoch_time_limit=args.epoch_time_limit,
                )
                seconds = time.monotonic() - started
                costs[instance.name][name] = result.total_cost
                writer.writerow(
                    [
                        instance.name,
                        config.seed,
                        name,
                        args.epoch_time_limit,
                        result.requests,
                        result.total_cost,
                        f"{seconds:.1f}",
                    ]
                )
                handle.flush()
                console.print(
                    f"{instance.name} seed {config.seed} {name}: {result.total_cost:,}"
                    f" ({seconds:.0f} s)"
                )

    table = Table(title=f"ORTEC dynamic, {args.epoch_time_limit:g} s per epoch")
    table.add_column("instance", no_wrap=True)
    for name in policies:
        table.add_column(name, justify="right")
    compare = BASELINE in policies and OURS in policies
    if compare:
        table.add_column(f"{OURS} ÷ {BASELINE}", justify="right")
    ratios: list[float] = []
    for instance_name, row in costs.items():
        cells = [f"{row[name]:,}" for name in policies]
        if compare:
            ratio = row[OURS] / row[BASELINE]
            ratios.append(ratio)
            cells.append(f"{ratio:.3f}")
        table.add_row(instance_name.removeprefix("ORTEC-VRPTW-ASYM-"), *cells)
    table.add_section()
    means = [f"{sum(r[name] for r in costs.values()) / len(costs):,.0f}" for name in policies]
    table.add_row("mean", *means, *([f"{sum(ratios) / len(ratios):.3f}"] if compare else []))
    Console().print(table)
    print(f"CSV: {csv_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
