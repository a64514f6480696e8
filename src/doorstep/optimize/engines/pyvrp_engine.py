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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp

from doorstep.optimize.costs import (
    UNITS_PER_CENT,
    distance_coefficient,
    duration_coefficient,
)
from doorstep.optimize.engines.base import EnginePlan, PlannedRoute
from doorstep.optimize.engines.pyvrp_search import Found, Leg, Searcher, other_seed
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
        workers: int = 1,
        neighbours: int | None = None,
    ) -> EnginePlan:
        started = time.monotonic()
        deadline = started + time_limit
        # Not everything may fit together: then the last share of the budget goes to a
        # search that may leave out what it must. It is a share, not a second budget: the
        # caller's time limit is what a dispatcher waits for.
        give_up = started + (1 - FALLBACK_SHARE) * time_limit
        data, mapping = to_problem_data(problem, soften_required=False)
        start = _initial_solution(data, mapping, problem, initial)
        whole = Leg(deadline, max_iterations, give_up, neighbours=neighbours)
        with Searcher(workers) as searcher:
            if start is None and vehicles_first(problem):
                # On two cores or more, one of them runs the plain search beside the fleet
                # phase, with the caller's seed (exactly what PyVRP alone would run): the
                # fixed cost alone sometimes saves the vehicle the caps miss.
                plain = searcher.aside(data, whole, seed, None) if searcher.workers > 1 else None
                fleet_seed = other_seed(seed) if plain is not None else seed
                result = _solve_fleet_first(
                    searcher, data, deadline, give_up, fleet_seed, max_iterations, neighbours
                )
                beside = plain() if plain is not None else None
                if beside is not None and beside.cost < result.cost:
                    result = beside
            else:
                result = searcher.search(data, whole, seed, start)
            stats = {"iterations": float(result.iterations), "softened": 0.0}
            if not result.is_feasible():
                softened, mapping = to_problem_data(problem, soften_required=True)
                warm = _routes_in(softened, result.best.routes())
                leg = Leg(
                    max(deadline, time.monotonic() + MIN_FALLBACK_S),
                    max_iterations,
                    neighbours=neighbours,
                )
                result = searcher.search(softened, leg, seed, warm)
                stats = {"iterations": float(result.iterations), "softened": 1.0}
        stats["workers"] = float(searcher.workers)
        return EnginePlan(routes=_routes(result.best, mapping), stats=stats)


#: The share of the time limit left to the softened search when the first one has found
#: no feasible plan by then.
FALLBACK_SHARE = 0.25
#: The softened search gets at least this long (it only leaves out jobs that do not fit).
MIN_FALLBACK_S = 0.05


def vehicles_first(problem: Problem) -> bool:
    """Whether the objective ranks vehicles first, and saving whole vehicles is worth a
    phase of its own: one vehicle type, every job required, and a fixed cost per vehicle
    above any saving in driving a plan could make (e.g. Li & Lim, where vehicles count
    first). A planner's fixed cost that merely weighs a route against its kilometres is
    not: there the search trades the two off by itself."""
    if len(problem.vehicle_types) != 1 or not all(t.required for t in problem.tasks()):
        return False
    vt = problem.vehicle_types[0]
    if vt.fixed_cost <= 0:
        return False
    return vt.fixed_cost * UNITS_PER_CENT > _variable_cost_bound(problem)


def _variable_cost_bound(problem: Problem) -> int:
    """More than the distance and duration cost of any plan (cost units): every stop left
    by its longest arc, and every vehicle out for its whole shift."""
    vt = problem.vehicle_types[0]
    stops = [job.stop.location for job in problem.jobs]
    stops += [
        s.location for shipment in problem.shipments for s in (shipment.pickup, shipment.delivery)
    ]
    stops += [vt.start] * min(vt.count, len(stops))
    longest = np.asarray(problem.distances).max(axis=1)
    distance = int(sum(int(longest[s]) for s in stops))
    span = vt.max_duration if vt.max_duration is not None else vt.shift.end - vt.shift.start
    duration = min(vt.count, len(stops)) * span
    return distance_coefficient(vt) * distance + duration_coefficient(vt) * duration


def _solve_fleet_first(
    searcher: Searcher,
    data: pyvrp.ProblemData,
    deadline: float,
    give_up: float,
    seed: int,
    max_iterations: int | None,
    neighbours: int | None = None,
) -> Found:
    """Search, then repeatedly try to serve everything with one vehicle fewer, then polish.

    A large fixed cost alone rarely removes a route: emptying one means passing through
    many worse plans.  Capping the fleet below the current route count forces the search
    to look for such plans directly (as in PyVRP's ``minimise_fleet``).
    """
    started = time.monotonic()
    time_limit = deadline - started
    iterations = max_iterations or 0

    def leg(share_of_time: float, share_of_iterations: float, first: bool = False) -> Leg:
        ends = min(deadline, time.monotonic() + share_of_time * time_limit)
        count = int(share_of_iterations * iterations) if iterations else None
        return Leg(ends, count, first_feasible=first, neighbours=neighbours)

    first = searcher.search(data, leg(0.15, 0.15), seed, None)
    if not first.is_feasible():
        more = Leg(
            deadline, int(0.6 * iterations) if iterations else None, give_up, neighbours=neighbours
        )
        return searcher.search(data, more, seed, first.best)
    best, current = first, data
    fleet = data.vehicle_type(0)
    while best.best.num_routes() > 1 and time.monotonic() < started + 0.85 * time_limit:
        smaller = data.replace(
            vehicle_types=[fleet.replace(num_available=best.best.num_routes() - 1)]
        )
        attempt = searcher.search(
            smaller, leg(0.6, 0.2, first=True), seed, _without_smallest_route(smaller, best.best)
        )
        if not attempt.is_feasible():
            break
        best, current = attempt, smaller
    final = searcher.search(current, leg(1.0, 0.5), seed, best.best)
    return final if final.is_feasible() and final.cost <= first.cost else first


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
            + distance_coefficient(vt) * 4 * int(np.asarray(problem.distances).max(initial=0))
            + duration_coefficient(vt) * 4 * int(np.asarray(problem.durations).max(initial=0)),
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
    for number, features in enumerate(profiles):
        forbidden = np.array([not needed <= features for needed in visit_features])
        # The last profile takes the matrices themselves (they are this call's own), and
        # one matrix that is both stays one: each copy of a 6,000-stop matrix took 0.5 s.
        last = number == len(profiles) - 1
        dist = distances if last else distances.copy()
        dur = dist if durations is distances else durations if last else durations.copy()
        for matrix in (dist,) if dur is dist else (dist, dur):
            matrix[:, forbidden] = FORBIDDEN_ARC
            np.fill_diagonal(matrix, 0)
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
    # Each a new array already (a fancy index copies); where the problem's durations are its
    # distances, one matrix serves as both.
    distances = problem.distances[np.ix_(real, real)].astype(np.int64, copy=False)
    if problem.durations is problem.distances:
        return _with_sink(distances, sink), distances
    durations = problem.durations[np.ix_(real, real)].astype(np.int64, copy=False)
    return _with_sink(distances, sink), _with_sink(durations, sink)


def _with_sink(matrix: npt.NDArray[np.int64], sink: int | None) -> npt.NDArray[np.int64]:
    """``matrix`` with the open-end sink free to reach and never left."""
    if sink is not None:
        matrix[:, sink] = 0
        matrix[sink, :] = FORBIDDEN_ARC
        matrix[sink, sink] = 0
    return matrix


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
