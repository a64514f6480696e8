"""An independent checker for solutions, written without any solver import.

It re-derives everything from the problem and the reported routes: who is served, loads
(per trip, when a vehicle reloads), travel, waiting, windows, reload times, shift, depot
opening hours, limits and the objective.  Every
engine result in the tests goes through it.  It deliberately shares no code with
``schedule.py`` so a mistake there cannot hide here.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.optimize.problem import (
    RELOAD_PREFIX,
    Job,
    JobKind,
    Problem,
    Shipment,
    Step,
    Stop,
    VehicleType,
)
from doorstep.optimize.solution import Route, Solution, Visit

_CENT = 3_600_000  # cost units per cent: 1 m at 1 ct/km = 3600 units, 1 s at 1 ct/h = 1000


@dataclass(frozen=True)
class CheckReport:
    feasible: bool  # every constraint holds (a required job may still be reported unassigned)
    violations: tuple[str, ...]
    missing_required: tuple[str, ...]  # required jobs reported unassigned
    objective: int  # cents, recomputed
    distance: int
    vehicles: int

    def __bool__(self) -> bool:
        return self.feasible

    @property
    def complete(self) -> bool:
        """Feasible and every required job is served."""
        return self.feasible and not self.missing_required


def _stop(task: Job | Shipment, step: Step) -> Stop | None:
    if isinstance(task, Job):
        return task.stop if step is Step.JOB else None
    if step is Step.PICKUP:
        return task.pickup
    if step is Step.DELIVERY:
        return task.delivery
    return None


def _delta(task: Job | Shipment, step: Step) -> list[int]:
    if isinstance(task, Job):
        return [d if task.kind is JobKind.PICKUP else -d for d in task.demand]
    return [a if step is Step.PICKUP else -a for a in task.amount]


class _RouteChecker:
    def __init__(self, problem: Problem, tasks: dict[str, Job | Shipment]) -> None:
        self.problem = problem
        self.tasks = tasks
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def _trip_load(self, route: Route, first: int) -> list[int]:
        """Depot deliveries of the trip that starts at visit ``first``: they leave with it."""
        load = [0] * len(self.problem.dimensions)
        for visit in route.visits[first:]:
            if visit.step is Step.RELOAD:
                break
            task = self.tasks.get(visit.job_id)
            if isinstance(task, Job) and task.kind is JobKind.DELIVERY:
                load = [a + b for a, b in zip(load, task.demand, strict=True)]
        return load

    def _reload(self, visit: Visit, vt: VehicleType, at: str) -> Stop | None:
        """The reload's stop, if the vehicle may reload there."""
        name = visit.job_id.removeprefix(RELOAD_PREFIX)
        if not visit.job_id.startswith(RELOAD_PREFIX) or not name.isdigit():
            self.fail(at, "a reload visit must name its location")
            return None
        location = int(name)
        if location not in vt.reload_depots:
            self.fail(at, f"location {location} is not one of the vehicle's reload depots")
            return None
        opening = self.problem.locations[location].opening
        return Stop(location, vt.reload_service, (opening,) if opening else ())

    def check(self, route: Route, vt: VehicleType, where: str) -> tuple[int, int]:
        """Returns (distance, duration) recomputed for the route."""
        p = self.problem
        # Loads: a trip's depot deliveries leave with the vehicle, the rest changes en route.
        load = self._trip_load(route, 0)
        if tuple(load) != route.start_load:
            self.fail(where, f"start load {route.start_load} != {tuple(load)}")
        self._capacity(load, vt, f"{where} at start")
        reloads = sum(v.step is Step.RELOAD for v in route.visits)
        if vt.max_reloads is not None and reloads > vt.max_reloads:
            self.fail(where, f"{reloads} reloads > max {vt.max_reloads}")
        trip_of: dict[str, int] = {}

        opening = p.locations[vt.start].opening
        if route.start_time < vt.shift.start or route.start_time > vt.shift.end:
            self.fail(where, f"departs at {route.start_time}, outside shift {vt.shift}")
        if opening and not opening.contains(route.start_time):
            self.fail(where, f"departs at {route.start_time}, outside depot opening {opening}")

        here, ready, distance, trip = vt.start, route.start_time, 0, 0
        for n, visit in enumerate(route.visits):
            at = f"{where} visit {n} ({visit.job_id}/{visit.step})"
            task = self.tasks.get(visit.job_id)
            if visit.step is Step.RELOAD:
                task = None
                stop = self._reload(visit, vt, at)
                if stop is None:
                    continue
            else:
                stop = None if task is None else _stop(task, visit.step)
                if task is None or stop is None:
                    self.fail(at, "unknown job or step")
                    continue
            if stop.location != visit.location:
                self.fail(at, f"location {visit.location} != {stop.location}")
            if task is not None and not vt.features >= task.required_features:
                self.fail(at, f"vehicle lacks features {set(task.required_features - vt.features)}")
            travel = int(p.durations[here, stop.location])
            distance += int(p.distances[here, stop.location])
            if visit.arrival < ready + travel:
                self.fail(at, f"arrives at {visit.arrival}, cannot before {ready + travel}")
            if visit.service_start < visit.arrival:
                self.fail(at, "service starts before arrival")
            windows = stop.time_windows
            if windows and not any(w.contains(visit.service_start) for w in windows):
                self.fail(at, f"service at {visit.service_start} outside windows {windows}")
            if visit.departure != visit.service_start + stop.service:
                self.fail(at, "departure != service start + service time")
            if task is None:  # a reload: unload what was picked up, load the next trip
                trip += 1
                load = self._trip_load(route, n + 1)
            else:
                load = [a + b for a, b in zip(load, _delta(task, visit.step), strict=True)]
                if isinstance(task, Shipment) and trip_of.setdefault(task.id, trip) != trip:
                    self.fail(at, "pickup and delivery in different trips")
            if tuple(load) != visit.load:
                self.fail(at, f"load {visit.load} != {tuple(load)}")
            self._capacity(load, vt, at)
            here, ready = stop.location, visit.departure

        if vt.end is not None:
            distance += int(p.distances[here, vt.end])
            earliest_end = ready + int(p.durations[here, vt.end])
            end_opening = p.locations[vt.end].opening
            if end_opening and route.end_time > end_opening.end:
                self.fail(where, f"returns at {route.end_time}, after depot closes {end_opening}")
        else:
            earliest_end = ready
        if route.end_time < earliest_end:
            self.fail(where, f"ends at {route.end_time}, cannot before {earliest_end}")
        if route.end_time > vt.shift.end:
            self.fail(where, f"ends at {route.end_time}, after shift end {vt.shift.end}")
        duration = route.end_time - route.start_time
        if vt.max_duration is not None and duration > vt.max_duration:
            self.fail(where, f"duration {duration} > max {vt.max_duration}")
        if vt.max_distance is not None and distance > vt.max_distance:
            self.fail(where, f"distance {distance} > max {vt.max_distance}")
        if route.distance != distance:
            self.fail(where, f"reported distance {route.distance} != {distance}")
        if route.duration != duration:
            self.fail(where, f"reported duration {route.duration} != {duration}")
        return distance, duration

    def _capacity(self, load: list[int], vt: VehicleType, where: str) -> None:
        for dim, (amount, cap) in enumerate(zip(load, vt.capacity, strict=True)):
            if amount > cap:
                self.fail(where, f"{self.problem.dimensions[dim]} load {amount} > capacity {cap}")
            if amount < 0:
                self.fail(where, f"{self.problem.dimensions[dim]} load {amount} < 0")


def check(problem: Problem, solution: Solution) -> CheckReport:
    """Verify ``solution`` against ``problem`` and recompute its objective."""
    tasks: dict[str, Job | Shipment] = {t.id: t for t in problem.tasks()}
    types = {vt.id: vt for vt in problem.vehicle_types}
    checker = _RouteChecker(problem, tasks)
    units = 0
    total_distance = 0
    vehicles_used: set[tuple[str, int]] = set()
    seen: dict[tuple[str, Step], int] = {}
    positions: dict[tuple[str, Step], tuple[int, int]] = {}

    for r, route in enumerate(solution.routes):
        where = f"route {r} ({route.vehicle_type}#{route.vehicle})"
        vt = types.get(route.vehicle_type)
        if vt is None:
            checker.fail(where, "unknown vehicle type")
            continue
        if not 0 <= route.vehicle < vt.count or (vt.id, route.vehicle) in vehicles_used:
            checker.fail(where, "vehicle number out of range or used twice")
        vehicles_used.add((vt.id, route.vehicle))
        if all(v.step is Step.RELOAD for v in route.visits):
            checker.fail(where, "empty route")
        for n, visit in enumerate(route.visits):
            if visit.step is Step.RELOAD:
                continue
            key: tuple[str, Step] = (visit.job_id, visit.step)
            seen[key] = seen.get(key, 0) + 1
            positions[key] = (r, n)
        distance, duration = checker.check(route, vt, where)
        total_distance += distance
        units += vt.fixed_cost * _CENT + vt.cost_per_km * 3_600 * distance
        units += vt.cost_per_hour * 1_000 * duration

    unassigned = [u.job_id for u in solution.unassigned]
    if len(set(unassigned)) != len(unassigned):
        checker.fail("unassigned", "a job is listed twice")
    for key, count in seen.items():
        if count > 1:
            checker.fail(f"job {key[0]}", f"{key[1]} served {count} times")
    for task_id, task in tasks.items():
        steps = [Step.JOB] if isinstance(task, Job) else [Step.PICKUP, Step.DELIVERY]
        served = [s for s in steps if (task_id, s) in seen]
        listed = task_id in unassigned
        if served and listed:
            checker.fail(f"job {task_id}", "both served and unassigned")
        elif not served and not listed:
            checker.fail(f"job {task_id}", "neither served nor reported unassigned")
        elif served and len(served) != len(steps):
            checker.fail(f"job {task_id}", "only one half of the pair is served")
        elif isinstance(task, Shipment) and served:
            (pr, pn), (dr, dn) = (
                positions[(task_id, Step.PICKUP)],
                positions[(task_id, Step.DELIVERY)],
            )
            if pr != dr:
                checker.fail(f"job {task_id}", "pickup and delivery on different routes")
            elif pn > dn:
                checker.fail(f"job {task_id}", "delivery before pickup")
        if listed and task.prize is not None:
            units += task.prize * _CENT
    for job_id in unassigned:
        if job_id not in tasks:
            checker.fail("unassigned", f"unknown job {job_id}")

    missing = tuple(j for j in unassigned if j in tasks and tasks[j].required)
    objective = (units + _CENT // 2) // _CENT
    if objective != solution.objective:
        checker.fail("objective", f"reported {solution.objective} != recomputed {objective}")
    return CheckReport(
        feasible=not checker.errors,
        violations=tuple(checker.errors),
        missing_required=missing,
        objective=objective,
        distance=total_distance,
        vehicles=len(solution.routes),
    )
