"""The benchmark's rules for a returned dispatch: which requests, which routes, what it costs."""

from __future__ import annotations

from collections.abc import Sequence

from doorstep.dynamic_dispatch.problem import EpochProblem, Route, round_trip_seconds


class InvalidDispatch(ValueError):
    """Routes that break the epoch's rules; `code` is stable and the text says where."""

    code = "invalid_dispatch"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownRequest(InvalidDispatch):
    code = "unknown_request"


class DuplicateRequest(InvalidDispatch):
    code = "duplicate_request"


class MustDispatchMissing(InvalidDispatch):
    code = "must_dispatch_missing"


class CapacityExceeded(InvalidDispatch):
    code = "capacity_exceeded"


class TimeWindowMissed(InvalidDispatch):
    code = "time_window_missed"


class DepotClosed(InvalidDispatch):
    code = "depot_closed"


def route_duration(problem: EpochProblem, rows: Sequence[int]) -> int:
    """Driving time of one route given as problem rows: depot → rows → depot (no waiting)."""
    places = [int(problem.locations[r]) for r in rows]
    return round_trip_seconds(problem.durations, int(problem.locations[0]), places)


def _check_route(problem: EpochProblem, index: int, rows: Sequence[int]) -> None:
    load = sum(int(problem.demands[r]) for r in rows)
    if load > problem.capacity:
        raise CapacityExceeded(f"route {index} carries {load}, capacity is {problem.capacity}")
    matrix = problem.durations
    clock = int(problem.time_windows[0, 0]) + int(problem.service_times[0])
    place = int(problem.locations[0])
    for row in rows:
        next_place = int(problem.locations[row])
        arrival = clock + int(matrix[place, next_place])
        early, late = (int(t) for t in problem.time_windows[row])
        if arrival > late:
            raise TimeWindowMissed(
                f"route {index} reaches request {int(problem.request_ids[row])} at {arrival},"
                f" after its window closes at {late}"
            )
        clock = max(arrival, early) + int(problem.service_times[row])
        place = next_place
    back = clock + int(matrix[place, int(problem.locations[0])])
    if back > problem.depot_closes:
        raise DepotClosed(
            f"route {index} returns to the depot at {back}, after it closes at"
            f" {problem.depot_closes}"
        )


def validate_dispatch(problem: EpochProblem, routes: Sequence[Route]) -> int:
    """Check `routes` (request ids) against the epoch's rules and return their driving time.

    Raises a subclass of :class:`InvalidDispatch` naming the route and request at fault.
    """
    row_of = problem.row_of()
    seen: set[int] = set()
    rows_per_route: list[list[int]] = []
    for index, route in enumerate(routes):
        rows: list[int] = []
        for rid in route:
            request = int(rid)
            if request == 0 or request not in row_of:
                raise UnknownRequest(f"route {index} holds request {request}, which is not open")
            if request in seen:
                raise DuplicateRequest(f"request {request} appears twice (again in route {index})")
            seen.add(request)
            rows.append(row_of[request])
        rows_per_route.append(rows)
    missing = [rid for rid in problem.must_dispatch_ids() if rid not in seen]
    if missing:
        raise MustDispatchMissing(
            f"epoch {problem.epoch}: must-dispatch requests not dispatched: {missing[:10]}"
            + (" ..." if len(missing) > 10 else "")
        )
    for index, rows in enumerate(rows_per_route):
        _check_route(problem, index, rows)
    return sum(route_duration(problem, rows) for rows in rows_per_route)
