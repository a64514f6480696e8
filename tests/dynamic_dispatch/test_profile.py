"""When requests leave, for a run and for the day in hindsight, on the same requests."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.dynamic_dispatch.environment import EpochOutcome, epoch_range
from doorstep.dynamic_dispatch.hindsight import hindsight_plan, route_cost
from doorstep.dynamic_dispatch.profile import (
    DepartureBeforeReleaseError,
    EpochLoad,
    dispatch_profile,
    hindsight_departures,
    release_epochs_of,
    run_departures,
)
from doorstep.dynamic_dispatch.runner import benchmark_policy, run_policy
from doorstep.optimize.instances import OrtecInstance

SEED, DRAWS = 11, 15


def test_a_profile_counts_each_request_by_the_epochs_it_waited() -> None:
    release_epochs = np.array([0, 0, 0, 1, 1, 3], dtype=np.int64)  # row 0: the depot
    departures = [(1, [[1, 3], [4]], 500), (3, [[2, 5], []], 300)]

    profile = dispatch_profile(departures, release_epochs)

    # Requests 3, 4 and 5 left in their own epoch, 1 one epoch after it, 2 three after it.
    assert profile.waits == (3, 1, 0, 1)
    assert profile.epochs == (
        EpochLoad(0, 0, 0, 0),
        EpochLoad(1, 2, 3, 500),
        EpochLoad(2, 0, 0, 0),
        EpochLoad(3, 1, 2, 300),
    )
    assert (profile.requests, profile.cost) == (5, 800)
    assert profile.share_waiting(1) == pytest.approx(2 / 5)
    assert profile.share_waited(0) == pytest.approx(3 / 5)
    assert profile.share_waited(2) == 0
    assert profile.share_waited(9) == 0  # longer than any wait
    assert profile.epochs[3].cost_per_request == 150


def test_a_route_leaving_before_its_request_is_revealed_is_refused() -> None:
    release_epochs = np.array([0, 2], dtype=np.int64)
    with pytest.raises(DepartureBeforeReleaseError, match="request 1 revealed in epoch 2"):
        dispatch_profile([(1, [[1]], 100)], release_epochs)


def test_greedy_sends_everything_in_its_own_epoch_and_lazy_holds_some_back(
    tiny_instance: OrtecInstance,
) -> None:
    plan = hindsight_plan(tiny_instance, seed=SEED, time_limit=0.5, draws_per_epoch=DRAWS)
    release_epochs = release_epochs_of(plan)
    first = epoch_range(tiny_instance).start
    profiles = {}
    for name in ("greedy", "lazy"):
        outcomes: list[EpochOutcome] = []
        run = run_policy(
            tiny_instance,
            benchmark_policy(name, tiny_instance),
            seed=SEED,
            epoch_time_limit=0.2,
            draws_per_epoch=DRAWS,
            on_epoch=outcomes.append,
        )
        profile = dispatch_profile(run_departures(outcomes, first), release_epochs)
        # The hindsight day's request ids are the run's: every request leaves once, at its cost.
        assert profile.requests == run.requests == plan.jobs.num_jobs
        assert profile.cost == run.total_cost
        profiles[name] = profile
    assert profiles["greedy"].waits == (plan.jobs.num_jobs,)
    assert profiles["lazy"].share_waiting(1) > 0


def test_hindsight_routes_count_in_the_latest_epoch_of_their_requests(
    tiny_instance: OrtecInstance,
) -> None:
    plan = hindsight_plan(tiny_instance, seed=SEED, time_limit=0.5, draws_per_epoch=DRAWS)
    release_epochs = release_epochs_of(plan)
    departures = hindsight_departures(plan)
    for epoch, routes, _ in departures:
        for route in routes:
            assert epoch == max(int(release_epochs[job]) for job in route)
    profile = dispatch_profile(departures, release_epochs)
    assert profile.requests == plan.jobs.num_jobs
    assert profile.cost == sum(route_cost(plan.jobs, route) for route in plan.routes)
    assert profile.waits[0] > 0  # a route's latest request never waits
