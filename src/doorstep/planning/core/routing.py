"""Route one territory's stop groups with the optimization core and read blocks back.

Station stock is a depot delivery (a job only station cars may take: the ``station``
feature); store and mall stock is a pickup→delivery shipment any car may take, so a station
driver can swing by the mall and a mall driver's run can mix stores.  Every group is
optional with a prize equal to its cheapest other channel: the solver itself leaves to the
partner stores and carriers what our drivers would carry at a loss.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from doorstep.optimize import (
    EnginePlan,
    PlannedRoute,
    Problem,
    ProblemBuilder,
    Route,
    Solution,
    Step,
    VehicleType,
    check,
    solve,
)
from doorstep.optimize.solve import assemble
from doorstep.planning.core.decompose import Supplies
from doorstep.planning.core.groups import StopGroup
from doorstep.planning.core.model import (
    HOUR,
    MILE_M,
    Block,
    BlockStop,
    Channel,
    DayInput,
    DriverSupply,
    SiteKind,
)

STATION_FEATURE = "station"
#: Store stock goes first to the drivers waiting at the stores and malls: with a station
#: car allowed too, a short search often fills station cars with store runs and leaves the
#: store drivers idle.  The sweep over leftovers lets any spare car take them.
STORE_FEATURE = "store_pickup"


class PlanningBug(RuntimeError):
    """A planned route failed the optimization core's checker: a bug, never bad input."""


@dataclass(frozen=True)
class TerritoryTask:
    """Everything a worker process needs to route one territory (picklable)."""

    name: str
    day: DayInput
    groups: tuple[StopGroup, ...]
    prizes: tuple[int, ...]  # per group, cents
    supplies: Supplies
    time_limit_s: float
    seed: int
    max_iterations: int | None
    any_car_picks_up: bool = False  # the sweep: store stock may go with any spare car
    #: Routes the search starts from, each a vehicle type id and its visits (two
    #: neighbouring territories' routes, routed again as one).
    initial: tuple[tuple[str, tuple[tuple[str, Step], ...]], ...] = ()


@dataclass(frozen=True)
class TerritoryResult:
    name: str
    problem: Problem
    solution: Solution


def vehicle_type_id(supply: DriverSupply, index: int) -> str:
    """``site#n``: ``n`` is the supply's index in ``DayInput.drivers`` (spare-driver count)."""
    return f"{supply.start_site}#{index}"


def supply_index(vehicle_type: str) -> int:
    return int(vehicle_type.rsplit("#", 1)[1])


@dataclass(frozen=True)
class Routed:
    """A territory's result and its stop groups by id."""

    result: TerritoryResult
    groups: dict[str, StopGroup]


def build_problem(task: TerritoryTask) -> Problem:
    day, costs = task.day, task.day.costs
    b = ProblemBuilder(dimensions=("volume_cm3", "weight_g"), name=task.name)
    points: list[tuple[float, float]] = []
    site_loc: dict[str, int] = {}

    def site_location(site_id: str) -> int:
        if site_id not in site_loc:
            site = day.site(site_id)
            assert site is not None, site_id
            site_loc[site_id] = b.add_location(site_id, opening=site.opening)
            points.append((site.lat, site.lng))
        return site_loc[site_id]

    for _, supply in task.supplies:
        site_location(supply.start_site)
    for g in task.groups:
        if g.origin != day.station:
            site_location(g.origin)
    stop_loc = []
    for g in task.groups:
        stop_loc.append(b.add_location(g.id))
        points.append((g.lat, g.lng))
    travel = day.travel.matrix(points, depart_s=day.departure_s())
    b.set_matrices(travel.distances, travel.durations)

    longest = max(day.block_lengths_s)
    store_cars = any(
        s.count > 0
        and (site := day.site(s.start_site)) is not None
        and site.kind is not SiteKind.STATION
        for _, s in task.supplies
    )
    reserve = store_cars and not task.any_car_picks_up
    wave_ready = max((g.ready_s for g in task.groups if g.origin == day.station), default=0)
    for index, supply in task.supplies:
        if supply.count <= 0:
            continue
        site = day.site(supply.start_site)
        assert site is not None
        is_station = site.kind is SiteKind.STATION
        # Multi-trip: a station car may come back for its next load (the station's stock
        # is ready by the wave; store parcels ride a pickup→delivery pair within one trip).
        reloads = day.max_reloads if is_station else 0
        # Station cars leave once the wave's packages are sorted (the core has no release
        # time per depot delivery, so the wave's latest ready time bounds the shift).
        earliest = max(supply.available[0], wave_ready) if is_station else supply.available[0]
        b.add_vehicle_type(
            vehicle_type_id(supply, index),
            start=site_loc[supply.start_site],
            end=site_loc[supply.start_site] if is_station else None,
            capacity=(supply.capacity_cm3, supply.capacity_g),
            count=supply.count,
            shift=(min(earliest, supply.available[1]), supply.available[1]),
            max_duration=longest,
            fixed_cost=supply.scaled(costs.route_fixed_cost_cents),
            cost_per_hour=supply.scaled(costs.driver_pay_per_hour_cents),
            cost_per_km=supply.scaled(round(costs.driver_pay_per_mile_cents * 1000 / MILE_M)),
            features={STATION_FEATURE} if is_station else {STORE_FEATURE},
            reload_depots=(site_loc[supply.start_site],) if reloads else (),
            max_reloads=reloads,
            reload_service=day.reload_s,
        )
    for g, loc, prize in zip(task.groups, stop_loc, task.prizes, strict=True):
        if g.origin == day.station:
            b.add_job(
                g.id,
                location=loc,
                demand=(g.volume_cm3, g.weight_g),
                service=g.service_s,
                time_windows=[g.window],
                prize=prize,
                required_features={STATION_FEATURE},
            )
        else:
            store = day.site(g.origin)
            assert store is not None
            opens, closes = max(store.opening[0], g.ready_s), store.opening[1]
            b.add_shipment(
                g.id,
                pickup=site_loc[g.origin],
                delivery=loc,
                amount=(g.volume_cm3, g.weight_g),
                pickup_service=store.pickup_service_s,
                delivery_service=g.service_s,
                pickup_time_windows=[(min(opens, closes), closes)],
                delivery_time_windows=[g.window],
                prize=prize,
                required_features={STORE_FEATURE} if reserve else (),
            )
    return b.build()


def verified(problem: Problem, solution: Solution) -> Solution:
    report = check(problem, solution)
    if not report.feasible:
        raise PlanningBug(f"{problem.name}: checker found {report.violations[:5]}")
    return solution


def solve_territory(task: TerritoryTask) -> TerritoryResult:
    """Route one territory; module-level so a process pool can run it."""
    problem = build_problem(task)
    if not problem.tasks() or not any(s.count > 0 for _, s in task.supplies):
        solution = verified(problem, assemble(problem, EnginePlan(routes=()), {}, "none", 0, 0))
        return TerritoryResult(task.name, problem, solution)
    # One core per territory: the planner routes territories on its own worker processes,
    # and a plan must not depend on how many there are.
    solution = solve(
        problem,
        time_limit=task.time_limit_s,
        seed=task.seed,
        max_iterations=task.max_iterations,
        workers=1,
        initial=_start(problem, task) if task.initial else None,
    )
    return TerritoryResult(task.name, problem, verified(problem, solution))


def as_given(task: TerritoryTask) -> TerritoryResult:
    """``task.initial`` as the territory's plan, without a search: the share of a plan that
    was routed together with another territory's stops."""
    problem = build_problem(task)
    if task.initial:
        solution = _start(problem, task)
    else:
        solution = assemble(problem, EnginePlan(routes=()), {}, "none", 0, 0)
    return TerritoryResult(task.name, problem, verified(problem, solution))


def _start(problem: Problem, task: TerritoryTask) -> Solution:
    """``task.initial`` as a plan of ``problem`` (its vehicle types by id)."""
    index = {vt.id: n for n, vt in enumerate(problem.vehicle_types)}
    planned = tuple(PlannedRoute(index[vt], visits) for vt, visits in task.initial)
    return assemble(problem, EnginePlan(planned), {}, "start", 0.0, task.seed)


def without(problem: Problem, solution: Solution, removed: set[str]) -> Solution:
    """The same routes minus the ``removed`` tasks, re-timed by the core and checked."""
    index = {vt.id: n for n, vt in enumerate(problem.vehicle_types)}
    planned = []
    for route in solution.routes:
        visits = tuple((v.job_id, v.step) for v in route.visits if v.job_id not in removed)
        if visits:
            planned.append(PlannedRoute(index[route.vehicle_type], visits))
    rebuilt = assemble(problem, EnginePlan(tuple(planned)), {}, solution.engine, 0.0, 0)
    return verified(problem, rebuilt)


def block_length(day: DayInput, duration_s: int) -> int:
    """The shortest block length on offer that covers the route."""
    fitting = [length for length in sorted(day.block_lengths_s) if length >= duration_s]
    return fitting[0] if fitting else max(day.block_lengths_s)


def block_pay(
    day: DayInput, duration_s: int, distance_m: int, premium_pct: int = 0
) -> tuple[int, int]:
    """(length sold, pay): a block is paid for its whole length, plus mileage."""
    length = block_length(day, duration_s)
    costs = day.costs
    hours = max(costs.min_block_pay_cents, length * costs.driver_pay_per_hour_cents // HOUR)
    pay = hours + round(distance_m / MILE_M * costs.driver_pay_per_mile_cents)
    return length, pay * (100 + premium_pct) // 100


def route_premium(day: DayInput, route: Route) -> int:
    return day.drivers[supply_index(route.vehicle_type)].pay_premium_pct


def route_pay(day: DayInput, route: Route) -> tuple[int, int]:
    """(length sold, pay) of a planned route."""
    return block_pay(day, route.duration, route.distance, route_premium(day, route))


def vehicle_type_of(problem: Problem, route: Route) -> VehicleType:
    return next(v for v in problem.vehicle_types if v.id == route.vehicle_type)


def route_locations(problem: Problem, route: Route) -> list[int]:
    """The locations the driver passes: start, every visit, end (the last visit if open)."""
    vt = vehicle_type_of(problem, route)
    locs = [vt.start, *(v.location for v in route.visits)]
    locs.append(vt.end if vt.end is not None else locs[-1])
    return locs


def pay_rates(day: DayInput, route: Route) -> tuple[float, float]:
    """(cents per metre, cents per second) of the route's driver, premium included."""
    scale = (100 + route_premium(day, route)) / 100
    return (
        scale * day.costs.driver_pay_per_mile_cents / MILE_M,
        scale * day.costs.driver_pay_per_hour_cents / HOUR,
    )


def marginal_costs(day: DayInput, problem: Problem, route: Route) -> dict[str, int]:
    """Per task on the route, what dropping its delivery stop would save (detour + service)."""
    locs = route_locations(problem, route)
    dist, dur = problem.distances, problem.durations
    per_m, per_s = pay_rates(day, route)
    found: dict[str, int] = {}
    for i, visit in enumerate(route.visits, start=1):
        if visit.is_reload:
            continue
        a, here, c = locs[i - 1], locs[i], locs[i + 1]
        metres = int(dist[a, here] + dist[here, c] - dist[a, c])
        seconds = int(dur[a, here] + dur[here, c] - dur[a, c])
        seconds += visit.departure - visit.service_start
        found[visit.job_id] = found.get(visit.job_id, 0) + round(metres * per_m + seconds * per_s)
    return found


def route_to_block(
    day: DayInput, problem: Problem, route: Route, groups: dict[str, StopGroup], block_id: str
) -> Block:
    vt = vehicle_type_of(problem, route)
    start_site = problem.locations[vt.start].name
    stops: list[BlockStop] = []
    trips = route.trips()
    for visit in route.visits:
        if visit.is_reload:
            trip = trips[len([s for s in stops if s.is_reload]) + 1]
            station = day.site(problem.locations[visit.location].name)
            assert station is not None
            loaded = tuple(
                p.id for v in trip if v.step is Step.JOB for p in groups[v.job_id].packages
            )
            stops.append(
                BlockStop(
                    lat=station.lat,
                    lng=station.lng,
                    site=station.id,
                    arrival_s=visit.arrival,
                    departure_s=visit.departure,
                    is_reload=True,
                    loaded=loaded,
                )
            )
            continue
        group = groups[visit.job_id]
        ids = tuple(p.id for p in group.packages)
        pickup = visit.step is Step.PICKUP
        site = problem.locations[visit.location].name if pickup else None
        lat, lng = (group.lat, group.lng)
        if pickup:
            store = day.site(group.origin)
            assert store is not None
            lat, lng = store.lat, store.lng
        last = stops[-1] if stops else None
        same_place = last is not None and (last.lat, last.lng, last.site) == (lat, lng, site)
        if last is not None and same_place and not last.is_reload:
            stops[-1] = replace(
                last,
                departure_s=visit.departure,
                picked_up=last.picked_up + (ids if pickup else ()),
                delivered=last.delivered + (() if pickup else ids),
            )
            continue
        stops.append(
            BlockStop(
                lat=lat,
                lng=lng,
                site=site,
                arrival_s=visit.arrival,
                departure_s=visit.departure,
                picked_up=ids if pickup else (),
                delivered=() if pickup else ids,
            )
        )
    loads = np.array([route.start_load, *(v.load for v in route.visits)], dtype=np.int64)
    length, pay = route_pay(day, route)
    any_pickup = any(s.picked_up for s in stops)
    return Block(
        id=block_id,
        start_site=start_site,
        start_s=route.start_time,
        end_s=route.end_time,
        length_s=length,
        stops=tuple(stops),
        distance_m=route.distance,
        pay_cents=pay,
        max_load_cm3=int(loads[:, 0].max()),
        max_load_g=int(loads[:, 1].max()),
        channel=Channel.STORE_RUN if any_pickup else Channel.STATION_ROUTE,
    )
