"""Find jobs that no vehicle could serve even alone, before any engine runs.

Such jobs are reported in ``Solution.unassigned`` with the first reason that rules them out
and are not handed to the engine, so one impossible parcel never spoils a whole plan.
"""

from __future__ import annotations

from doorstep.optimize.problem import Job, Problem, Stop, VehicleType
from doorstep.optimize.schedule import earliest_departure
from doorstep.optimize.solution import UnassignedReason
from doorstep.optimize.tasks import Task


def _fits(amount: tuple[int, ...], capacity: tuple[int, ...]) -> bool:
    return all(a <= c for a, c in zip(amount, capacity, strict=True))


def _serve(problem: Problem, t: int, here: int, stop: Stop) -> int | None:
    """Departure time after serving ``stop`` coming from ``here`` at ``t``, or None if late."""
    arrival = t + int(problem.durations[here, stop.location])
    window = next((w for w in stop.windows() if w.end >= arrival), None)
    if window is None:
        return None
    return max(arrival, window.start) + stop.service


def _stops(task: Task) -> list[Stop]:
    return [task.stop] if isinstance(task, Job) else [task.pickup, task.delivery]


def _in_time(problem: Problem, vt: VehicleType, task: Task) -> bool:
    t: int | None = earliest_departure(problem, vt)
    here = vt.start
    for stop in _stops(task):
        assert t is not None
        t = _serve(problem, t, here, stop)
        if t is None:
            return False
        here = stop.location
    assert t is not None
    if vt.end is not None:
        t += int(problem.durations[here, vt.end])
        opening = problem.locations[vt.end].opening
        if t > min(vt.shift.end, opening.end if opening else vt.shift.end):
            return False
    # Waiting could be avoided by leaving later, so only driving and service count here.
    return vt.max_duration is None or _busy_time(problem, vt, task) <= vt.max_duration


def _busy_time(problem: Problem, vt: VehicleType, task: Task) -> int:
    here, total = vt.start, 0
    for stop in _stops(task):
        total += int(problem.durations[here, stop.location]) + stop.service
        here = stop.location
    if vt.end is not None:
        total += int(problem.durations[here, vt.end])
    return total


def _distance(problem: Problem, vt: VehicleType, task: Task) -> int:
    here, total = vt.start, 0
    for stop in _stops(task):
        total += int(problem.distances[here, stop.location])
        here = stop.location
    if vt.end is not None:
        total += int(problem.distances[here, vt.end])
    return total


def _amount(task: Task) -> tuple[int, ...]:
    if isinstance(task, Job):
        return task.demand
    return task.amount


def impossible_reason(problem: Problem, task: Task) -> UnassignedReason | None:
    """Why no single vehicle can serve ``task`` on its own; None if one can."""
    candidates = [vt for vt in problem.vehicle_types if vt.can_serve(task.required_features)]
    if not candidates:
        return UnassignedReason.NO_COMPATIBLE_VEHICLE
    candidates = [vt for vt in candidates if _fits(_amount(task), vt.capacity)]
    if not candidates:
        return UnassignedReason.EXCEEDS_CAPACITY
    candidates = [vt for vt in candidates if _in_time(problem, vt, task)]
    if not candidates:
        return UnassignedReason.TIME_WINDOW_UNREACHABLE
    candidates = [
        vt
        for vt in candidates
        if vt.max_distance is None or _distance(problem, vt, task) <= vt.max_distance
    ]
    if not candidates:
        return UnassignedReason.DISTANCE_LIMIT
    return None


def impossible_tasks(problem: Problem) -> dict[str, UnassignedReason]:
    found: dict[str, UnassignedReason] = {}
    for task in problem.tasks():
        reason = impossible_reason(problem, task)
        if reason is not None:
            found[task.id] = reason
    return found
