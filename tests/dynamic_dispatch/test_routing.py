"""Routing through the optimization core: release times hold, keys survive, plans are checked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from doorstep import optimize
from doorstep.dynamic_dispatch import routing
from doorstep.dynamic_dispatch.routing import RoutingJobs, restrict, route_jobs

# Depot at 0 and four places on a line, 100 s apart; the depot is open 0..10_000.
LINE = np.abs(np.subtract.outer(np.arange(5), np.arange(5))) * 100


def _jobs(release: list[int], capacity: int = 10) -> RoutingJobs:
    n = len(release)
    return RoutingJobs(
        keys=np.array([0, *range(11, 11 + n)]),
        locations=np.arange(n + 1),
        time_windows=np.array([[0, 10_000]] + [[0, 9_000]] * n),
        service_times=np.zeros(n + 1, dtype=np.int64),
        demands=np.array([0] + [1] * n),
        release_times=np.array([0, *release]),
        capacity=capacity,
        durations=LINE,
    )


def test_all_jobs_served_once_with_the_shortest_plan() -> None:
    plan = route_jobs(_jobs([0, 0, 0, 0]), time_limit=0.2, seed=1, verify=True)
    assert sorted(job for route in plan.routes for job in route) == [1, 2, 3, 4]
    assert plan.solution is not None
    assert plan.solution.distance == 800  # one route out to the end of the line and back


def test_a_route_never_leaves_before_its_jobs_are_released() -> None:
    plan = route_jobs(_jobs([0, 0, 3600, 3600]), time_limit=0.2, seed=1, verify=True)
    assert plan.solution is not None
    for route in plan.solution.routes:
        released = {"r11": 0, "r12": 0, "r13": 3600, "r14": 3600}
        latest = max(released[job] for job in route.job_ids())
        assert route.start_time >= latest


def test_capacity_splits_routes_and_restrict_drops_jobs() -> None:
    plan = route_jobs(_jobs([0, 0, 0, 0], capacity=2), time_limit=0.2, seed=1, verify=True)
    assert len(plan.routes) == 2
    assert sorted(job for route in restrict(plan, [1, 4]) for job in route) == [1, 4]


def test_warm_start_from_a_plan_with_other_jobs() -> None:
    earlier = route_jobs(_jobs([0, 0, 0, 0]), time_limit=0.2, seed=1)
    fewer = RoutingJobs(
        keys=np.array([0, 12, 14]),
        locations=np.array([0, 2, 4]),
        time_windows=np.array([[0, 10_000], [0, 9_000], [0, 9_000]]),
        service_times=np.zeros(3, dtype=np.int64),
        demands=np.array([0, 1, 1]),
        release_times=np.zeros(3, dtype=np.int64),
        capacity=10,
        durations=LINE,
    )
    plan = route_jobs(fewer, time_limit=0.2, seed=1, initial=earlier, verify=True)
    assert sorted(job for route in plan.routes for job in route) == [1, 2]


def test_an_optional_job_rides_only_where_its_prize_pays_for_the_detour() -> None:
    # Jobs 1 and 2 must go; going on to 3 costs 200 s more, and on from 3 to 4 another 200 s.
    base = _jobs([0, 0, 0, 0])
    prized = RoutingJobs(**{**base.__dict__, "prizes": np.array([-1, -1, -1, 500, 150])})
    plan = route_jobs(prized, time_limit=0.2, seed=1, verify=True)
    # Job 3 is worth its detour; job 4 is not, and it is left out, not sent alone.
    assert sorted(job for route in plan.routes for job in route) == [1, 2, 3]
    assert plan.solution is not None
    assert [u.job_id for u in plan.solution.unassigned] == ["r14"]


def test_no_jobs_no_routes() -> None:
    empty = _jobs([])
    assert route_jobs(empty, time_limit=0.1, seed=1).routes == []


def test_jobs_decided_to_go_ride_only_on_routes_leaving_first() -> None:
    # Without the pin, job 1 would happily wait for job 2 (released later, same way out).
    base = _jobs([0, 3600])
    free = route_jobs(base, time_limit=0.2, seed=1, verify=True)
    assert sorted(map(sorted, free.routes)) == [[1, 2]]
    pinned = RoutingJobs(**{**base.__dict__, "leave_first": np.array([False, True, False])})
    plan = route_jobs(pinned, time_limit=0.2, seed=1, verify=True)
    assert plan.solution is not None
    vehicle_of = {
        job: route.vehicle_type for route in plan.solution.routes for job in route.job_ids()
    }
    assert vehicle_of["r11"] == "leave@0"
    assert vehicle_of["r12"] == "leave@3600"


def test_a_search_bounded_by_iterations_is_not_cut_short_by_a_small_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The twin gives each same-day scenario 1.2 s with 20 iterations; on a loaded machine the
    # clock came first and the same seed planned another day. The budget is only a net.
    limits: list[float] = []
    real_solve = optimize.solve

    def spying(*args: Any, **kwargs: Any) -> Any:
        limits.append(kwargs["time_limit"])
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(routing, "solve", spying)
    bounded = route_jobs(_jobs([0, 0, 0, 0]), time_limit=0.01, seed=1, max_iterations=50)
    by_clock = route_jobs(_jobs([0, 0, 0, 0]), time_limit=0.2, seed=1)
    assert limits == [routing.ITERATIONS_SAFETY_NET_S, 0.2]
    assert bounded.routes == by_clock.routes
