"""The day in hindsight: every request of a dynamic run known up front, routed as one problem.

No policy can know the future, so the hindsight cost is the reference every policy is measured
against: the gap between greedy and hindsight is all a dispatch policy could ever win, and what
is left between a policy and hindsight says how much of it it found. A request still cannot be
served before it is revealed: a route holding it leaves no earlier than its epoch's plan start.

The requests depend only on the instance and the seed (the environment draws them whatever is
dispatched), so the hindsight day is the very day every policy met.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from doorstep.dynamic_dispatch.environment import DRAWS_PER_EPOCH, OrtecDynamicEnvironment
from doorstep.dynamic_dispatch.problem import IntArray, round_trip_seconds
from doorstep.dynamic_dispatch.routing import RoutingJobs, route_jobs
from doorstep.optimize.instances import OrtecInstance


@dataclass(frozen=True)
class HindsightPlan:
    """The day's requests as one routing problem, and the routes found for it (job = request id)."""

    jobs: RoutingJobs
    routes: list[list[int]]


@dataclass(frozen=True)
class HindsightResult:
    instance: str
    seed: int
    requests: int
    total_cost: int  # driving seconds, as the environment costs a dispatch


def hindsight_jobs(
    instance: OrtecInstance, seed: int, *, draws_per_epoch: int = DRAWS_PER_EPOCH
) -> RoutingJobs:
    """Every request the run with `seed` reveals, released at its epoch's plan start.

    Times are relative to the first epoch's plan start. The run is played by dispatching only
    what must go, each request on its own route: which requests appear does not depend on it.
    """
    env = OrtecDynamicEnvironment(instance, seed, draws_per_epoch)
    first_start = env.plan_start(env.epochs.start)
    while not env.done:
        env.dispatch([[rid] for rid in env.observe().must_dispatch_ids()])
    requests = env.requests
    releases = [env.plan_start(int(epoch)) - first_start for epoch in requests.release_epochs]
    release_times: IntArray = np.array(releases, dtype=np.int64)
    release_times[0] = 0  # the depot
    return RoutingJobs(
        keys=np.arange(requests.locations.shape[0], dtype=np.int64),
        locations=requests.locations,
        time_windows=np.maximum(requests.time_windows - first_start, 0),
        service_times=requests.service_times,
        demands=requests.demands,
        release_times=release_times,
        capacity=instance.capacity,
        durations=instance.durations,
    )


def hindsight_plan(
    instance: OrtecInstance,
    *,
    seed: int,
    time_limit: float,
    draws_per_epoch: int = DRAWS_PER_EPOCH,
) -> HindsightPlan:
    """Route the whole day in hindsight within `time_limit` s on one core (checked plan)."""
    jobs = hindsight_jobs(instance, seed, draws_per_epoch=draws_per_epoch)
    plan = route_jobs(jobs, time_limit=time_limit, seed=seed, verify=True)
    return HindsightPlan(jobs=jobs, routes=plan.routes)


def hindsight_cost(
    instance: OrtecInstance,
    *,
    seed: int,
    time_limit: float,
    draws_per_epoch: int = DRAWS_PER_EPOCH,
) -> HindsightResult:
    """The cost of the day routed in hindsight (`hindsight_plan`)."""
    plan = hindsight_plan(
        instance, seed=seed, time_limit=time_limit, draws_per_epoch=draws_per_epoch
    )
    return HindsightResult(
        instance=instance.name,
        seed=seed,
        requests=plan.jobs.num_jobs,
        total_cost=sum(route_cost(plan.jobs, route) for route in plan.routes),
    )


def route_cost(jobs: RoutingJobs, route: list[int]) -> int:
    """Driving seconds from the depot through the route's jobs and back."""
    places = [int(jobs.locations[job]) for job in route]
    return round_trip_seconds(jobs.durations, int(jobs.locations[0]), places)
