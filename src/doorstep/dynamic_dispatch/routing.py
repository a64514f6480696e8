"""Route a set of jobs for one epoch through the optimization core (`doorstep.optimize`).

A job is an open request or, inside a scenario, a sampled future one. Jobs may carry a release
time: a route holding a job cannot leave the depot before that job is known. The core has no
release times, so they are expressed with what it has: one vehicle type per release time whose
shift starts then, and a vehicle feature per release time that only vehicles leaving at or after
it carry. A route can then only hold jobs released by its departure — exactly a release time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from doorstep.dynamic_dispatch.problem import BoolArray, IntArray
from doorstep.optimize import ProblemBuilder, Solution, check, solve


class RoutingCheckError(RuntimeError):
    """The core's checker refused a plan the core produced; this is a bug, never bad input."""


@dataclass(frozen=True, eq=False)
class RoutingJobs:
    """Jobs to route from one depot with identical, unlimited vehicles.

    Index 0 of every per-job array is the depot; jobs are 1..n. Times are seconds relative to the
    moment routes may first leave; `durations` is indexed by `locations`. `keys` name jobs
    stably across problems (request ids; negative for sampled requests) so that a plan for one
    problem can warm-start another.
    """

    keys: IntArray  # (n+1,)
    locations: IntArray  # (n+1,)
    time_windows: IntArray  # (n+1, 2); row 0 is the depot's opening hours
    service_times: IntArray  # (n+1,)
    demands: IntArray  # (n+1,)
    release_times: IntArray  # (n+1,); 0 = known now
    capacity: int
    durations: IntArray  # (L, L)
    # Jobs already decided to go: only routes leaving at the earliest release may hold them.
    leave_first: BoolArray | None = None  # (n+1,)
    # What serving a job is worth, in driving seconds: a job with a prize of 0 or more may be
    # left out when serving it costs more; -1 (or no array) means it must be served.
    prizes: IntArray | None = None  # (n+1,)

    @property
    def num_jobs(self) -> int:
        return int(self.locations.shape[0]) - 1

    def submatrix(self) -> IntArray:
        return np.ascontiguousarray(self.durations[np.ix_(self.locations, self.locations)])


@dataclass(frozen=True)
class RoutingPlan:
    """Routes as job indices (1..n, depot implicit), and the core's solution for warm starts."""

    routes: list[list[int]]
    solution: Solution | None


def _job_id(key: int) -> str:
    return f"r{key}" if key >= 0 else f"s{-key}"


def _vehicle_type_id(release: int) -> str:
    return f"leave@{release}"


def _release_feature(release: int) -> str:
    return f"released@{release}"


_FIRST_DEPARTURE = "first-departure"

#: The least time a search bounded by iterations may take before it is cut short anyway.
ITERATIONS_SAFETY_NET_S = 60.0


def route_jobs(
    jobs: RoutingJobs,
    *,
    time_limit: float,
    seed: int,
    initial: RoutingPlan | None = None,
    engine: str | None = None,
    verify: bool = False,
    workers: int = 1,
    max_iterations: int | None = None,
    neighbours: int | None = None,
) -> RoutingPlan:
    """Serve the jobs with the fewest driving seconds found within `time_limit`, on `workers`
    cores (one by default: the policies run inside the planner, the server and the twin, where
    a search must neither start processes nor depend on how many cores there are).

    With `max_iterations` the search stops there, and the time limit is only a safety net of
    at least `ITERATIONS_SAFETY_NET_S`: the same seed then gives the same plan however busy the
    machine is. (A net of the caller's budget alone, 1.2 s a scenario in the twin's same-day
    decisions, was reached on a loaded machine, and the same seed then planned another day.)

    `initial` warm-starts the search (jobs are matched by key). With `verify`, the plan must pass
    the core's independent checker. A required job the engine could not place alone gets its own
    route, which the environment guarantees is feasible for every open request; an optional job
    (one with a prize) the search left out is in no route. ``neighbours`` sizes
    the search's granular neighbourhood (the core's default when ``None``).
    """
    n = jobs.num_jobs
    if n == 0:
        return RoutingPlan([], None)
    depot_opens, depot_closes = (int(t) for t in jobs.time_windows[0])
    depot_ready = depot_opens + int(jobs.service_times[0])

    builder = ProblemBuilder(dimensions=("demand",))
    depot = builder.add_location("depot", opening=(depot_opens, depot_closes))
    for job in range(1, n + 1):
        builder.add_location(_job_id(int(jobs.keys[job])))
    matrix = jobs.submatrix()
    # Distance and duration are both the driving seconds; 1000 cents/km on "metres" = 1 per unit.
    builder.set_matrices(matrix, matrix)

    releases = sorted({int(r) for r in jobs.release_times[1:]})
    pin_first = jobs.leave_first is not None and len(releases) > 1
    for release in releases:
        features = {_release_feature(r) for r in releases if r <= release}
        if pin_first and release == releases[0]:
            features.add(_FIRST_DEPARTURE)
        builder.add_vehicle_type(
            _vehicle_type_id(release),
            start=depot,
            end=depot,
            capacity=(jobs.capacity,),
            count=int((jobs.release_times[1:] <= release).sum()),
            shift=(max(release, depot_ready), depot_closes),
            features=features,
        )
    for job in range(1, n + 1):
        release = int(jobs.release_times[job])
        required = {_release_feature(release)} if release > releases[0] else set()
        if pin_first and jobs.leave_first is not None and jobs.leave_first[job]:
            required.add(_FIRST_DEPARTURE)
        builder.add_job(
            _job_id(int(jobs.keys[job])),
            location=job,
            demand=(int(jobs.demands[job]),),
            service=int(jobs.service_times[job]),
            time_windows=[(int(jobs.time_windows[job, 0]), int(jobs.time_windows[job, 1]))],
            prize=_prize(jobs, job),
            required_features=required,
        )
    problem = builder.build()
    if max_iterations is not None:
        time_limit = max(time_limit, ITERATIONS_SAFETY_NET_S)
    solution = solve(
        problem,
        engine=engine,
        time_limit=time_limit,
        seed=seed,
        initial=initial.solution if initial is not None else None,
        workers=workers,
        max_iterations=max_iterations,
        neighbours=neighbours,
    )
    if verify:
        report = check(problem, solution)
        if not report.feasible:
            raise RoutingCheckError("; ".join(report.violations[:5]))

    job_of = {_job_id(int(jobs.keys[job])): job for job in range(1, n + 1)}
    routes = [[job_of[job_id] for job_id in route.job_ids()] for route in solution.routes]
    routes += [
        [job_of[u.job_id]] for u in solution.unassigned if _prize(jobs, job_of[u.job_id]) is None
    ]
    return RoutingPlan(routes, solution)


def _prize(jobs: RoutingJobs, job: int) -> int | None:
    """The job's prize for the core, or None when it must be served."""
    if jobs.prizes is None or jobs.prizes[job] < 0:
        return None
    return int(jobs.prizes[job])


def restrict(plan: RoutingPlan, keep: Sequence[int]) -> list[list[int]]:
    """The plan's routes with only the given job indices, empty routes dropped."""
    wanted = set(keep)
    kept = [[job for job in route if job in wanted] for route in plan.routes]
    return [route for route in kept if route]
