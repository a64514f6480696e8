"""Each policy returns routes the environment accepts, with every must-dispatch request in them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from doorstep.dynamic_dispatch.environment import OrtecDynamicEnvironment
from doorstep.dynamic_dispatch.policies import (
    DispatchPolicy,
    GreedyPolicy,
    LazyPolicy,
    ScenarioPolicy,
    ScenarioSettings,
    _can_start_later,
    _Consensus,
    _needed_now,
)
from doorstep.dynamic_dispatch.problem import EpochProblem
from doorstep.dynamic_dispatch.routing import RoutingJobs, route_jobs
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel
from doorstep.optimize import solve as core_solve
from doorstep.optimize.instances import OrtecInstance

FAST = ScenarioSettings(iterations=2, min_scenarios=2, max_scenarios=2, target_solve_seconds=0.1)


def _second_epoch(instance: OrtecInstance) -> OrtecDynamicEnvironment:
    env = OrtecDynamicEnvironment(instance, seed=3, draws_per_epoch=20)
    env.dispatch([[rid] for rid in env.observe().must_dispatch_ids()])
    return env


@pytest.mark.parametrize("name", ["greedy", "lazy", "scenario"])
def test_policy_dispatch_is_accepted(tiny_instance: OrtecInstance, name: str) -> None:
    policies: dict[str, DispatchPolicy] = {
        "greedy": GreedyPolicy(),
        "lazy": LazyPolicy(),
        "scenario": ScenarioPolicy(OrtecDemandModel(tiny_instance, draws_per_epoch=20), FAST),
    }
    env = _second_epoch(tiny_instance)
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
    tiny_instance: OrtecInstance,
) -> None:
    env = OrtecDynamicEnvironment(tiny_instance, seed=3, draws_per_epoch=20)
    problem = env.observe()
    policy = ScenarioPolicy(OrtecDemandModel(tiny_instance, draws_per_epoch=20), FAST)
    routes = policy.decide(problem, time_limit=0.8, seed=1)
    sent = {rid for route in routes for rid in route}
    assert set(problem.must_dispatch_ids()) <= sent
    assert len(sent) < problem.num_requests


def test_scenario_policy_sends_everything_in_the_last_epoch(
    tiny_instance: OrtecInstance,
) -> None:
    env = OrtecDynamicEnvironment(tiny_instance, seed=3, draws_per_epoch=10)
    while not env.observe().is_last_epoch:
        env.dispatch([[rid] for rid in env.observe().open_ids()])
    problem = env.observe()
    policy = ScenarioPolicy(OrtecDemandModel(tiny_instance), FAST)
    routes = policy.decide(problem, time_limit=0.3, seed=1)
    assert sorted(rid for route in routes for rid in route) == sorted(problem.open_ids())


def test_scenario_settings_fit_the_budget() -> None:
    settings = ScenarioSettings(
        iterations=3, target_solve_seconds=1.0, min_scenarios=3, max_scenarios=10
    )
    assert settings.scenarios_per_iteration(36.0) == 10  # capped
    assert settings.scenarios_per_iteration(18.0) == 6
    assert settings.scenarios_per_iteration(1.0) == 3  # floor


def test_scenario_rounds_take_their_share_of_the_epoch_within_the_cap() -> None:
    defaults = ScenarioSettings()
    assert defaults.scenario_budget(15.0) == pytest.approx(9.0)  # 60 % of the epoch
    assert defaults.scenario_budget(60.0) == pytest.approx(36.0)
    assert defaults.scenarios_per_iteration(36.0) == 20  # of 0.6 s
    capped = ScenarioSettings(max_scenario_seconds=9.0)
    assert capped.scenario_budget(10.0) == pytest.approx(6.0)  # the share is below the cap
    # A long epoch: 12 solves of 0.25 s a round, as at 15 s; the other 51 s route what goes.
    assert capped.scenario_budget(60.0) == pytest.approx(9.0)
    assert capped.scenarios_per_iteration(capped.scenario_budget(60.0)) == 12
    with pytest.raises(ValueError, match=r"max_scenario_seconds = 0\.0: more than 0 or None"):
        ScenarioSettings(max_scenario_seconds=0.0)


def test_thresholds_move_together_each_round_and_stop_where_they_meet() -> None:
    # The competition entry's schedule: "go" 0.45, 0.35, 0.25 and "wait" 0.05, 0.15, 0.25.
    settings = ScenarioSettings(
        dispatch_threshold=0.45, postpone_threshold=0.05, threshold_step=0.1
    )
    assert [settings.thresholds(i) for i in range(4)] == [
        (0.45, 0.05),
        (0.35, 0.15),
        (0.25, 0.25),
        (0.25, 0.25),
    ]
    assert ScenarioSettings().thresholds(2) == (0.5, 0.25)  # no step: the same every round
    with pytest.raises(ValueError, match=r"threshold_step = -0\.1: between 0 and 1"):
        ScenarioSettings(threshold_step=-0.1)


def test_scenario_searches_use_the_neighbourhood_asked_for(
    tiny_instance: OrtecInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int | None] = []

    def recording_solve(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["neighbours"])
        return core_solve(*args, **kwargs)

    monkeypatch.setattr("doorstep.dynamic_dispatch.routing.solve", recording_solve)
    model = OrtecDemandModel(tiny_instance, draws_per_epoch=20)
    env = _second_epoch(tiny_instance)
    policy = ScenarioPolicy(model, replace(FAST, scenario_neighbours=5))
    env.dispatch(policy.decide(env.observe(), time_limit=0.8, seed=1))
    # Two rounds of two scenarios search narrowly; routing what goes keeps the core's default.
    assert asked.count(5) == 4
    assert set(asked) <= {5, None}
    with pytest.raises(ValueError, match=r"scenario_neighbours = 0: at least 1 or None"):
        ScenarioSettings(scenario_neighbours=0)


def test_consensus_sampling_is_seeded(tiny_instance: OrtecInstance) -> None:
    # Same seed → same sampled futures (the search itself is bounded by time, not by seed).
    model = OrtecDemandModel(tiny_instance)
    problem = OrtecDynamicEnvironment(tiny_instance, seed=3).observe()
    a = model.sample(np.random.default_rng([1, problem.epoch]), problem, 3)
    b = model.sample(np.random.default_rng([1, problem.epoch]), problem, 3)
    assert np.array_equal(a.locations, b.locations)


def _tiny_problem() -> EpochProblem:
    """Depot and three requests 10 s apart; request 1 has to be served within 100 s."""
    return EpochProblem(
        epoch=1,
        is_last_epoch=False,
        plan_start=0,
        epoch_length=3600,
        capacity=10,
        request_ids=np.array([0, 11, 12, 13], dtype=np.int64),
        locations=np.array([0, 1, 2, 3], dtype=np.int64),
        time_windows=np.array([[0, 20_000], [0, 100], [0, 10_000], [0, 10_000]], dtype=np.int64),
        service_times=np.zeros(4, dtype=np.int64),
        demands=np.ones(4, dtype=np.int64),
        must_dispatch=np.array([False, True, False, False]),
        durations=np.full((4, 4), 10, dtype=np.int64) - 10 * np.eye(4, dtype=np.int64),
    )


def test_undecided_requests_ride_in_the_final_routing_worth_their_votes(
    tiny_instance: OrtecInstance,
) -> None:
    problem = _tiny_problem()  # the mean driving time between its four places is 7.5 s
    consensus = _Consensus(
        dispatch=np.array([False, False, True, False]),
        postpone=np.zeros(4, dtype=np.bool_),
        share_now=np.array([0.0, 1.0, 0.8, 0.4]),
        last_plan=None,
    )
    policy = ScenarioPolicy(OrtecDemandModel(tiny_instance), replace(FAST, undecided_prize=2.0))
    # Request 1 must go, 2 was fixed to go: both required; 3 is undecided, worth 2 × 7.5 × 0.4.
    assert policy._with_undecided(problem, consensus, [1, 2]) == ([1, 2, 3], [-1, -1, 6])
    with pytest.raises(ValueError, match=r"undecided_prize = -1\.0: at least 0 or None"):
        ScenarioSettings(undecided_prize=-1.0)


def test_a_scenario_policy_with_prizes_still_dispatches_what_must_go(
    tiny_instance: OrtecInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    final: list[RoutingJobs] = []

    def recording_route_jobs(jobs: RoutingJobs, **kwargs: Any) -> Any:
        if kwargs.get("verify"):  # only the final routing is checked
            final.append(jobs)
        return route_jobs(jobs, **kwargs)

    monkeypatch.setattr("doorstep.dynamic_dispatch.policies.route_jobs", recording_route_jobs)
    env = _second_epoch(tiny_instance)
    problem = env.observe()
    policy = ScenarioPolicy(
        OrtecDemandModel(tiny_instance, draws_per_epoch=20), replace(FAST, undecided_prize=1.0)
    )
    routes = policy.decide(problem, time_limit=0.8, seed=1)
    served = [rid for route in routes for rid in route]
    assert len(served) == len(set(served))
    assert set(problem.must_dispatch_ids()) <= set(served)
    env.dispatch(routes)  # the environment accepts the plan
    # The final routing carried prizes, and every must-dispatch request was required in it.
    (jobs,) = final
    assert jobs.prizes is not None
    prize_of = dict(zip(jobs.keys[1:].tolist(), jobs.prizes[1:].tolist(), strict=True))
    assert all(prize_of[rid] == -1 for rid in problem.must_dispatch_ids())
    assert set(served) <= set(prize_of)


def test_a_route_leaves_now_only_when_it_has_to() -> None:
    problem = _tiny_problem()
    going = problem.must_dispatch.copy()
    waiting = np.zeros(4, dtype=np.bool_)
    # [2, 3] could leave an epoch later, so it waits; [1] cannot; a future job (4) holds [3] back.
    counts = _needed_now(problem, [[2, 3], [1]], going, waiting)
    assert counts.tolist() == [0, 1, 0, 0]
    counts = _needed_now(problem, [[1, 2], [3, 4]], going, waiting)
    assert counts.tolist() == [0, 1, 1, 0]
    going[3] = True  # fixed to go in an earlier round: its route goes with it
    assert _needed_now(problem, [[2, 3]], going, waiting).tolist() == [0, 0, 1, 1]
    waiting[2] = True  # fixed to wait: nothing on its route leaves now
    assert _needed_now(problem, [[2, 3]], going, waiting).tolist() == [0, 0, 0, 0]


def test_a_route_that_would_miss_the_depot_closing_cannot_start_later() -> None:
    problem = _tiny_problem()
    assert _can_start_later(problem, [2, 3], 3600)
    assert not _can_start_later(problem, [1], 3600)
    assert not _can_start_later(problem, [2, 3], 19_990)  # back after the depot closes
