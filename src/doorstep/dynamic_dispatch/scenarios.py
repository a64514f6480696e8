"""Plausible futures: sample requests that may still arrive, and turn them into routing scenarios.

A :class:`DemandModel` knows what future demand looks like. The benchmark's model draws from the
instance exactly as the environment does; the day planner will supply one built from its order
history. Sampling is seeded by the caller, so the same seed gives the same scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from doorstep.dynamic_dispatch.environment import DRAWS_PER_EPOCH, epoch_range
from doorstep.dynamic_dispatch.problem import BoolArray, EpochProblem, IntArray
from doorstep.dynamic_dispatch.routing import RoutingJobs
from doorstep.optimize.instances import OrtecInstance


@dataclass(frozen=True, eq=False)
class SampledRequests:
    """Future requests; times relative to the current `plan_start`, like the epoch problem.

    `release_times` is when each one could first leave the depot (its own epoch's plan start).
    """

    locations: IntArray
    time_windows: IntArray  # (m, 2)
    service_times: IntArray
    demands: IntArray
    release_times: IntArray

    @property
    def count(self) -> int:
        return int(self.locations.shape[0])


class DemandModel(Protocol):
    """Samples requests that could arrive during the next `epochs_ahead` epochs."""

    def sample(
        self, rng: np.random.Generator, problem: EpochProblem, epochs_ahead: int
    ) -> SampledRequests: ...


@dataclass(frozen=True, eq=False)
class OrtecDemandModel:
    """Future requests of the ORTEC benchmark: the environment's own draws and filter.

    The environment's future draws are not known, but their distribution is: locations, windows,
    demands and service times are drawn independently and uniformly from the instance's customers.
    """

    instance: OrtecInstance
    draws_per_epoch: int = DRAWS_PER_EPOCH

    def sample(
        self, rng: np.random.Generator, problem: EpochProblem, epochs_ahead: int
    ) -> SampledRequests:
        last_epoch = epoch_range(self.instance)[-1]
        future = range(problem.epoch + 1, min(problem.epoch + epochs_ahead, last_epoch) + 1)
        parts = [self._sample_epoch(rng, problem, e - problem.epoch) for e in future]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return SampledRequests(empty, np.zeros((0, 2), np.int64), empty, empty, empty)
        return SampledRequests(
            locations=np.concatenate([p.locations for p in parts]),
            time_windows=np.concatenate([p.time_windows for p in parts]),
            service_times=np.concatenate([p.service_times for p in parts]),
            demands=np.concatenate([p.demands for p in parts]),
            release_times=np.concatenate([p.release_times for p in parts]),
        )

    def _sample_epoch(
        self, rng: np.random.Generator, problem: EpochProblem, offset: int
    ) -> SampledRequests:
        instance = self.instance
        n, k = instance.num_customers, self.draws_per_epoch
        location = rng.integers(n, size=k) + 1
        windows = instance.time_windows[rng.integers(n, size=k) + 1]
        demand = instance.demands[rng.integers(n, size=k) + 1]
        service = instance.service_times[rng.integers(n, size=k) + 1]
        # The environment only reveals requests still servable from their own plan start.
        release = offset * problem.epoch_length
        plan_start = problem.plan_start + release
        matrix = instance.durations
        arrive = np.maximum(plan_start + matrix[0, location], windows[:, 0])
        back = arrive + service + matrix[location, 0]
        keep = (arrive <= windows[:, 1]) & (back <= instance.time_windows[0, 1])
        return SampledRequests(
            locations=location[keep],
            time_windows=np.maximum(windows[keep] - problem.plan_start, 0),
            service_times=service[keep],
            demands=demand[keep],
            release_times=np.full(int(keep.sum()), release, dtype=np.int64),
        )


def scenario_jobs(
    problem: EpochProblem,
    sampled: SampledRequests,
    postponed: BoolArray,
    dispatched: BoolArray | None = None,
) -> RoutingJobs:
    """Current requests (job i = problem row i) followed by the sampled ones.

    Rows flagged `postponed` may not leave before the next epoch, so the scenario plans them with
    what is still to come; rows flagged `dispatched` must leave now, so the scenario plans the
    rest around them.
    """
    leave_first = None
    if dispatched is not None:
        leave_first = np.concatenate([dispatched, np.zeros(sampled.count, dtype=np.bool_)])
        leave_first[0] = False
    current_release = np.where(postponed, problem.epoch_length, 0).astype(np.int64)
    current_release[0] = 0
    return RoutingJobs(
        keys=np.concatenate([problem.request_ids, -np.arange(1, sampled.count + 1)]),
        locations=np.concatenate([problem.locations, sampled.locations]),
        time_windows=np.concatenate([problem.time_windows, sampled.time_windows]),
        service_times=np.concatenate([problem.service_times, sampled.service_times]),
        demands=np.concatenate([problem.demands, sampled.demands]),
        release_times=np.concatenate([current_release, sampled.release_times]),
        capacity=problem.capacity,
        durations=problem.durations,
        leave_first=leave_first,
    )
