"""Interim routing backend over PyVRP, used until the optimization core exposes `solve`.

Kept private and tiny so it can be deleted once `doorstep.optimize` offers release times, warm
starts and an explicit duration matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyvrp
from pyvrp.stop import MaxRuntime

from doorstep.dispatch.routing import JobRoutes, RoutingJobs


def _problem_data(jobs: RoutingJobs) -> pyvrp.ProblemData:
    n = jobs.num_jobs
    # PyVRP's stubs type matrices loosely; the array is a contiguous int64 matrix as required.
    matrix: Any = jobs.submatrix()
    locations = [pyvrp.Location(0.0, 0.0) for _ in range(n + 1)]
    depot = pyvrp.Depot(
        location=0,
        tw_early=int(jobs.time_windows[0, 0]),
        tw_late=int(jobs.time_windows[0, 1]),
        service_duration=int(jobs.service_times[0]),
    )
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[int(jobs.demands[i])],
            service_duration=int(jobs.service_times[i]),
            tw_early=int(jobs.time_windows[i, 0]),
            tw_late=int(jobs.time_windows[i, 1]),
            release_time=int(jobs.release_times[i]),
        )
        for i in range(1, n + 1)
    ]
    vehicles = pyvrp.VehicleType(
        num_available=max(n, 1),  # unlimited in effect: one vehicle per job is never short
        capacity=[jobs.capacity],
        tw_early=int(jobs.time_windows[0, 0]),
        tw_late=int(jobs.time_windows[0, 1]),
    )
    return pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[depot],
        vehicle_types=[vehicles],
        distance_matrices=[matrix],
        duration_matrices=[matrix],
    )


def solve(
    jobs: RoutingJobs,
    *,
    time_limit: float,
    seed: int,
    initial: Sequence[Sequence[int]] | None,
) -> JobRoutes:
    if jobs.num_jobs == 0:
        return []
    data = _problem_data(jobs)
    # PyVRP numbers clients from 0 on their own: job i is client i - 1.
    start = pyvrp.Solution(data, [[j - 1 for j in r] for r in initial if r]) if initial else None
    result = pyvrp.solve(
        data,
        stop=MaxRuntime(time_limit),
        seed=seed,
        collect_stats=False,
        display=False,
        initial_solution=start,
    )
    best = result.best
    if not best.is_feasible():
        # Singles are always feasible (the environment only keeps servable requests).
        return [[i] for i in range(1, jobs.num_jobs + 1)]
    return [
        [int(activity.idx) + 1 for activity in route if activity.is_client()]
        for route in best.routes()
    ]
