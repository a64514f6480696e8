"""The day in hindsight: the same requests every policy met, none served before it is revealed."""

from __future__ import annotations

import numpy as np

from doorstep.dynamic_dispatch.environment import EPOCH_LENGTH
from doorstep.dynamic_dispatch.hindsight import hindsight_cost, hindsight_jobs, route_cost
from doorstep.dynamic_dispatch.routing import RoutingJobs, route_jobs
from doorstep.dynamic_dispatch.runner import RunResult, benchmark_policy, run_policy
from doorstep.optimize.instances import OrtecInstance

SEED, DRAWS = 11, 15


def _greedy_day(instance: OrtecInstance) -> RunResult:
    """The day every test here looks at in hindsight, played greedily."""
    greedy = benchmark_policy("greedy", instance)
    return run_policy(instance, greedy, seed=SEED, epoch_time_limit=0.2, draws_per_epoch=DRAWS)


def test_hindsight_holds_the_requests_of_the_run_released_at_their_epochs(
    tiny_instance: OrtecInstance,
) -> None:
    run = _greedy_day(tiny_instance)
    jobs = hindsight_jobs(tiny_instance, SEED, draws_per_epoch=DRAWS)
    assert jobs.num_jobs == run.requests
    # Released in epoch order, at the plan start of each request's epoch (the first at 0).
    releases = jobs.release_times[1:]
    assert releases[0] == 0
    assert np.all(np.diff(releases) >= 0)
    assert np.all(releases % EPOCH_LENGTH == 0)
    epochs_seen = {row.epoch for row in run.epochs if row.new}
    assert len(set(releases.tolist())) == len(epochs_seen)


def test_no_route_leaves_before_its_requests_are_known_and_the_cost_adds_up(
    tiny_instance: OrtecInstance,
) -> None:
    jobs = hindsight_jobs(tiny_instance, SEED, draws_per_epoch=DRAWS)
    plan = route_jobs(jobs, time_limit=0.5, seed=SEED, verify=True)
    assert plan.solution is not None
    for route in plan.solution.routes:
        latest = max(int(jobs.release_times[int(job_id[1:])]) for job_id in route.job_ids())
        assert route.start_time >= latest
    served = sorted(job for route in plan.routes for job in route)
    assert served == list(range(1, jobs.num_jobs + 1))
    assert sum(route_cost(jobs, route) for route in plan.routes) == plan.solution.distance


def test_hindsight_is_cheaper_than_dispatching_each_epoch_greedily(
    tiny_instance: OrtecInstance,
) -> None:
    # Greedy's routes are one plan hindsight could choose; knowing the day, it finds a cheaper one.
    greedy = _greedy_day(tiny_instance)
    result = hindsight_cost(tiny_instance, seed=SEED, time_limit=1.0, draws_per_epoch=DRAWS)
    assert result.requests == greedy.requests
    assert 0 < result.total_cost < greedy.total_cost


def test_route_cost_drives_out_through_the_jobs_and_back() -> None:
    line = np.abs(np.subtract.outer(np.arange(3), np.arange(3))) * 100
    jobs = RoutingJobs(
        keys=np.arange(3),
        locations=np.arange(3),
        time_windows=np.array([[0, 1000]] * 3),
        service_times=np.zeros(3, dtype=np.int64),
        demands=np.array([0, 1, 1]),
        release_times=np.zeros(3, dtype=np.int64),
        capacity=5,
        durations=line,
    )
    assert route_cost(jobs, [1, 2]) == 400
    assert route_cost(jobs, [2, 1]) == 400
    assert route_cost(jobs, [2]) == 400
