"""When requests leave under each policy, against the same day routed in hindsight.

For each instance: how many epochs each request waited between being revealed and leaving
(the share of requests per wait), and per epoch how many requests left and what their routes
cost per request. Hindsight's routes count in the latest epoch among their requests, the
earliest they can leave (`doorstep.dynamic_dispatch.profile`).

    .venv/bin/python benchmarks/dynamic_profile.py --only a970af9e,d90b135e \
        --epoch-time-limit 15 --hindsight 60 --jobs 2
    .venv/bin/python benchmarks/dynamic_profile.py --only a970af9e --policies greedy,scenario \
        --scenario dispatch_threshold=0.7
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from doorstep.dynamic_dispatch.benchmark_files import DynamicConfig, read_dynamic_configs
from doorstep.dynamic_dispatch.environment import EpochOutcome, epoch_range
from doorstep.dynamic_dispatch.hindsight import hindsight_plan
from doorstep.dynamic_dispatch.ortec_instance import read_ortec_instance
from doorstep.dynamic_dispatch.policies import ScenarioSettings
from doorstep.dynamic_dispatch.profile import (
    DispatchProfile,
    dispatch_profile,
    hindsight_departures,
    release_epochs_of,
    run_departures,
)
from doorstep.dynamic_dispatch.runner import (
    POLICY_NAMES,
    ScenarioSettingError,
    benchmark_policy,
    run_policy,
    scenario_settings,
)

LONGEST_WAIT_COLUMN = 3  # waits of this many epochs or more share one column


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, default=Path("ortec/qualification/configs.json"))
    parser.add_argument("--only", required=True, help="comma-separated instance name fragments")
    parser.add_argument("--epoch-time-limit", type=float, default=15.0)
    parser.add_argument("--policies", default="scenario")
    parser.add_argument("--hindsight", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--jobs", type=int, default=1, help="instances run at once (one per core)")
    parser.add_argument("--scenario", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        settings = scenario_settings(args.scenario)
    except ScenarioSettingError as error:
        parser.error(f"--scenario {error}")
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICY_NAMES]
    if unknown:
        parser.error(f"unknown policies {unknown}; choose from {POLICY_NAMES}")
    if args.hindsight <= 0:
        parser.error(f"--hindsight {args.hindsight:g}: give the seconds, more than 0")
    fragments = args.only.split(",")
    configs = [
        c
        for c in read_dynamic_configs(args.configs)
        if any(f in c.instance.name for f in fragments)
    ]
    if not configs:
        parser.error(f"--only {args.only}: no instance of {args.configs} matches")

    work = [(c, policies, args.epoch_time_limit, settings, args.hindsight) for c in configs]
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(pool.map(_profiles, *zip(*work, strict=True)))
    console = Console(width=None if sys.stdout.isatty() else 160)
    for config, profiles in zip(configs, results, strict=True):
        console.print(_table(config, profiles, args.epoch_time_limit, args.hindsight))
    return 0


def _profiles(
    config: DynamicConfig,
    policies: list[str],
    epoch_time_limit: float,
    settings: ScenarioSettings,
    hindsight: float,
) -> dict[str, DispatchProfile]:
    instance = read_ortec_instance(config.instance)
    plan = hindsight_plan(instance, seed=config.seed, time_limit=hindsight)
    release_epochs = release_epochs_of(plan)
    first = epoch_range(instance).start
    profiles: dict[str, DispatchProfile] = {}
    for name in policies:
        outcomes: list[EpochOutcome] = []
        run_policy(
            instance,
            benchmark_policy(name, instance, settings),
            seed=config.seed,
            epoch_time_limit=epoch_time_limit,
            on_epoch=outcomes.append,
        )
        profiles[name] = dispatch_profile(run_departures(outcomes, first), release_epochs)
    profiles["hindsight"] = dispatch_profile(hindsight_departures(plan), release_epochs)
    return profiles


def _table(
    config: DynamicConfig,
    profiles: dict[str, DispatchProfile],
    epoch_time_limit: float,
    hindsight: float,
) -> Table:
    name = config.instance.name.removeprefix("ORTEC-VRPTW-ASYM-").removesuffix(".txt")
    table = Table(
        title=f"{name}, seed {config.seed}: {epoch_time_limit:g} s per epoch, "
        f"hindsight {hindsight:g} s; per epoch: requests that left, cost per request"
    )
    table.add_column("policy")
    table.add_column("cost", justify="right")
    for wait in range(LONGEST_WAIT_COLUMN + 1):
        plus = "+" if wait == LONGEST_WAIT_COLUMN else ""
        table.add_column(f"waited {wait}{plus}", justify="right")
    epochs = max(len(p.epochs) for p in profiles.values())
    for epoch in range(epochs):
        table.add_column(f"epoch {epoch}", justify="right")
    for policy, profile in profiles.items():
        shares = [profile.share_waited(wait) for wait in range(LONGEST_WAIT_COLUMN)]
        shares.append(profile.share_waiting(LONGEST_WAIT_COLUMN))
        loads = [
            f"{load.requests} / {load.cost_per_request:,.0f}" if load.requests else "–"
            for load in profile.epochs
        ]
        loads += ["–"] * (epochs - len(loads))
        table.add_row(policy, f"{profile.cost:,}", *(f"{share:.0%}" for share in shares), *loads)
    return table


if __name__ == "__main__":
    raise SystemExit(main())
