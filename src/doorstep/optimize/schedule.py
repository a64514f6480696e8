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
from typing import Any

import numpy as np

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


def legs(matrix: Any, path: Sequence[int]) -> list[int]:
    """The entries of ``matrix`` along ``path`` (one per leg), read at once: a matrix
    computed as it is read (`optimize.lazy_matrix`) took 5 µs an arc read one by one, and
    putting a 30,000-stop plan together read each arc three times (1.0 s; now 0.35 s)."""
    if len(path) < 2:
        return []
    index = np.asarray(path, dtype=np.intp)
    read: list[int] = np.asarray(matrix[index[:-1], index[1:]], dtype=np.int64).tolist()
    return read


def _forward(stops: Sequence[Stop], times: Sequence[int], depart: int) -> tuple[list[_Timed], int]:
    """Times of every stop and of the arrival at the end, leaving the start at ``depart``;
    ``times`` are the legs' driving times, from the start (and to the end, if there is
    one: then one more than the stops)."""
    timed: list[_Timed] = []
    t = depart
    for stop, drive in zip(stops, times, strict=False):
        arrival = t + drive
        window = next((w for w in stop.windows() if w.end >= arrival), None)
        service_start = max(arrival, window.start) if window else arrival
        t = service_start + stop.service
        timed.append(_Timed(arrival, service_start, t, window))
    end = t + times[len(stops)] if len(times) > len(stops) else t
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
    stops = [_stop(problem, vt, tasks, visit) for visit in visits]
    path = [vt.start, *(stop.location for stop in stops)]
    if vt.end is not None:
        path.append(vt.end)
    times = legs(problem.durations, path)
    lengths = times if problem.distances is problem.durations else legs(problem.distances, path)
    depart = earliest_departure(problem, vt)
    timed, _ = _forward(stops, times, depart)
    depart += _departure_delay(timed, latest_departure(problem, vt) - depart)
    timed, end = _forward(stops, times, depart)

    trips = _trip_jobs(visits)
    load = start_load(tasks, trips[0], len(problem.dimensions))
    first_load = load
    out: list[Visit] = []
    trip = 0
    for (job_id, step), stop, times_at in zip(visits, stops, timed, strict=True):
        if step is Step.RELOAD:
            trip += 1
            load = start_load(tasks, trips[trip], len(problem.dimensions))
        else:
            change = load_change(tasks[job_id], step)
            load = tuple(a + b for a, b in zip(load, change, strict=True))
        out.append(
            Visit(
                job_id,
                step,
                stop.location,
                times_at.arrival,
                times_at.service_start,
                times_at.departure,
                load,
            )
        )
    distance = sum(lengths)
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
