"""Turn an ordered list of visits into a timed, loaded, costed :class:`Route`.

Service starts as early as possible in the first window that is still open on arrival;
the departure from the start is then delayed as far as possible without arriving later at
the end, so waiting is spent at the depot rather than at a customer's door.

A reload visit (multi-trip) is a stop at the depot with the vehicle type's reload time,
inside the depot's opening hours; the load after it is the next trip's depot deliveries.
A reload with no job before it or none after it is dropped: it would only cost time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from doorstep.optimize.costs import route_cost_units, units_to_cents
from doorstep.optimize.problem import (
    Problem,
    Step,
    Stop,
    TimeWindow,
    VehicleType,
    reload_location,
)
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


def reload_stop(problem: Problem, vt: VehicleType, visit_id: str) -> Stop:
    """Where and how long a reload is: the depot, its opening hours, the reload time."""
    location = reload_location(visit_id)
    opening = problem.locations[location].opening
    return Stop(location, vt.reload_service, (opening,) if opening else ())


def without_idle_reloads(visits: Sequence[tuple[str, Step]]) -> list[tuple[str, Step]]:
    """The visits minus every reload that does not sit between two jobs' visits."""
    kept: list[tuple[str, Step]] = []
    pending: tuple[str, Step] | None = None
    for visit in visits:
        if visit[1] is Step.RELOAD:
            if kept:  # a reload before the first job is idle; of several in a row, keep one
                pending = visit
            continue
        if pending is not None:
            kept.append(pending)
            pending = None
        kept.append(visit)
    return kept


def _stop(
    problem: Problem, vt: VehicleType, tasks: Mapping[str, Task], visit: tuple[str, Step]
) -> Stop:
    job_id, step = visit
    if step is Step.RELOAD:
        return reload_stop(problem, vt, job_id)
    return stop_of(tasks[job_id], step)


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
    for visit in visits:
        stop = _stop(problem, vt, tasks, visit)
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
    visits = without_idle_reloads(visits)
    depart = earliest_departure(problem, vt)
    timed, _ = _forward(problem, vt, tasks, visits, depart)
    depart += _departure_delay(timed, latest_departure(problem, vt) - depart)
    timed, end = _forward(problem, vt, tasks, visits, depart)

    trips = _trip_jobs(visits)
    load = start_load(tasks, trips[0], len(problem.dimensions))
    first_load = load
    out: list[Visit] = []
    distance, here, trip = 0, vt.start, 0
    for (job_id, step), times in zip(visits, timed, strict=True):
        stop = _stop(problem, vt, tasks, (job_id, step))
        if step is Step.RELOAD:
            trip += 1
            load = start_load(tasks, trips[trip], len(problem.dimensions))
        else:
            change = load_change(tasks[job_id], step)
            load = tuple(a + b for a, b in zip(load, change, strict=True))
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


def _trip_jobs(visits: Sequence[tuple[str, Step]]) -> list[list[str]]:
    """The job ids of each trip."""
    trips: list[list[str]] = [[]]
    for job_id, step in visits:
        if step is Step.RELOAD:
            trips.append([])
        else:
            trips[-1].append(job_id)
    return trips
