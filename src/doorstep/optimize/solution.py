"""What a solve returns: routes with times, loads and costs, and the jobs left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from doorstep.optimize.problem import Step


class UnassignedReason(StrEnum):
    """Why a job is not on any route."""

    NO_COMPATIBLE_VEHICLE = "no_compatible_vehicle"  # no vehicle has the required features
    EXCEEDS_CAPACITY = "exceeds_capacity"  # heavier / larger than every compatible vehicle
    TIME_WINDOW_UNREACHABLE = "time_window_unreachable"  # no vehicle can be there in time
    DISTANCE_LIMIT = "distance_limit"  # out and back exceeds every vehicle's max distance
    NOT_WORTH_SERVING = "not_worth_serving"  # optional job whose prize is below its cost
    NO_FEASIBLE_ROUTE = "no_feasible_route"  # fits alone, but not with the rest of the plan
    NO_PLAN_IN_TIME = "no_plan_in_time"  # the engine found no plan within the time limit


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop on a route.  ``load`` is the load on board after the service.

    A reload (``step`` is ``Step.RELOAD``, ``job_id`` from ``reload_visit``) ends a trip:
    its ``load`` is what the next trip leaves with."""

    job_id: str
    step: Step
    location: int
    arrival: int
    service_start: int
    departure: int
    load: tuple[int, ...]

    @property
    def is_reload(self) -> bool:
        return self.step is Step.RELOAD


@dataclass(frozen=True, slots=True)
class Route:
    """One vehicle's plan.  ``vehicle`` numbers the vehicle within its type."""

    vehicle_type: str
    vehicle: int
    visits: tuple[Visit, ...]
    start_time: int  # departure from the start location
    end_time: int  # arrival at the end location (open end: departure from the last stop)
    start_load: tuple[int, ...]
    distance: int
    duration: int
    cost: int  # cents, rounded

    def job_ids(self) -> tuple[str, ...]:
        """The jobs and shipments served, in order (reloads are not jobs)."""
        return tuple(dict.fromkeys(v.job_id for v in self.visits if not v.is_reload))

    @property
    def reloads(self) -> int:
        return sum(v.is_reload for v in self.visits)

    def trips(self) -> tuple[tuple[Visit, ...], ...]:
        """The visits of each trip (one trip per load), split at the reloads."""
        trips: list[list[Visit]] = [[]]
        for visit in self.visits:
            if visit.is_reload:
                trips.append([])
            else:
                trips[-1].append(visit)
        return tuple(tuple(trip) for trip in trips)


@dataclass(frozen=True, slots=True)
class Unassigned:
    job_id: str
    reason: UnassignedReason


@dataclass(frozen=True)
class Solution:
    """``objective`` (cents) = vehicle costs + prizes of optional jobs left out."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    objective: int
    engine: str
    runtime_s: float = 0.0
    seed: int = 0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def num_vehicles(self) -> int:
        return len(self.routes)

    @property
    def distance(self) -> int:
        return sum(r.distance for r in self.routes)

    def unassigned_ids(self) -> frozenset[str]:
        return frozenset(u.job_id for u in self.unassigned)
