"""Route a set of jobs for one epoch: the single place where dispatch reaches the routing engine.

A job is an open request (or, inside a scenario, a sampled future one). Jobs may carry a release
time: a route holding a job cannot leave the depot before that job is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from doorstep.dispatch.problem import IntArray


@dataclass(frozen=True, eq=False)
class RoutingJobs:
    """Jobs to route from one depot with identical, unlimited vehicles.

    Index 0 of every per-job array is the depot; jobs are 1..n. Times are seconds relative to the
    moment routes may first leave; `durations` is indexed by `locations`.
    """

    locations: IntArray  # (n+1,)
    time_windows: IntArray  # (n+1, 2); row 0 is the depot's opening hours
    service_times: IntArray  # (n+1,)
    demands: IntArray  # (n+1,)
    release_times: IntArray  # (n+1,); 0 = known now
    capacity: int
    durations: IntArray  # (L, L)

    @property
    def num_jobs(self) -> int:
        return int(self.locations.shape[0]) - 1

    def submatrix(self) -> IntArray:
        return np.ascontiguousarray(self.durations[np.ix_(self.locations, self.locations)])


JobRoutes = list[list[int]]
"""Routes as lists of job indices (1..n), depot implicit."""


def route_jobs(
    jobs: RoutingJobs,
    *,
    time_limit: float,
    seed: int,
    initial: Sequence[Sequence[int]] | None = None,
) -> JobRoutes:
    """Serve every job with the fewest driving seconds found within `time_limit` (single thread).

    `initial` (job routes) warm-starts the search. Returns routes of job indices.
    """
    from doorstep.dispatch import _pyvrp_backend

    return _pyvrp_backend.solve(jobs, time_limit=time_limit, seed=seed, initial=initial)
