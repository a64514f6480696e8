"""A large problem solved as many small ones at once (decomposition, as large-scale HGS and
FILO do), for a city's day of thousands of stops.

    from doorstep.optimize.decomposition import solve_decomposed

    solution = solve_decomposed(problem, coords, time_limit=60, seed=1, workers=2, run=run)

Round 0 cuts the stops into sectors around the depot by their angle and solves each sector
from scratch. Every later round sorts the current routes by the angle of their barycentre,
starts at another route each round (the borders move, so stops near a border are solved
with their other neighbours next time), cuts the circle into groups of routes of about
``part_size`` stops, and solves each group warm-started from its routes; a group's new routes
replace its old ones only when they cost less. Every sub-problem has matrices of its own
stops only. ``run(solve_part, parts)`` solves the parts of a round: in this process by
default, on a cluster's workers when the caller passes one (`doorstep.cluster`): this module
knows no cluster.

Scope today: jobs (no shipments) with every vehicle starting and ending at one depot, as in
the CVRP benchmarks; anything else is solved whole.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from doorstep.optimize.engines.base import EnginePlan, PlannedRoute
from doorstep.optimize.problem import Job, Problem, Step, VehicleType
from doorstep.optimize.solution import Solution
from doorstep.optimize.solve import assemble, solve

#: Stops per sub-problem: small enough for the search to converge in a few seconds.
PART_SIZE = 300
#: Fewest routes' worth of stops in a part: where routes are long, a part of `PART_SIZE`
#: stops cuts most of its routes at its borders. On Leuven2 (4,000 stops, routes of about
#: 85) parts of 300 ended 8.9 % above the best-known at 60 s, parts of 600 3.9 % and of 900
#: 4.3 % (PyVRP alone: 5.0 %).
ROUTES_PER_PART = 7
#: Seconds a sub-problem is searched per round, for each 100 of its stops.
SECONDS_PER_100_STOPS = 1.0
#: Fewer seconds than this for a part of a round is not worth the round.
MIN_PART_S = 0.5


@dataclass(frozen=True)
class Part:
    """One sub-problem of a round: plain data, sent to whichever worker solves it."""

    problem: Problem
    initial: Solution | None
    time_limit: float
    seed: int


#: Solves every part of a round (in order): ``run(solve_part, parts)``.
Runner = Callable[[Callable[[Part], Solution], Sequence[Part]], list[Solution]]


def solve_part(part: Part) -> Solution:
    """Solve one sub-problem with PyVRP (a top-level function: workers unpickle it)."""
    return solve(
        part.problem,
        engine="pyvrp",
        time_limit=part.time_limit,
        seed=part.seed,
        initial=part.initial,
    )


def in_turn(function: Callable[[Part], Solution], parts: Sequence[Part]) -> list[Solution]:
    """The default runner: every part in this process, one after the other."""
    return [function(part) for part in parts]


def decomposable(problem: Problem) -> bool:
    """Jobs only, one depot that every vehicle starts and ends at, and one trip per route
    (the parts are re-solved from visits without reloads)."""
    depots = {vt.start for vt in problem.vehicle_types} | {vt.end for vt in problem.vehicle_types}
    single_trip = not any(vt.reload_depots for vt in problem.vehicle_types)
    return not problem.shipments and len(depots) == 1 and None not in depots and single_trip


def part_size_for(problem: Problem) -> int:
    """Stops per part: `PART_SIZE`, or `ROUTES_PER_PART` routes' worth where routes are
    long. A route's length is estimated from the fewest routes the loads need (on the
    tightest of the capacities), as the solution is not known yet."""
    if not problem.jobs or not problem.vehicle_types:
        return PART_SIZE
    capacity = [max(c) for c in zip(*(vt.capacity for vt in problem.vehicle_types), strict=True)]
    demand = [sum(d) for d in zip(*(job.demand for job in problem.jobs), strict=True)]
    routes = max(
        (math.ceil(total / cap) for total, cap in zip(demand, capacity, strict=True) if cap > 0),
        default=1,
    )
    stops_per_route = len(problem.jobs) / max(1, routes)
    return max(PART_SIZE, math.ceil(ROUTES_PER_PART * stops_per_route))


def solve_decomposed(
    problem: Problem,
    coords: npt.NDArray[np.float64],
    *,
    time_limit: float,
    seed: int = 1,
    workers: int = 1,
    run: Runner = in_turn,
    part_size: int | None = None,
) -> Solution:
    """Solve ``problem`` by rounds of sub-problems of about ``part_size`` stops (by default
    `part_size_for` the problem) until ``time_limit`` seconds have passed. ``coords`` (one
    x, y row per location) place the stops around the depot; ``workers`` is how many parts
    ``run`` solves at once (it sizes a round so that the last one ends by the time limit)."""
    started = time.perf_counter()
    if part_size is None:
        part_size = part_size_for(problem)
    parts_count = math.ceil(len(problem.jobs) / part_size)
    if not decomposable(problem) or parts_count < 2 or problem.num_vehicles < 2 * parts_count:
        # A fleet this small cannot be shared out to the parts without starving some.
        return solve(problem, engine="pyvrp", time_limit=time_limit, seed=seed)
    depot = problem.vehicle_types[0].start
    angle = np.arctan2(coords[:, 1] - coords[depot, 1], coords[:, 0] - coords[depot, 0])
    jobs = {job.id: job for job in problem.jobs}
    waves = max(1, workers)

    def budget(parts: int) -> float:
        """Seconds per part so that the round's parts, ``waves`` at a time, fit in the time
        left (less a tenth for building the parts and putting the routes together)."""
        left = time_limit - (time.perf_counter() - started)
        per_part = SECONDS_PER_100_STOPS * part_size / 100
        rounds_of_parts = math.ceil(parts / waves)
        return min(per_part, 0.9 * left / rounds_of_parts)

    # Round 0: sectors of stops by angle, each solved from scratch.
    order = sorted(problem.jobs, key=lambda j: (angle[j.stop.location], j.id))
    count = parts_count
    sectors = [order[k * len(order) // count : (k + 1) * len(order) // count] for k in range(count)]
    fleets = _share_fleet(problem, [len(s) for s in sectors], used=None)
    # The first round runs whatever the time limit: it makes the routes the others improve.
    first = max(MIN_PART_S, budget(len(sectors)))
    parts = [
        Part(_sub_problem(problem, s, fleet), None, first, seed + k)
        for k, (s, fleet) in enumerate(zip(sectors, fleets, strict=True))
    ]
    routes: list[PlannedRoute] = []
    for result in run(solve_part, parts):
        routes += _planned(problem, result)
    current = _assembled(problem, routes, seed, started)

    round_no = improved_parts = 0
    while True:
        round_no += 1
        groups = _groups(problem, current, angle, part_size, offset=round_no)
        counts = [sum(len(r.visits) for r in g) for g in groups]
        used = [
            [sum(r.vehicle_type == t for r in g) for t in range(len(problem.vehicle_types))]
            for g in groups
        ]
        fleets = _share_fleet(problem, counts, used=used)
        seconds = budget(len(groups))
        if seconds < MIN_PART_S:
            break  # too little time left for a round that could improve anything
        parts = []
        for k, (group, fleet) in enumerate(zip(groups, fleets, strict=True)):
            members = [jobs[job_id] for route in group for job_id, _ in route.visits]
            sub = _sub_problem(problem, members, fleet)
            warm = _assembled(sub, _renumbered(problem, sub, group), seed, time.perf_counter())
            parts.append(Part(sub, warm, seconds, seed + 1000 * round_no + k))
        improved: list[PlannedRoute] = []
        kept: list[list[PlannedRoute]] = []
        for group, part, result in zip(groups, parts, run(solve_part, parts), strict=True):
            better = (
                not result.unassigned
                and part.initial is not None
                and result.objective < part.initial.objective
            )
            kept.append(_planned(problem, result) if better else group)
            improved += kept[-1]
        current = _assembled(problem, improved, seed, started)
        improved_parts += sum(r is not g for r, g in zip(kept, groups, strict=True))
    # What the search did, for a benchmark's table: the improving rounds after the first.
    stats = {"rounds": float(round_no - 1), "parts_improved": float(improved_parts)}
    return replace(current, stats=stats, runtime_s=time.perf_counter() - started)


def _assembled(problem: Problem, routes: list[PlannedRoute], seed: int, since: float) -> Solution:
    plan = EnginePlan(routes=tuple(routes))
    return assemble(problem, plan, {}, "pyvrp+decomposition", time.perf_counter() - since, seed)


def _planned(whole: Problem, solution: Solution) -> list[PlannedRoute]:
    """A sub-problem's routes as routes of the whole problem (job ids are the same)."""
    type_index = {vt.id: n for n, vt in enumerate(whole.vehicle_types)}
    return [
        PlannedRoute(
            type_index[route.vehicle_type], tuple((v.job_id, v.step) for v in route.visits)
        )
        for route in solution.routes
    ]


def _renumbered(whole: Problem, sub: Problem, group: list[PlannedRoute]) -> list[PlannedRoute]:
    """A group's routes with the sub-problem's vehicle type indices."""
    sub_index = {vt.id: n for n, vt in enumerate(sub.vehicle_types)}
    return [
        PlannedRoute(sub_index[whole.vehicle_types[r.vehicle_type].id], r.visits) for r in group
    ]


def _groups(
    problem: Problem,
    solution: Solution,
    angle: npt.NDArray[np.float64],
    part_size: int,
    offset: int,
) -> list[list[PlannedRoute]]:
    """The current routes in order of their barycentre's angle, cut into groups of about
    ``part_size`` stops, the cut starting ``offset`` routes further round each time."""
    type_index = {vt.id: n for n, vt in enumerate(problem.vehicle_types)}
    routes = sorted(
        solution.routes,
        key=lambda r: (_barycentre_angle(angle, [v.location for v in r.visits]), r.job_ids()),
    )
    if not routes:
        return []
    total = sum(len(r.visits) for r in routes)
    count = max(1, round(total / part_size))
    # Move the borders by a third of a group each round.
    shift = (offset * max(1, len(routes) // count // 3)) % len(routes)
    routes = routes[shift:] + routes[:shift]
    groups: list[list[PlannedRoute]] = [[] for _ in range(count)]
    seen = 0
    for route in routes:
        k = min(count - 1, seen * count // total)
        groups[k].append(
            PlannedRoute(
                type_index[route.vehicle_type], tuple((v.job_id, Step.JOB) for v in route.visits)
            )
        )
        seen += len(route.visits)
    return [g for g in groups if g]


def _barycentre_angle(angle: npt.NDArray[np.float64], locations: list[int]) -> float:
    """The mean direction of a route's stops seen from the depot (a circular mean, so a
    route across the -π/π line is not put on the far side)."""
    a = angle[locations]
    return float(np.arctan2(np.sin(a).mean(), np.cos(a).mean()))


def _share_fleet(
    problem: Problem, counts: list[int], used: list[list[int]] | None
) -> list[list[int]]:
    """Vehicles of each type for each part: the routes of that type it has (``used``, part
    by type), plus a share of the vehicles no route uses, in proportion to its stops; never
    more than the fleet."""
    total = max(1, sum(counts))
    types = range(len(problem.vehicle_types))
    own = used if used is not None else [[0 for _ in types] for _ in counts]
    spare = [vt.count - sum(o[t] for o in own) for t, vt in enumerate(problem.vehicle_types)]
    return [
        [own[n][t] + max(0, spare[t] * count // total) for t in types]
        for n, count in enumerate(counts)
    ]


def _sub_problem(problem: Problem, members: Sequence[Job], fleet: list[int]) -> Problem:
    """The problem of ``members`` alone: the depot and their locations, matrices of those
    only, the vehicle types with ``fleet`` vehicles each (types with none left out)."""
    depot = problem.vehicle_types[0].start
    locations = [
        depot,
        *dict.fromkeys(j.stop.location for j in members if j.stop.location != depot),
    ]
    index = {loc: n for n, loc in enumerate(locations)}
    ix = np.ix_(locations, locations)
    distances = problem.distances[ix]
    distances.flags.writeable = False
    if problem.durations is problem.distances:
        durations = distances
    else:
        durations = problem.durations[ix]
        durations.flags.writeable = False
    types: list[VehicleType] = [
        replace(vt, start=0, end=0, count=count)
        for vt, count in zip(problem.vehicle_types, fleet, strict=True)
        if count > 0
    ]
    sub_jobs = tuple(
        replace(j, stop=replace(j.stop, location=index[j.stop.location])) for j in members
    )
    return Problem(
        locations=tuple(problem.locations[loc] for loc in locations),
        distances=distances,
        durations=durations,
        vehicle_types=tuple(types),
        jobs=sub_jobs,
        dimensions=problem.dimensions,
        name=f"{problem.name}-part",
    )
