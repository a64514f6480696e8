"""Each policy returns routes the environment accepts, with every must-dispatch request in them."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.dispatch.environment import OrtecDynamicEnvironment
from doorstep.dispatch.ortec_instance import OrtecInstance
from doorstep.dispatch.policies import (
    DispatchPolicy,
    GreedyPolicy,
    LazyPolicy,
    ScenarioPolicy,
    ScenarioSettings,
)
from doorstep.dispatch.scenarios import OrtecDemandModel

FAST = ScenarioSettings(iterations=2, min_scenarios=2, max_scenarios=2, target_solve_seconds=0.1)


def _second_epoch(instance: OrtecInstance) -> OrtecDynamicEnvironment:
    env = OrtecDynamicEnvironment(instance, seed=3, draws_per_epoch=20)
    env.dispatch([[rid] for rid in env.observe().must_dispatch_ids()])
    return env


@pytest.mark.parametrize("name", ["greedy", "lazy", "scenario"])
def test_policy_dispatch_is_accepted(small_instance: OrtecInstance, name: str) -> None:
    policies: dict[str, DispatchPolicy] = {
        "greedy": GreedyPolicy(),
        "lazy": LazyPolicy(),
        "scenario": ScenarioPolicy(OrtecDemandModel(small_instance, draws_per_epoch=20), FAST),
    }
    env = _second_epoch(small_instance)
    problem = env.observe()
    routes = policies[name].decide(problem, time_limit=0.5, seed=1)
    outcome = env.dispatch(routes)  # the environment validates; an invalid plan raises
    sent = {rid for route in routes for rid in route}
    assert set(problem.must_dispatch_ids()) <= sent
    if name == "greedy":
        assert sent == set(problem.open_ids())
    if name == "lazy":
        assert sent == set(problem.must_dispatch_ids())
    assert outcome.dispatched == len(sent)


def test_scenario_policy_holds_back_some_requests_early_in_the_day(
    small_instance: OrtecInstance,
) -> None:
    env = OrtecDynamicEnvironment(small_instance, seed=3, draws_per_epoch=20)
    problem = env.observe()
    policy = ScenarioPolicy(OrtecDemandModel(small_instance, draws_per_epoch=20), FAST)
    routes = policy.decide(problem, time_limit=0.8, seed=1)
    sent = {rid for route in routes for rid in route}
    assert set(problem.must_dispatch_ids()) <= sent
    assert len(sent) < problem.num_requests


def test_scenario_policy_sends_everything_in_the_last_epoch(
    small_instance: OrtecInstance,
) -> None:
    env = OrtecDynamicEnvironment(small_instance, seed=3, draws_per_epoch=10)
    while not env.observe().is_last_epoch:
        env.dispatch([[rid] for rid in env.observe().open_ids()])
    problem = env.observe()
    policy = ScenarioPolicy(OrtecDemandModel(small_instance), FAST)
    routes = policy.decide(problem, time_limit=0.3, seed=1)
    assert sorted(rid for route in routes for rid in route) == sorted(problem.open_ids())


def test_scenario_settings_fit_the_budget() -> None:
    settings = ScenarioSettings(
        iterations=3, target_solve_seconds=1.0, min_scenarios=3, max_scenarios=10
    )
    assert settings.scenarios_per_iteration(36.0) == 10  # capped
    assert settings.scenarios_per_iteration(18.0) == 6
    assert settings.scenarios_per_iteration(1.0) == 3  # floor


def test_consensus_sampling_is_seeded(small_instance: OrtecInstance) -> None:
    # Same seed → same sampled futures (the search itself is bounded by time, not by seed).
    model = OrtecDemandModel(small_instance)
    problem = OrtecDynamicEnvironment(small_instance, seed=3).observe()
    a = model.sample(np.random.default_rng([1, problem.epoch]), problem, 3)
    b = model.sample(np.random.default_rng([1, problem.epoch]), problem, 3)
    assert np.array_equal(a.locations, b.locations)
