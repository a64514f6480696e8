"""The immutable problem model.

Every quantity is an integer: seconds, metres, cents, and whatever unit each capacity
dimension declares (cm³, grams, parcels).  Locations are indices into the distance and
duration matrices; jobs and vehicles refer to them by index.  Build problems with
:class:`doorstep.optimize.builder.ProblemBuilder`, which validates every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from doorstep.optimize.lazy_matrix import RoundedEuclidean

IntMatrix = npt.NDArray[np.int64]
#: A problem's travel matrix: dense, or computed from positions as it is read
#: (`lazy_matrix`, for problems too large to hold one).
Matrix = IntMatrix | RoundedEuclidean

#: A time far enough in the future to mean "no limit" without overflowing engine arithmetic.
HORIZON = 10**9


class JobKind(StrEnum):
    """What a single-stop job does to the vehicle's load."""

    DELIVERY = "delivery"  # loaded at the start depot, dropped at the stop
    PICKUP = "pickup"  # collected at the stop, carried to the end depot


class Step(StrEnum):
    """Which part of a job a visit performs."""

    JOB = "job"
    PICKUP = "pickup"
    DELIVERY = "delivery"
    RELOAD = "reload"  # back at a reload depot: empty the car, load the next trip


#: A reload visit's id names its location, so a plan of (id, step) pairs says where it goes.
RELOAD_PREFIX = "reload@"


def reload_visit(location: int) -> tuple[str, Step]:
    """The (id, step) of a reload at ``location`` in an ordered plan of visits."""
    return f"{RELOAD_PREFIX}{location}", Step.RELOAD


def reload_location(visit_id: str) -> int:
    """The location of a reload visit's id (see :func:`reload_visit`)."""
    return int(visit_id.removeprefix(RELOAD_PREFIX))


class Feature(StrEnum):
    """Model features an engine must support to solve a problem."""

    TIME_WINDOWS = "time_windows"
    MULTIPLE_TIME_WINDOWS = "multiple_time_windows"
    SHIPMENT_MULTIPLE_TIME_WINDOWS = "shipment_multiple_time_windows"
    SHIPMENTS = "shipments"
    PICKUPS = "pickups"
    MULTIPLE_DEPOTS = "multiple_depots"
    OPEN_END = "open_end"
    MIXED_FLEET = "mixed_fleet"
    MULTIPLE_DIMENSIONS = "multiple_dimensions"
    OPTIONAL_JOBS = "optional_jobs"
    VEHICLE_FEATURES = "vehicle_features"
    MAX_DURATION = "max_duration"
    MAX_DISTANCE = "max_distance"
    DURATION_COST = "duration_cost"
    WARM_START = "warm_start"
    RELOADS = "reloads"  # a vehicle may go back to a depot for another load (multi-trip)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start, end]`` in seconds."""

    start: int
    end: int

    def contains(self, t: int) -> bool:
        return self.start <= t <= self.end


ALWAYS = TimeWindow(0, HORIZON)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the matrices.  ``opening`` bounds departures and returns of vehicles
    starting or ending here (a station's or store's opening hours)."""

    name: str
    opening: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """Where and when a piece of service happens.  No time windows means any time."""

    location: int
    service: int = 0
    time_windows: tuple[TimeWindow, ...] = ()

    def windows(self) -> tuple[TimeWindow, ...]:
        return self.time_windows or (ALWAYS,)


@dataclass(frozen=True, slots=True)
class Job:
    """A single-stop job: a delivery from the vehicle's depot, or a pickup brought back.

    ``prize`` is ``None`` for a required job.  Otherwise the job is optional and leaving it
    out adds ``prize`` cents to the objective (a prize for serving it, a penalty for not).
    """

    id: str
    stop: Stop
    demand: tuple[int, ...]
    kind: JobKind = JobKind.DELIVERY
    prize: int | None = None
    required_features: frozenset[str] = frozenset()

    @property
    def required(self) -> bool:
        return self.prize is None


@dataclass(frozen=True, slots=True)
class Shipment:
    """A pickup→delivery pair: same vehicle, pickup first, ``amount`` carried in between."""

    id: str
    pickup: Stop
    delivery: Stop
    amount: tuple[int, ...]
    prize: int | None = None
    required_features: frozenset[str] = frozenset()

    @property
    def required(self) -> bool:
        return self.prize is None


@dataclass(frozen=True, slots=True)
class VehicleType:
    """``count`` identical vehicles.  ``end=None`` is an open end (the route stops at the
    last job).  Costs are cents: ``fixed_cost`` per used vehicle, ``cost_per_hour`` of
    route duration, ``cost_per_km`` of distance.

    ``reload_depots`` are locations the vehicle may go back to between trips, at most
    ``max_reloads`` times a route (``None``: no limit): there it unloads the pickups on
    board and loads the depot deliveries of its next trip, which takes ``reload_service``
    seconds, inside the location's opening hours.  A shipment stays within one trip."""

    id: str
    start: int
    end: int | None
    capacity: tuple[int, ...]
    count: int = 1
    shift: TimeWindow = ALWAYS
    max_duration: int | None = None
    max_distance: int | None = None
    fixed_cost: int = 0
    cost_per_hour: int = 0
    cost_per_km: int = 1000
    features: frozenset[str] = frozenset()
    reload_depots: tuple[int, ...] = ()
    max_reloads: int | None = None
    reload_service: int = 0

    def can_serve(self, required_features: frozenset[str]) -> bool:
        return required_features <= self.features


@dataclass(frozen=True, eq=False)
class Problem:
    """A complete routing problem.  Matrices are read-only ``int64`` arrays indexed by
    location; ``dimensions`` names the capacity dimensions shared by demands and vehicles."""

    locations: tuple[Location, ...]
    distances: Matrix
    durations: Matrix
    vehicle_types: tuple[VehicleType, ...]
    jobs: tuple[Job, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    dimensions: tuple[str, ...] = ("parcels",)
    name: str = ""

    @property
    def num_vehicles(self) -> int:
        return sum(vt.count for vt in self.vehicle_types)

    def tasks(self) -> tuple[Job | Shipment, ...]:
        """Every job and shipment, jobs first."""
        return (*self.jobs, *self.shipments)

    def task_ids(self) -> tuple[str, ...]:
        """Ids of every job and shipment, jobs first."""
        return tuple(j.id for j in self.jobs) + tuple(s.id for s in self.shipments)

    def features(self) -> frozenset[Feature]:
        """The model features this problem uses (decides which engines can solve it)."""
        return compute_features(self)


def compute_features(problem: Problem) -> frozenset[Feature]:
    used: set[Feature] = set()
    stops = [j.stop for j in problem.jobs]
    stops += [s.pickup for s in problem.shipments] + [s.delivery for s in problem.shipments]
    if any(st.time_windows for st in stops):
        used.add(Feature.TIME_WINDOWS)
    if any(len(j.stop.time_windows) > 1 for j in problem.jobs):
        used.add(Feature.MULTIPLE_TIME_WINDOWS)
    shipment_stops = [s.pickup for s in problem.shipments] + [s.delivery for s in problem.shipments]
    if any(len(st.time_windows) > 1 for st in shipment_stops):
        used.add(Feature.SHIPMENT_MULTIPLE_TIME_WINDOWS)
    if problem.shipments:
        used.add(Feature.SHIPMENTS)
    if any(j.kind is JobKind.PICKUP for j in problem.jobs):
        used.add(Feature.PICKUPS)
    vts = problem.vehicle_types
    if len({vt.start for vt in vts} | {vt.end for vt in vts if vt.end is not None}) > 1:
        used.add(Feature.MULTIPLE_DEPOTS)
    if any(vt.end is None for vt in vts):
        used.add(Feature.OPEN_END)
    if len(vts) > 1:
        used.add(Feature.MIXED_FLEET)
    if len(problem.dimensions) > 1:
        used.add(Feature.MULTIPLE_DIMENSIONS)
    tasks = problem.tasks()
    if any(not t.required for t in tasks):
        used.add(Feature.OPTIONAL_JOBS)
    if any(t.required_features for t in tasks):
        used.add(Feature.VEHICLE_FEATURES)
    if any(vt.max_duration is not None for vt in vts):
        used.add(Feature.MAX_DURATION)
    if any(vt.max_distance is not None for vt in vts):
        used.add(Feature.MAX_DISTANCE)
    if any(vt.cost_per_hour for vt in vts):
        used.add(Feature.DURATION_COST)
    if any(vt.reload_depots and vt.max_reloads != 0 for vt in vts):
        used.add(Feature.RELOADS)
    return frozenset(used)
