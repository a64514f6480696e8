"""Turn an ordered list of visits into a timed, loaded, costed :class:`Route`.

Service starts as early as possible in the first window that is still open on arrival;
the departure from the start is then delayed as far as possible without arriving later at
the end, so waiting is spent at the depot rather than at a customer's door.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from doorstep.optimize.costs import route_cost_units, units_to_cents
from doorstep.optimize.problem import Problem, Step, TimeWindow, VehicleType
from doorstep.optimize.solution import Route, Visit
from doorstep.optimize.tasks import Task, load_change, start_load, stop_of


@dataclass(frozen=True, slots=True)
class _Timed:
    arrival: int
    service_start: int
    departure: int
    window: TimeWindow | None  # None: arrived after every window closed


def earliest_departure(problem: Problem, vt: VehicleType) -> int:
    opening = problem.locations[vt.start].opening
    return max(vt.shift.start, opening.start if opening else 0)


def latest_departure(problem: Problem, vt: VehicleType) -> int:
    opening = problem.locations[vt.start].opening
    return min(vt.shift.end, opening.end if opening else vt.shift.end)


def _forward(
    problem: Problem,
    vt: VehicleType,
    tasks: Mapping[str, Task],
    visits: Sequence[tuple[str, Step]],
    depart: int,
) -> tuple[list[_Timed], int]:
    """Times of every visit and of the arrival at the end, leaving the start at ``depart``."""
    timed: list[_Timed] = []
    t, here = depart, vt.start
    for job_id, step in visits:
        stop = stop_of(tasks[job_id], step)
        arrival = t + int(problem.durations[here, stop.location])
        window = next((w for w in stop.windows() if w.end >= arrival), None)
        service_start = max(arrival, window.start) if window else arrival
        t = service_start + stop.service
        timed.append(_Timed(arrival, service_start, t, window))
        here = stop.location
    end = t if vt.end is None else t + int(problem.durations[here, vt.end])
    return timed, end


def _departure_delay(timed: list[_Timed], room: int) -> int:
    """How long the start can be postponed without arriving later anywhere it matters."""
    delay, waited = room, 0
    for visit in timed:
        waited += visit.service_start - visit.arrival
        if visit.window is not None:
            delay = min(delay, waited + visit.window.end - visit.service_start)
    return max(0, min(delay, waited))


def build_route(
    problem: Problem,
    vehicle_type: int,
    vehicle: int,
    visits: Sequence[tuple[str, Step]],
    tasks: Mapping[str, Task],
) -> Route:
    vt = problem.vehicle_types[vehicle_type]
    depart = earliest_departure(problem, vt)
    timed, _ = _forward(problem, vt, tasks, visits, depart)
    depart += _departure_delay(timed, latest_departure(problem, vt) - depart)
    timed, end = _forward(problem, vt, tasks, visits, depart)

    load = start_load(tasks, [job_id for job_id, _ in visits], len(problem.dimensions))
    first_load = load
    out: list[Visit] = []
    distance, here = 0, vt.start
    for (job_id, step), times in zip(visits, timed, strict=True):
        task = tasks[job_id]
        stop = stop_of(task, step)
        load = tuple(a + b for a, b in zip(load, load_change(task, step), strict=True))
        distance += int(problem.distances[here, stop.location])
        here = stop.location
        out.append(
            Visit(
                job_id,
                step,
                stop.location,
                times.arrival,
                times.service_start,
                times.departure,
                load,
            )
        )
    if vt.end is not None:
        distance += int(problem.distances[here, vt.end])
    duration = end - depart
    return Route(
        vehicle_type=vt.id,
        vehicle=vehicle,
        visits=tuple(out),
        start_time=depart,
        end_time=end,
        start_load=first_load,
        distance=distance,
        duration=duration,
        cost=units_to_cents(route_cost_units(vt, distance, duration)),
    )
