"""Fit the learned "go now" model of the scenario policy on days routed in hindsight.

For each instance of a configs file, one day with a seed no benchmark uses (the file's seed +
``--seed-offset``): ours runs it, and at every epoch where the scenarios vote, each request that
may wait becomes one example (`dispatch_model.FEATURES`), labelled 1 if the day in hindsight
sends it in that epoch (its hindsight route's earliest departure). Prints, per instance, how
well the votes alone and the model fitted without that instance rank hindsight's choice (ROC
AUC), then the model fitted on every day, as the Python to put in `dispatch_model.py`.

    .venv/bin/python benchmarks/dispatch_model.py --jobs 2        # about 15 minutes

The runs are bounded by the clock, so a refit on another machine or day gives weights a little
different.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from doorstep.dynamic_dispatch.benchmark_files import DynamicConfig, read_dynamic_configs
from doorstep.dynamic_dispatch.dispatch_model import (
    FEATURES,
    DispatchModel,
    fit_dispatch_model,
    request_features,
    roc_auc,
)
from doorstep.dynamic_dispatch.environment import epoch_range
from doorstep.dynamic_dispatch.hindsight import hindsight_plan
from doorstep.dynamic_dispatch.ortec_instance import read_ortec_instance
from doorstep.dynamic_dispatch.policies import ScenarioPolicy
from doorstep.dynamic_dispatch.problem import EpochProblem, FloatArray, IntArray
from doorstep.dynamic_dispatch.profile import hindsight_departures
from doorstep.dynamic_dispatch.runner import run_policy
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel

RESULTS = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass(frozen=True)
class Day:
    instance: str
    features: FloatArray
    labels: IntArray


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, default=Path("ortec/qualification/configs.json"))
    parser.add_argument("--seed-offset", type=int, default=1000)
    parser.add_argument("--epoch-time-limit", type=float, default=15.0)
    parser.add_argument("--hindsight", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--jobs", type=int, default=1, help="days run at once (one per core)")
    args = parser.parse_args(argv)
    if args.seed_offset == 0:
        parser.error("--seed-offset 0 would fit on the days the benchmark measures")
    configs = read_dynamic_configs(args.configs)
    work = [
        (dataclasses.replace(c, seed=c.seed + args.seed_offset), args.epoch_time_limit)
        for c in configs
    ]
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        days = list(pool.map(_day, *zip(*work, strict=True), [args.hindsight] * len(work)))

    table = Table(title="How well each ranks hindsight's 'leave now' (ROC AUC, left-out day)")
    for column in ("instance", "examples", "leave now", "votes alone", "model"):
        table.add_column(column, justify="left" if column == "instance" else "right")
    for k, day in enumerate(days):
        others = [d for j, d in enumerate(days) if j != k]
        model = fit_dispatch_model(*_stacked(others))
        table.add_row(
            day.instance,
            str(len(day.labels)),
            f"{day.labels.mean():.0%}",
            f"{roc_auc(day.features[:, 0], day.labels):.3f}",
            f"{roc_auc(model.probability(day.features), day.labels):.3f}",
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)

    model = fit_dispatch_model(*_stacked(days))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"dispatch-model-{stamp}.json"
    path.write_text(json.dumps({"features": FEATURES, **dataclasses.asdict(model)}, indent=2))
    print(_as_python(model))
    print(f"JSON: {path}", file=sys.stderr)
    return 0


def _day(config: DynamicConfig, epoch_time_limit: float, hindsight: float) -> Day:
    """One day's examples: every request that may wait, at every epoch the scenarios vote."""
    instance = read_ortec_instance(config.instance)
    plan = hindsight_plan(instance, seed=config.seed, time_limit=hindsight)
    leaves = {
        request: epoch
        for epoch, routes, _ in hindsight_departures(plan)
        for route in routes
        for request in route
    }
    first = epoch_range(instance).start
    features: list[FloatArray] = []
    labels: list[int] = []

    def record(problem: EpochProblem, share_now: FloatArray) -> None:
        rows = _may_wait(problem)
        features.append(request_features(problem, share_now)[rows])
        labels.extend(
            int(leaves[int(problem.request_ids[row])] == problem.epoch - first) for row in rows
        )

    policy = ScenarioPolicy(OrtecDemandModel(instance), on_votes=record)
    run_policy(instance, policy, seed=config.seed, epoch_time_limit=epoch_time_limit)
    name = instance.name.removeprefix("ORTEC-VRPTW-ASYM-")
    return Day(name, np.vstack(features), np.array(labels, dtype=np.int64))


def _may_wait(problem: EpochProblem) -> IntArray:
    may_wait = ~problem.must_dispatch
    may_wait[0] = False
    rows: IntArray = np.flatnonzero(may_wait)
    return rows


def _stacked(days: list[Day]) -> tuple[FloatArray, IntArray]:
    return np.vstack([d.features for d in days]), np.concatenate([d.labels for d in days])


def _as_python(model: DispatchModel) -> str:
    return (
        "ORTEC_DISPATCH_MODEL = DispatchModel(\n"
        f"    bias={model.bias},\n"
        f"    weights={model.weights},\n"
        f"    means={model.means},\n"
        f"    scales={model.scales},\n"
        ")"
    )


if __name__ == "__main__":
    raise SystemExit(main())
