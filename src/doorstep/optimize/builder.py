"""A small builder that validates every field and names the bad one.

b = ProblemBuilder(dimensions=("volume_cm3", "weight_g"))
depot = b.add_location("station", opening=TimeWindow(6 * 3600, 22 * 3600))
shop = b.add_location("shop")
b.set_matrices(distances, durations)
b.add_vehicle_type("van", start=depot, end=depot, capacity=(2_000_000, 500_000), count=3)
b.add_job("parcel-1", location=shop, demand=(30_000, 2_000), time_windows=[(9 * 3600, 12 * 3600)])
problem = b.build()
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from doorstep.optimize.errors import ProblemError
from doorstep.optimize.lazy_matrix import RoundedEuclidean
from doorstep.optimize.problem import (
    ALWAYS,
    HORIZON,
    RELOAD_PREFIX,
    Job,
    JobKind,
    Location,
    Matrix,
    Problem,
    Shipment,
    Stop,
    TimeWindow,
    VehicleType,
)

WindowLike = TimeWindow | tuple[int, int]


def _window(value: WindowLike, field: str) -> TimeWindow:
    tw = value if isinstance(value, TimeWindow) else TimeWindow(int(value[0]), int(value[1]))
    if not 0 <= tw.start <= tw.end <= HORIZON:
        raise ProblemError(
            field, f"time window [{tw.start}, {tw.end}] must satisfy 0 <= start <= end <= {HORIZON}"
        )
    return tw


def _windows(values: Iterable[WindowLike], field: str) -> tuple[TimeWindow, ...]:
    windows = sorted(
        (_window(v, f"{field}[{i}]") for i, v in enumerate(values)), key=lambda w: w.start
    )
    for earlier, later in itertools.pairwise(windows):
        if later.start <= earlier.end:
            raise ProblemError(field, "time windows overlap; merge them")
    return tuple(windows)


def _non_negative(value: int, field: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ProblemError(field, f"must be an integer, got {value!r}")
    if value < 0:
        raise ProblemError(field, f"must be >= 0, got {value}")
    return int(value)


class ProblemBuilder:
    """Collects locations, matrices, vehicle types and jobs; :meth:`build` validates them."""

    def __init__(self, dimensions: Sequence[str] = ("parcels",), name: str = "") -> None:
        if not dimensions:
            raise ProblemError("dimensions", "at least one capacity dimension is needed")
        self._dimensions = tuple(dimensions)
        self._name = name
        self._locations: list[Location] = []
        self._distances: Matrix | None = None
        self._durations: Matrix | None = None
        self._vehicle_types: list[VehicleType] = []
        self._jobs: list[Job] = []
        self._shipments: list[Shipment] = []
        self._ids: set[str] = set()

    # -- locations and travel -------------------------------------------------------------
    def add_location(self, name: str, *, opening: WindowLike | None = None) -> int:
        """Add a location; returns its index in the matrices."""
        index = len(self._locations)
        tw = None if opening is None else _window(opening, f"locations[{index}].opening")
        self._locations.append(Location(name, tw))
        return index

    def set_matrices(
        self,
        distances: npt.ArrayLike | RoundedEuclidean,
        durations: npt.ArrayLike | RoundedEuclidean | None = None,
    ) -> ProblemBuilder:
        """Distance (metres) and duration (seconds) matrices; duration defaults to distance.
        A `RoundedEuclidean` is kept as it is: its entries are computed when read."""
        self._distances = self._matrix(distances, "distances")
        self._durations = (
            self._distances if durations is None else self._matrix(durations, "durations")
        )
        return self

    @staticmethod
    def _matrix(values: npt.ArrayLike | RoundedEuclidean, field: str) -> Matrix:
        if isinstance(values, RoundedEuclidean):
            # Non-negative by construction; its longest arc is at most the diagonal of the
            # box around the positions.
            span = np.ptp(values.coords, axis=0) if len(values) else np.zeros(2)
            if float(np.hypot(*span)) > HORIZON:
                raise ProblemError(field, f"entries must be <= {HORIZON}")
            return values
        array = np.asarray(values)
        if array.ndim != 2 or array.shape[0] != array.shape[1]:
            raise ProblemError(field, f"must be a square matrix, got shape {array.shape}")
        if not np.issubdtype(array.dtype, np.integer):
            raise ProblemError(field, f"must hold integers, got {array.dtype}")
        if array.size and array.min() < 0:
            raise ProblemError(field, "must be non-negative")
        if array.size and array.max() > HORIZON:
            raise ProblemError(field, f"entries must be <= {HORIZON}")
        result = np.array(array, dtype=np.int64)
        result.setflags(write=False)
        return result

    # -- fleet ------------------------------------------------------------------------------
    def add_vehicle_type(
        self,
        id: str,
        *,
        start: int,
        end: int | None,
        capacity: Sequence[int],
        count: int = 1,
        shift: WindowLike | None = None,
        max_duration: int | None = None,
        max_distance: int | None = None,
        fixed_cost: int = 0,
        cost_per_hour: int = 0,
        cost_per_km: int = 1000,
        features: Iterable[str] = (),
        reload_depots: Iterable[int] = (),
        max_reloads: int | None = None,
        reload_service: int = 0,
    ) -> ProblemBuilder:
        """``reload_depots``: where the vehicle may load again between trips (multi-trip),
        at most ``max_reloads`` times (``None``: no limit), ``reload_service`` s each."""
        field = f"vehicle_types[{id}]"
        self._check_id(id, field)
        if count < 1:
            raise ProblemError(f"{field}.count", "must be >= 1")
        vt = VehicleType(
            id=id,
            start=self._location(start, f"{field}.start"),
            end=None if end is None else self._location(end, f"{field}.end"),
            capacity=self._amount(capacity, f"{field}.capacity"),
            count=count,
            shift=ALWAYS if shift is None else _window(shift, f"{field}.shift"),
            max_duration=None
            if max_duration is None
            else _non_negative(max_duration, f"{field}.max_duration"),
            max_distance=None
            if max_distance is None
            else _non_negative(max_distance, f"{field}.max_distance"),
            fixed_cost=_non_negative(fixed_cost, f"{field}.fixed_cost"),
            cost_per_hour=_non_negative(cost_per_hour, f"{field}.cost_per_hour"),
            cost_per_km=_non_negative(cost_per_km, f"{field}.cost_per_km"),
            features=frozenset(features),
            reload_depots=tuple(
                dict.fromkeys(
                    self._location(loc, f"{field}.reload_depots") for loc in reload_depots
                )
            ),
            max_reloads=None
            if max_reloads is None
            else _non_negative(max_reloads, f"{field}.max_reloads"),
            reload_service=_non_negative(reload_service, f"{field}.reload_service"),
        )
        self._vehicle_types.append(vt)
        return self

    # -- work -------------------------------------------------------------------------------
    def add_job(
        self,
        id: str,
        *,
        location: int,
        demand: Sequence[int] | None = None,
        service: int = 0,
        time_windows: Iterable[WindowLike] = (),
        kind: JobKind = JobKind.DELIVERY,
        prize: int | None = None,
        required_features: Iterable[str] = (),
    ) -> ProblemBuilder:
        """A delivery from the depot (default) or a pickup brought back to it."""
        field = f"jobs[{id}]"
        self._check_id(id, field)
        self._jobs.append(
            Job(
                id=id,
                stop=self._stop(location, service, time_windows, field),
                demand=self._amount(demand, f"{field}.demand"),
                kind=JobKind(kind),
                prize=None if prize is None else _non_negative(prize, f"{field}.prize"),
                required_features=frozenset(required_features),
            )
        )
        return self

    def add_shipment(
        self,
        id: str,
        *,
        pickup: int,
        delivery: int,
        amount: Sequence[int] | None = None,
        pickup_service: int = 0,
        delivery_service: int = 0,
        pickup_time_windows: Iterable[WindowLike] = (),
        delivery_time_windows: Iterable[WindowLike] = (),
        prize: int | None = None,
        required_features: Iterable[str] = (),
    ) -> ProblemBuilder:
        """A pickup→delivery pair served by one vehicle, pickup first."""
        field = f"shipments[{id}]"
        self._check_id(id, field)
        self._shipments.append(
            Shipment(
                id=id,
                pickup=self._stop(pickup, pickup_service, pickup_time_windows, f"{field}.pickup"),
                delivery=self._stop(
                    delivery, delivery_service, delivery_time_windows, f"{field}.delivery"
                ),
                amount=self._amount(amount, f"{field}.amount"),
                prize=None if prize is None else _non_negative(prize, f"{field}.prize"),
                required_features=frozenset(required_features),
            )
        )
        return self

    # -- validation -------------------------------------------------------------------------
    def build(self) -> Problem:
        if not self._locations:
            raise ProblemError("locations", "at least one location is needed")
        if self._distances is None or self._durations is None:
            raise ProblemError("distances", "call set_matrices() before build()")
        n = len(self._locations)
        for field, matrix in (("distances", self._distances), ("durations", self._durations)):
            if matrix.shape != (n, n):
                raise ProblemError(field, f"shape {matrix.shape} does not match {n} locations")
        if not self._vehicle_types:
            raise ProblemError("vehicle_types", "at least one vehicle type is needed")
        return Problem(
            locations=tuple(self._locations),
            distances=self._distances,
            durations=self._durations,
            vehicle_types=tuple(self._vehicle_types),
            jobs=tuple(self._jobs),
            shipments=tuple(self._shipments),
            dimensions=self._dimensions,
            name=self._name,
        )

    def _check_id(self, id: str, field: str) -> None:
        if not id:
            raise ProblemError(field, "id must be a non-empty string")
        if id in self._ids:
            raise ProblemError(field, f"duplicate id {id!r}")
        if id.startswith(RELOAD_PREFIX):
            raise ProblemError(field, f"ids starting with {RELOAD_PREFIX!r} name reload visits")
        self._ids.add(id)

    def _location(self, index: int, field: str) -> int:
        if not isinstance(index, int | np.integer) or not 0 <= index < len(self._locations):
            raise ProblemError(field, f"unknown location {index!r}; add it with add_location()")
        return int(index)

    def _amount(self, values: Sequence[int] | None, field: str) -> tuple[int, ...]:
        if values is None:
            return (0,) * len(self._dimensions)
        if len(values) != len(self._dimensions):
            raise ProblemError(
                field,
                f"expected {len(self._dimensions)} values {self._dimensions}, got {len(values)}",
            )
        return tuple(_non_negative(v, f"{field}[{i}]") for i, v in enumerate(values))

    def _stop(
        self, location: int, service: int, time_windows: Iterable[WindowLike], field: str
    ) -> Stop:
        return Stop(
            location=self._location(location, f"{field}.location"),
            service=_non_negative(service, f"{field}.service"),
            time_windows=_windows(time_windows, f"{field}.time_windows"),
        )
