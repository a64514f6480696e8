"""Shoppers' returns collected from their doors: each goes on the station block where the
detour costs least, as a pickup the car carries back to the station.

A door return is not a delivery the channel choice weighs (it has no other channel than a
driver, and no promise to break): the blocks are planned first, then each return is tried at
every position of the station blocks nearest it as the optimization core's own ``pickup``
job (collected at the stop, carried to the end depot), timed by the core and passed by its
checker: capacity after the pickup, every door's window, the driver's hours and the longest
block on offer. The block is then sold at the length its route now needs, and the return
goes where the pay grows least. A store's stop on a station car's run is a zero-load job in
the store's hours, and every parcel counts as loaded at the station: the capacity check errs
on the safe side. A return no block can take is left for a later wave: the shopper's page
keeps saying when a driver can come.
"""

from __future__ import annotations

from dataclasses import replace

from doorstep.optimize import (
    EnginePlan,
    JobKind,
    PlannedRoute,
    Problem,
    ProblemBuilder,
    Solution,
    Step,
    check,
)
from doorstep.optimize.solve import assemble
from doorstep.planning.core.model import (
    Block,
    BlockStop,
    DayInput,
    DoorReturn,
)
from doorstep.planning.core.routing import block_pay

#: Station blocks tried per return, nearest first (the detour from a far block never wins).
NEAREST_BLOCKS = 4


def add_door_returns(
    day: DayInput, blocks: tuple[Block, ...]
) -> tuple[tuple[Block, ...], tuple[str, ...]]:
    """The blocks with each door return on the one where it costs least, and the returns no
    block could take (their ids), in the input's order."""
    current = list(blocks)
    left: list[str] = []
    for door in day.door_returns:
        best: tuple[int, int, Block] | None = None
        for index in _nearest_station_blocks(day, current, door):
            found = _cheapest_insertion(day, current[index], door)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], index, found[1])
        if best is None:
            left.append(door.id)
            continue
        current[best[1]] = best[2]
    return tuple(current), tuple(left)


def _nearest_station_blocks(day: DayInput, blocks: list[Block], door: DoorReturn) -> list[int]:
    """Station routes (they end at the station), nearest stop first."""
    candidates = []
    for index, block in enumerate(blocks):
        if block.start_site != day.station:  # a store's or mall's car does not end there
            continue
        points = [(s.lat, s.lng) for s in block.stops]
        if not points:
            continue
        nearest = min((lat - door.lat) ** 2 + (lng - door.lng) ** 2 for lat, lng in points)
        candidates.append((nearest, index))
    return [index for _, index in sorted(candidates)[:NEAREST_BLOCKS]]


def _cheapest_insertion(day: DayInput, block: Block, door: DoorReturn) -> tuple[int, Block] | None:
    """(extra cost in cents, the block with the pickup) at the best feasible position."""
    problem = _problem(day, block, door)
    jobs = [f"s{n}" for n in range(len(block.stops))]
    best: tuple[int, Solution, int] | None = None
    base = _solve(problem, jobs)
    if base is None:  # the block as planned must pass; if it does not, leave it alone
        return None
    for position in range(len(jobs) + 1):
        order = [*jobs[:position], door.id, *jobs[position:]]
        solution = _solve(problem, order)
        if solution is None:
            continue
        cost = _pay_cents(day, solution) - _pay_cents(day, base)  # the block sold longer, or miles
        if best is None or cost < best[0]:
            best = (cost, solution, position)
    if best is None:
        return None
    cost, solution, position = best
    return cost, _with_pickup(day, block, door, solution, position, max(0, cost))


def _problem(day: DayInput, block: Block, door: DoorReturn) -> Problem:
    """The block's car, its doors as deliveries from the station, and the return as a pickup
    brought back to it."""
    station = day.site(day.station)
    assert station is not None
    supply = next(s for s in day.drivers if s.start_site == day.station)
    by_id = {p.id: p for p in day.packages}
    b = ProblemBuilder(dimensions=("volume_cm3", "weight_g"), name=f"returns-{block.id}")
    points = [(station.lat, station.lng)]
    depot = b.add_location(station.id, opening=station.opening)
    for n, stop in enumerate(block.stops):
        points.append((stop.lat, stop.lng))
        location = b.add_location(f"s{n}")
        parcels = [by_id[p] for p in stop.delivered if p in by_id]
        windows = [p.window for p in parcels]
        window = (max(w[0] for w in windows), min(w[1] for w in windows)) if windows else (0, 10**9)
        b.add_job(
            f"s{n}",
            location=location,
            demand=(sum(p.volume_cm3 for p in parcels), sum(p.weight_g for p in parcels)),
            service=stop.departure_s - stop.arrival_s,
            time_windows=[window],
        )
    points.append((door.lat, door.lng))
    b.add_job(
        door.id,
        location=b.add_location(door.id),
        demand=(door.volume_cm3, door.weight_g),
        service=door.service_s,
        time_windows=[door.window],
        kind=JobKind.PICKUP,
    )
    travel = day.travel.matrix(points, depart_s=day.departure_s())
    b.set_matrices(travel.distances, travel.durations)
    b.add_vehicle_type(
        block.id,
        start=depot,
        end=depot,
        capacity=(supply.capacity_cm3, supply.capacity_g),
        shift=(block.start_s, max(supply.available[1], block.end_s)),
        max_duration=max(max(day.block_lengths_s), block.length_s),
    )
    return b.build()


def _solve(problem: Problem, order: list[str]) -> Solution | None:
    """The route visiting ``order`` as the core times it, or None when its checker refuses
    it (a full car, a window missed, past the block's length)."""
    visits = tuple((job, Step.JOB) for job in order)
    solution = assemble(problem, EnginePlan((PlannedRoute(0, visits),)), {}, "insertion", 0.0, 0)
    return solution if check(problem, solution).feasible else None


def _pay_cents(day: DayInput, solution: Solution) -> int:
    route = solution.routes[0]
    return block_pay(day, route.duration, route.distance)[1]


def _with_pickup(
    day: DayInput, block: Block, door: DoorReturn, solution: Solution, position: int, extra: int
) -> Block:
    """The block with the pickup at ``position``, timed by the core, paid ``extra`` more (a
    premium the block was offered with stays on top)."""
    route = solution.routes[0]
    stops = list(block.stops)
    at_door = BlockStop(door.lat, door.lng, None, 0, 0, collected=(door.id,))
    stops.insert(position, at_door)
    timed = [
        replace(stop, arrival_s=visit.arrival, departure_s=visit.departure)
        for stop, visit in zip(stops, route.visits, strict=True)
    ]
    length, _ = block_pay(day, route.duration, route.distance)
    return replace(
        block,
        stops=tuple(timed),
        start_s=route.start_time,
        end_s=route.end_time,
        length_s=max(length, block.length_s),
        distance_m=route.distance,
        pay_cents=block.pay_cents + extra,
    )
