"""PyVRP 0.14 engine: the default for planning.

Mapping (see docs/optimize.md):
- every client visit and shipment step gets a PyVRP location of its own (matrices are
  re-indexed with NumPy), so a vehicle feature can forbid a visit without touching others
  at the same address: each distinct feature set is a profile whose arcs into forbidden
  visits are prohibitively long;
- a job with several time windows becomes one client per window in a mutually exclusive
  client group (exactly one is served if the job is required, at most one if optional);
- every start/end location is a depot with the location's opening hours; an open end is a
  depot reached at no distance and no time from anywhere;
- a reload location is a depot of its own per reload time (PyVRP spends a depot's service
  duration at the start of *every* trip, the first one too, so the start depot keeps none),
  given to the vehicle type as ``reload_depots`` with its ``max_reloads``; a depot in the
  middle of PyVRP's schedule comes back as a reload visit;
- costs are exact integers in the units of :mod:`doorstep.optimize.costs`, divided by their
  greatest common divisor to keep PyVRP's numbers small;
- required jobs are required clients; if the best solution found is infeasible the
  problem is solved again with every required job optional at a prize larger than any
  route could cost, so whatever cannot fit is left out instead of breaking the plan.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import (
    FirstFeasible,
    MaxIterations,
    MaxRuntime,
    MultipleCriteria,
    StoppingCriterion,
)

from doorstep.optimize.costs import (
    UNITS_PER_CENT,
    distance_coefficient,
    duration_coefficient,
)
from doorstep.optimize.engines.base import EnginePlan, PlannedRoute
from doorstep.optimize.problem import (
    HORIZON,
    Feature,
    JobKind,
    Problem,
    Step,
    reload_location,
    reload_visit,
)
from doorstep.optimize.solution import Solution

#: Length of an arc into a visit the vehicle type may not make.
FORBIDDEN_ARC = 10**9


@dataclass
class _Mapping:
    """What each PyVRP client, shipment and vehicle type stands for."""

    client_job: list[str] = field(default_factory=list)
    client_windows: list[tuple[int, int]] = field(default_factory=list)
    shipment_ids: list[str] = field(default_factory=list)
    vehicle_type_index: list[int] = field(default_factory=list)
    depot_location: list[int] = field(default_factory=list)  # our location, -1 the open end
    reload_depot: dict[tuple[int, int], int] = field(default_factory=dict)  # (loc, time)


class PyVRPEngine:
    name = "pyvrp"
    supported = frozenset(Feature) - {Feature.SHIPMENT_MULTIPLE_TIME_WINDOWS}

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float,
        seed: int,
        initial: Solution | None = None,
        max_iterations: int | None = None,
    ) -> EnginePlan:
        data, mapping = to_problem_data(problem, soften_required=False)
        start = _initial_solution(data, mapping, problem, initial)
        if start is None and _fleet_first(problem):
            result = _solve_fleet_first(data, time_limit, seed, max_iterations)
        else:
            result = _run(data, _stop(time_limit, max_iterations), seed, start)
        stats = {"iterations": float(result.num_iterations), "softened": 0.0}
        if not result.is_feasible():
            # Not everything fits together: let the solver leave out what it must. It starts
            # from the routes it has and gets a share of the budget, not a second budget: the
            # caller's time limit is what a dispatcher waits for.
            softened, mapping = to_problem_data(problem, soften_required=True)
            warm = _routes_in(softened, result.best.routes())
            result = _run(softened, _stop(FALLBACK_SHARE * time_limit, max_iterations), seed, warm)
            stats = {"iterations": float(result.num_iterations), "softened": 1.0}
        return EnginePlan(routes=_routes(result.best, mapping), stats=stats)


# What an infeasible first search leaves its soft re-solve, as a share of the time limit.
FALLBACK_SHARE = 0.25


def _run(
    data: pyvrp.ProblemData,
    stop: StoppingCriterion,
    seed: int,
    initial: pyvrp.Solution | None,
) -> pyvrp.Result:
    with warnings.catch_warnings():
        # Infeasible problems are expected and handled by the caller; PyVRP's hint is noise.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(data, stop, seed=seed, collect_stats=False, initial_solution=initial)


def _fleet_first(problem: Problem) -> bool:
    """Worth trying to save whole vehicles: one vehicle type with a fixed cost, every job
    required (e.g. Li & Lim, where vehicles count first)."""
    return (
        len(problem.vehicle_types) == 1
        and problem.vehicle_types[0].fixed_cost > 0
        and all(task.required for task in problem.tasks())
    )


def _solve_fleet_first(
    data: pyvrp.ProblemData, time_limit: float, seed: int, max_iterations: int | None
) -> pyvrp.Result:
    """Search, then repeatedly try to serve everything with one vehicle fewer, then polish.

    A large fixed cost alone rarely removes a route: emptying one means passing through
    many worse plans.  Capping the fleet below the current route count forces the search
    to look for such plans directly (as in PyVRP's ``minimise_fleet``).
    """
    started = time.perf_counter()
    iterations = max_iterations or 0

    def budget(share_of_time: float, share_of_iterations: float) -> StoppingCriterion:
        left = max(0.01, time_limit - (time.perf_counter() - started))
        seconds = MaxRuntime(min(left, share_of_time * time_limit))
        if not iterations:
            return seconds
        return MultipleCriteria([MaxIterations(int(share_of_iterations * iterations)), seconds])

    first = _run(data, budget(0.15, 0.15), seed, None)
    if not first.is_feasible():
        return _run(data, budget(0.6, 0.6), seed, first.best)
    best, current = first.best, data
    fleet = data.vehicle_type(0)
    while best.num_routes() > 1 and time.perf_counter() - started < 0.85 * time_limit:
        smaller = data.replace(vehicle_types=[fleet.replace(num_available=best.num_routes() - 1)])
        attempt = _run(
            smaller,
            MultipleCriteria([FirstFeasible(), budget(0.6, 0.2)]),
            seed,
            _without_smallest_route(smaller, best),
        )
        if not attempt.is_feasible():
            break
        best, current = attempt.best, smaller
    final = _run(current, budget(1.0, 0.5), seed, best)
    return final if final.is_feasible() and final.cost() <= first.cost() else first


def _without_smallest_route(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> pyvrp.Solution:
    """The solution minus its shortest route, as a warm start for a smaller fleet."""
    return _routes_in(data, sorted(solution.routes(), key=len)[1:])


def _routes_in(data: pyvrp.ProblemData, routes: Sequence[pyvrp.Route]) -> pyvrp.Solution:
    """The same visits as a solution of ``data`` (the same clients, other costs or fleet)."""
    return pyvrp.Solution(
        data,
        [
            pyvrp.Route(
                data,
                [pyvrp.Activity(a.type, a.idx) for a in r.schedule()[1:-1]],
                r.vehicle_type(),
            )
            for r in routes
        ],
    )


def _stop(time_limit: float, max_iterations: int | None) -> StoppingCriterion:
    if max_iterations is None:
        return MaxRuntime(time_limit)
    return MultipleCriteria([MaxIterations(max_iterations), MaxRuntime(time_limit)])


def _scale(problem: Problem, soft_prize: int) -> int:
    """Greatest common divisor of every cost coefficient, to keep PyVRP's numbers small."""
    values = [soft_prize]
    for vt in problem.vehicle_types:
        values += [
            distance_coefficient(vt),
            duration_coefficient(vt),
            vt.fixed_cost * UNITS_PER_CENT,
        ]
    for task in problem.tasks():
        if task.prize is not None:
            values.append(task.prize * UNITS_PER_CENT)
    return math.gcd(*values) or 1


def _soft_prize(problem: Problem) -> int:
    """A prize (cost units) larger than what serving any one job could ever cost."""
    worst = 0
    for vt in problem.vehicle_types:
        worst = max(
            worst,
            vt.fixed_cost * UNITS_PER_CENT
            + distance_coefficient(vt) * 4 * int(problem.distances.max(initial=0))
            + duration_coefficient(vt) * 4 * int(problem.durations.max(initial=0)),
        )
    return 2 * worst + UNITS_PER_CENT


def to_problem_data(
    problem: Problem, *, soften_required: bool
) -> tuple[pyvrp.ProblemData, _Mapping]:
    mapping = _Mapping()
    soft_prize = _soft_prize(problem)
    scale = _scale(problem, soft_prize)
    dims = len(problem.dimensions)

    # PyVRP location k stands for our location origin[k].
    origin: list[int] = []
    depot_of: dict[int | None, int] = {}
    depots: list[pyvrp.Depot] = []
    for loc in dict.fromkeys(
        [vt.start for vt in problem.vehicle_types]
        + [vt.end for vt in problem.vehicle_types if vt.end is not None]
    ):
        opening = problem.locations[loc].opening
        depot_of[loc] = len(depots)
        depots.append(
            pyvrp.Depot(
                location=len(origin),
                tw_early=opening.start if opening else 0,
                tw_late=opening.end if opening else HORIZON,
                name=problem.locations[loc].name,
            )
        )
        origin.append(loc)
        mapping.depot_location.append(loc)
    sink: int | None = None
    if any(vt.end is None for vt in problem.vehicle_types):
        sink = len(origin)
        depot_of[None] = len(depots)
        depots.append(pyvrp.Depot(location=sink, name="open end"))
        origin.append(-1)
        mapping.depot_location.append(-1)
    for vt in problem.vehicle_types:
        for loc in vt.reload_depots if vt.max_reloads != 0 else ():
            if (loc, vt.reload_service) in mapping.reload_depot:
                continue
            opening = problem.locations[loc].opening
            mapping.reload_depot[(loc, vt.reload_service)] = len(depots)
            depots.append(
                pyvrp.Depot(
                    location=len(origin),
                    tw_early=opening.start if opening else 0,
                    tw_late=opening.end if opening else HORIZON,
                    service_duration=vt.reload_service,
                    name=f"reload {problem.locations[loc].name}",
                )
            )
            origin.append(loc)
            mapping.depot_location.append(loc)

    visit_features: list[frozenset[str]] = [frozenset()] * len(origin)
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []

    def prize_of(prize: int | None) -> tuple[int, bool]:
        if prize is None:
            return (soft_prize // scale, False) if soften_required else (0, True)
        return prize * UNITS_PER_CENT // scale, False

    for job in problem.jobs:
        prize, required = prize_of(job.prize)
        windows = job.stop.windows()
        group: int | None = None
        if len(windows) > 1:
            group = len(groups)
            groups.append(pyvrp.ClientGroup(required=required))
        zero = [0] * dims
        for tw in windows:
            if group is not None:
                groups[group].add_client(len(clients))
            clients.append(
                pyvrp.Client(
                    location=len(origin),
                    delivery=list(job.demand) if job.kind is JobKind.DELIVERY else zero,
                    pickup=list(job.demand) if job.kind is JobKind.PICKUP else zero,
                    service_duration=job.stop.service,
                    tw_early=tw.start,
                    tw_late=tw.end,
                    prize=prize,
                    required=required and group is None,
                    group=group,
                    name=job.id,
                )
            )
            mapping.client_job.append(job.id)
            mapping.client_windows.append((tw.start, tw.end))
            origin.append(job.stop.location)
            visit_features.append(job.required_features)

    shipments: list[pyvrp.Shipment] = []
    for shipment in problem.shipments:
        prize, required = prize_of(shipment.prize)
        (ptw,) = shipment.pickup.windows()
        (dtw,) = shipment.delivery.windows()
        shipments.append(
            pyvrp.Shipment(
                pickup_location=len(origin),
                delivery_location=len(origin) + 1,
                pickup_tw_early=ptw.start,
                pickup_tw_late=ptw.end,
                pickup_service_duration=shipment.pickup.service,
                delivery_tw_early=dtw.start,
                delivery_tw_late=dtw.end,
                delivery_service_duration=shipment.delivery.service,
                amount=list(shipment.amount),
                prize=prize,
                required=required,
                name=shipment.id,
            )
        )
        mapping.shipment_ids.append(shipment.id)
        origin += [shipment.pickup.location, shipment.delivery.location]
        visit_features += [shipment.required_features] * 2

    distances, durations = _reindex(problem, origin, sink)
    profiles = list(dict.fromkeys(vt.features for vt in problem.vehicle_types))
    if not any(visit_features):
        profiles = [frozenset()]
    # PyVRP's stubs type matrices loosely; they are int64 arrays here.
    distance_matrices: list[Any] = []
    duration_matrices: list[Any] = []
    for features in profiles:
        forbidden = np.array([not needed <= features for needed in visit_features])
        dist, dur = distances.copy(), durations.copy()
        dist[:, forbidden] = FORBIDDEN_ARC
        dur[:, forbidden] = FORBIDDEN_ARC
        np.fill_diagonal(dist, 0)
        np.fill_diagonal(dur, 0)
        distance_matrices.append(dist)
        duration_matrices.append(dur)

    # With no routing cost at all PyVRP's penalties scale to nothing and infeasible plans
    # look free; a unit distance cost breaks the tie towards shorter routes instead.
    costless = all(
        distance_coefficient(vt) == duration_coefficient(vt) == vt.fixed_cost == 0
        for vt in problem.vehicle_types
    )
    free_tiebreak = 1 if costless else 0
    vehicle_types: list[pyvrp.VehicleType] = []
    for index, vt in enumerate(problem.vehicle_types):
        profile = profiles.index(vt.features) if len(profiles) > 1 else 0
        reloads: dict[str, Any] = {}
        if vt.reload_depots and vt.max_reloads != 0:
            reloads["reload_depots"] = [
                mapping.reload_depot[(loc, vt.reload_service)] for loc in vt.reload_depots
            ]
            if vt.max_reloads is not None:
                reloads["max_reloads"] = vt.max_reloads
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=vt.count,
                capacity=list(vt.capacity),
                start_depot=depot_of[vt.start],
                end_depot=depot_of[vt.end],
                fixed_cost=vt.fixed_cost * UNITS_PER_CENT // scale,
                tw_early=vt.shift.start,
                tw_late=vt.shift.end,
                shift_duration=vt.max_duration if vt.max_duration is not None else HORIZON,
                max_distance=vt.max_distance if vt.max_distance is not None else HORIZON * 1000,
                unit_distance_cost=distance_coefficient(vt) // scale or free_tiebreak,
                unit_duration_cost=duration_coefficient(vt) // scale,
                profile=profile,
                name=vt.id,
                **reloads,
            )
        )
        mapping.vehicle_type_index.append(index)

    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in origin],
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=distance_matrices,
        duration_matrices=duration_matrices,
        groups=groups,
        shipments=shipments,
    )
    return data, mapping


def _reindex(
    problem: Problem, origin: Sequence[int], sink: int | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Matrices over PyVRP locations; the open-end sink is free to reach, never left."""
    index = np.array(origin, dtype=np.int64)
    real = np.where(index < 0, 0, index)
    distances = problem.distances[np.ix_(real, real)].astype(np.int64)
    durations = problem.durations[np.ix_(real, real)].astype(np.int64)
    if sink is not None:
        for matrix in (distances, durations):
            matrix[:, sink] = 0
            matrix[sink, :] = FORBIDDEN_ARC
            matrix[sink, sink] = 0
    return distances, durations


def _routes(solution: pyvrp.Solution, mapping: _Mapping) -> tuple[PlannedRoute, ...]:
    routes: list[PlannedRoute] = []
    for route in solution.routes():
        if not route.is_feasible():
            # Only reachable when no feasible plan was found at all: what such a route
            # carries is reported unassigned rather than planned in breach of a constraint.
            continue
        visits: list[tuple[str, Step]] = []
        for activity in route.schedule()[1:-1]:  # between the start and end depots
            if activity.is_depot():
                visits.append(reload_visit(mapping.depot_location[activity.idx]))
            elif activity.is_client():
                visits.append((mapping.client_job[activity.idx], Step.JOB))
            elif activity.is_pickup():
                visits.append((mapping.shipment_ids[activity.idx], Step.PICKUP))
            elif activity.is_delivery():
                visits.append((mapping.shipment_ids[activity.idx], Step.DELIVERY))
        routes.append(PlannedRoute(mapping.vehicle_type_index[route.vehicle_type()], tuple(visits)))
    return tuple(routes)


def _initial_solution(
    data: pyvrp.ProblemData, mapping: _Mapping, problem: Problem, initial: Solution | None
) -> pyvrp.Solution | None:
    """Translate a previous plan into a PyVRP warm start, skipping jobs no longer present."""
    if initial is None:
        return None
    clients_of: dict[str, list[int]] = {}
    for idx, job_id in enumerate(mapping.client_job):
        clients_of.setdefault(job_id, []).append(idx)
    shipment_of = {sid: idx for idx, sid in enumerate(mapping.shipment_ids)}
    type_of = {vt.id: idx for idx, vt in enumerate(problem.vehicle_types)}
    used = [0] * len(problem.vehicle_types)
    seen: set[tuple[str, Step]] = set()
    routes: list[pyvrp.Route] = []
    for route in initial.routes:
        vt = type_of.get(route.vehicle_type)
        if vt is None or used[vt] >= problem.vehicle_types[vt].count:
            continue
        activities: list[pyvrp.Activity] = []
        reload_time = problem.vehicle_types[vt].reload_service
        for visit in route.visits:
            key = (visit.job_id, visit.step)
            if key in seen:
                continue
            if visit.step is Step.RELOAD:
                depot = mapping.reload_depot.get((reload_location(visit.job_id), reload_time))
                if depot is not None and depot in data.vehicle_type(vt).reload_depots:
                    activities.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, depot))
                continue
            if visit.step is Step.JOB and visit.job_id in clients_of:
                candidates = clients_of[visit.job_id]
                chosen = next(
                    (c for c in candidates if _window_holds(mapping, c, visit.service_start)),
                    candidates[0],
                )
                activities.append(pyvrp.Activity(pyvrp.ActivityType.CLIENT, chosen))
            elif visit.step is not Step.JOB and visit.job_id in shipment_of:
                kind = (
                    pyvrp.ActivityType.PICKUP
                    if visit.step is Step.PICKUP
                    else pyvrp.ActivityType.DELIVERY
                )
                activities.append(pyvrp.Activity(kind, shipment_of[visit.job_id]))
            else:
                continue
            seen.add(key)
        if any(not a.is_depot() for a in activities):
            routes.append(_route_or_single_trip(data, activities, vt))
            used[vt] += 1
    # A shipment must be planned with both of its steps or not at all.
    return pyvrp.Solution(data, _drop_half_shipments(data, routes))


def _route_or_single_trip(
    data: pyvrp.ProblemData, activities: list[pyvrp.Activity], vehicle_type: int
) -> pyvrp.Route:
    """The warm start's route; without its reloads if this vehicle type may not make them
    all (PyVRP refuses a route with more trips than the type allows)."""
    try:
        return pyvrp.Route(data, activities, vehicle_type)
    except ValueError:
        return pyvrp.Route(data, [a for a in activities if not a.is_depot()], vehicle_type)


def _window_holds(mapping: _Mapping, client: int, t: int) -> bool:
    early, late = mapping.client_windows[client]
    return early <= t <= late


def _drop_half_shipments(data: pyvrp.ProblemData, routes: list[pyvrp.Route]) -> list[pyvrp.Route]:
    steps: dict[int, int] = {}
    for route in routes:
        for act in route.schedule():
            if act.is_pickup() or act.is_delivery():
                steps[act.idx] = steps.get(act.idx, 0) + 1
    complete = {idx for idx, n in steps.items() if n == 2}
    cleaned: list[pyvrp.Route] = []
    for route in routes:
        acts = [
            pyvrp.Activity(a.type, a.idx)
            for a in route.schedule()[1:-1]
            if a.is_depot() or a.is_client() or a.idx in complete
        ]
        if any(not a.is_depot() for a in acts):
            cleaned.append(pyvrp.Route(data, acts, route.vehicle_type()))
    return cleaned
