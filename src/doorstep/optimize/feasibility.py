"""Find jobs that no vehicle could serve even alone, before any engine runs.

Such jobs are reported in ``Solution.unassigned`` with the first reason that rules them out
and are not handed to the engine, so one impossible parcel never spoils a whole plan.
"""

from __future__ import annotations

import numpy as np

from doorstep.optimize.problem import Job, Problem, Stop, VehicleType
from doorstep.optimize.schedule import earliest_departure
from doorstep.optimize.solution import UnassignedReason
from doorstep.optimize.tasks import Task


class _Travel:
    """The matrices' entries from every vehicle start and to every vehicle end, read once
    as whole rows and columns: a job's check reads only those. A matrix computed as it is
    read (`optimize.lazy_matrix`) took 5 µs an arc read one by one, 0.5 s for 30,000 jobs;
    other arcs (a shipment's pickup to its delivery) are read one at a time."""

    def __init__(self, problem: Problem) -> None:
        every = np.arange(len(problem.locations))
        starts = sorted({vt.start for vt in problem.vehicle_types})
        ends = sorted({vt.end for vt in problem.vehicle_types if vt.end is not None})
        self._matrices = {"time": problem.durations, "distance": problem.distances}
        self._from = {
            (kind, start): np.asarray(m[start, every], dtype=np.int64).tolist()
            for kind, m in self._matrices.items()
            for start in starts
        }
        self._to = {
            (kind, end): np.asarray(m[every, end], dtype=np.int64).tolist()
            for kind, m in self._matrices.items()
            for end in ends
        }

    def _read(self, kind: str, here: int, there: int) -> int:
        row = self._from.get((kind, here))
        if row is not None:
            return int(row[there])
        column = self._to.get((kind, there))
        if column is not None:
            return int(column[here])
        return int(self._matrices[kind][here, there])

    def time(self, here: int, there: int) -> int:
        return self._read("time", here, there)

    def distance(self, here: int, there: int) -> int:
        return self._read("distance", here, there)


def _fits(amount: tuple[int, ...], capacity: tuple[int, ...]) -> bool:
    return all(a <= c for a, c in zip(amount, capacity, strict=True))


def _serve(travel: _Travel, t: int, here: int, stop: Stop) -> int | None:
    """Departure time after serving ``stop`` coming from ``here`` at ``t``, or None if late."""
    arrival = t + travel.time(here, stop.location)
    window = next((w for w in stop.windows() if w.end >= arrival), None)
    if window is None:
        return None
    return max(arrival, window.start) + stop.service


def _stops(task: Task) -> list[Stop]:
    return [task.stop] if isinstance(task, Job) else [task.pickup, task.delivery]


def _in_time(problem: Problem, travel: _Travel, vt: VehicleType, task: Task) -> bool:
    t: int | None = earliest_departure(problem, vt)
    here = vt.start
    for stop in _stops(task):
        assert t is not None
        t = _serve(travel, t, here, stop)
        if t is None:
            return False
        here = stop.location
    assert t is not None
    if vt.end is not None:
        t += travel.time(here, vt.end)
        opening = problem.locations[vt.end].opening
        if t > min(vt.shift.end, opening.end if opening else vt.shift.end):
            return False
    # Waiting could be avoided by leaving later, so only driving and service count here.
    return vt.max_duration is None or _busy_time(travel, vt, task) <= vt.max_duration


def _busy_time(travel: _Travel, vt: VehicleType, task: Task) -> int:
    here, total = vt.start, 0
    for stop in _stops(task):
        total += travel.time(here, stop.location) + stop.service
        here = stop.location
    if vt.end is not None:
        total += travel.time(here, vt.end)
    return total


def _distance(travel: _Travel, vt: VehicleType, task: Task) -> int:
    here, total = vt.start, 0
    for stop in _stops(task):
        total += travel.distance(here, stop.location)
        here = stop.location
    if vt.end is not None:
        total += travel.distance(here, vt.end)
    return total


def _amount(task: Task) -> tuple[int, ...]:
    if isinstance(task, Job):
        return task.demand
    return task.amount


def impossible_reason(
    problem: Problem, task: Task, travel: _Travel | None = None
) -> UnassignedReason | None:
    """Why no single vehicle can serve ``task`` on its own; None if one can."""
    travel = travel or _Travel(problem)
    candidates = [vt for vt in problem.vehicle_types if vt.can_serve(task.required_features)]
    if not candidates:
        return UnassignedReason.NO_COMPATIBLE_VEHICLE
    candidates = [vt for vt in candidates if _fits(_amount(task), vt.capacity)]
    if not candidates:
        return UnassignedReason.EXCEEDS_CAPACITY
    candidates = [vt for vt in candidates if _in_time(problem, travel, vt, task)]
    if not candidates:
        return UnassignedReason.TIME_WINDOW_UNREACHABLE
    candidates = [
        vt
        for vt in candidates
        if vt.max_distance is None or _distance(travel, vt, task) <= vt.max_distance
    ]
    if not candidates:
        return UnassignedReason.DISTANCE_LIMIT
    return None


def impossible_tasks(problem: Problem) -> dict[str, UnassignedReason]:
    found: dict[str, UnassignedReason] = {}
    travel = _Travel(problem)
    for task in problem.tasks():
        reason = impossible_reason(problem, task, travel)
        if reason is not None:
            found[task.id] = reason
    return found
