"""Run a dispatch policy over a whole ORTEC instance and collect what happened per epoch."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

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
    ScenarioSettings,
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


def benchmark_policy(
    name: str, instance: OrtecInstance, scenario: ScenarioSettings | None = None
) -> DispatchPolicy:
    """The named policy, set up for the ORTEC benchmark (future demand drawn from `instance`).

    `scenario` replaces the scenario policy's default settings (to tune them)."""
    if name == "greedy":
        return GreedyPolicy()
    if name == "lazy":
        return LazyPolicy()
    if name == "scenario":
        return ScenarioPolicy(OrtecDemandModel(instance), scenario or ScenarioSettings())
    raise UnknownPolicyError(f"unknown policy {name!r}; choose from {', '.join(POLICY_NAMES)}")


class ScenarioSettingError(ValueError):
    """A ``KEY=VALUE`` for the scenario policy that names no setting or has the wrong type."""


def scenario_settings(overrides: Sequence[str]) -> ScenarioSettings:
    """The scenario policy's defaults with ``KEY=VALUE`` overrides (``dispatch_threshold=0.4``).

    A value is read as the field's type (``none`` for an optional field left unset). A key
    that names no field raises with the valid keys; a value that does not read as its type,
    or lies outside its range, raises saying which.
    """
    kinds = {f.name: f.type for f in fields(ScenarioSettings)}
    changes: dict[str, object] = {}
    for override in overrides:
        key, sep, text = override.partition("=")
        key = key.strip()
        if not sep or key not in kinds:
            raise ScenarioSettingError(
                f"{override!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(kinds))}"
            )
        changes[key] = _read_setting(key, str(kinds[key]), text.strip())
    try:
        return replace(ScenarioSettings(), **changes)  # type: ignore[arg-type]
    except ValueError as error:  # a value out of its range
        raise ScenarioSettingError(str(error)) from None


def _read_setting(key: str, kind: str, text: str) -> object:
    if "None" in kind and text.lower() == "none":
        return None
    try:
        if kind.startswith("bool"):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        raise ScenarioSettingError(f"{key}={text!r}: not a valid {kind}") from None
    raise ScenarioSettingError(f"{key}: a setting of type {kind} cannot be set here")
