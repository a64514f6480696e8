"""Run a dispatch policy over a whole ORTEC instance and collect what happened per epoch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from doorstep.dynamic_dispatch.environment import (
    DRAWS_PER_EPOCH,
    EpochOutcome,
    OrtecDynamicEnvironment,
)
from doorstep.dynamic_dispatch.policies import (
    DispatchPolicy,
    GreedyPolicy,
    LazyPolicy,
    ScenarioPolicy,
)
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel
from doorstep.optimize.instances import OrtecInstance


@dataclass(frozen=True)
class EpochRow:
    epoch: int
    new: int
    open: int
    must_dispatch: int
    dispatched: int
    routes: int
    cost: int
    seconds: float


@dataclass(frozen=True)
class RunResult:
    instance: str
    seed: int
    policy: str
    epoch_time_limit: float
    requests: int
    total_cost: int
    epochs: tuple[EpochRow, ...]

    def to_json(self) -> dict[str, object]:
        return asdict(self)


EpochCallback = Callable[[EpochOutcome], None]


def run_policy(
    instance: OrtecInstance,
    policy: DispatchPolicy,
    *,
    seed: int,
    epoch_time_limit: float,
    on_epoch: EpochCallback | None = None,
    draws_per_epoch: int = DRAWS_PER_EPOCH,
) -> RunResult:
    """Play every epoch of `instance` with `seed`, asking `policy` for each epoch's routes.

    The environment checks every dispatch against the rules (must-dispatch included), so a result
    here is a valid one. The solver seed is the instance seed, so a rerun repeats the run.
    """
    env = OrtecDynamicEnvironment(instance, seed, draws_per_epoch)
    rows: list[EpochRow] = []
    while not env.done:
        problem = env.observe()
        started = time.monotonic()
        routes = policy.decide(problem, time_limit=epoch_time_limit, seed=seed + problem.epoch)
        seconds = time.monotonic() - started
        outcome = env.dispatch(routes)
        rows.append(
            EpochRow(
                epoch=outcome.epoch,
                new=outcome.new,
                open=outcome.open,
                must_dispatch=outcome.must_dispatch,
                dispatched=outcome.dispatched,
                routes=len(outcome.routes),
                cost=outcome.cost,
                seconds=round(seconds, 2),
            )
        )
        if on_epoch is not None:
            on_epoch(outcome)
    return RunResult(
        instance=instance.name,
        seed=seed,
        policy=policy.name,
        epoch_time_limit=epoch_time_limit,
        requests=env.requests_generated,
        total_cost=env.total_cost,
        epochs=tuple(rows),
    )


POLICY_NAMES = ("scenario", "greedy", "lazy")
"""Policies the benchmark can run by name; the first is ours and the default."""


class UnknownPolicyError(ValueError):
    """A policy name that is not one of :data:`POLICY_NAMES`."""


def benchmark_policy(name: str, instance: OrtecInstance) -> DispatchPolicy:
    """The named policy, set up for the ORTEC benchmark (future demand drawn from `instance`)."""
    if name == "greedy":
        return GreedyPolicy()
    if name == "lazy":
        return LazyPolicy()
    if name == "scenario":
        return ScenarioPolicy(OrtecDemandModel(instance))
    raise UnknownPolicyError(f"unknown policy {name!r}; choose from {', '.join(POLICY_NAMES)}")
