"""Travel matrices (metres, seconds) and the providers that produce them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from doorstep.geo.haversine import as_points, haversine_matrix

IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Integer distance (m) and duration (s) matrices, origins x destinations."""

    distances: IntMatrix
    durations: IntMatrix

    def __post_init__(self) -> None:
        if self.distances.shape != self.durations.shape or self.distances.ndim != 2:
            raise ValueError("distances and durations must be 2-D and of the same shape")
        if (self.distances < 0).any() or (self.durations < 0).any():
            raise ValueError("travel matrices must be non-negative")

    @classmethod
    def explicit(cls, distances: npt.ArrayLike, durations: npt.ArrayLike) -> TravelMatrix:
        """Wrap given matrices (e.g. read from a file), rounding to integers."""
        return cls(_to_int(distances), _to_int(durations))


def _to_int(values: npt.ArrayLike) -> IntMatrix:
    matrix: IntMatrix = np.rint(np.asarray(values, dtype=np.float64)).astype(np.int64)
    matrix.setflags(write=False)
    return matrix


class TravelProvider(Protocol):
    """Anything that turns (lat, lon) points into a travel matrix.

    ``depart_s``: when the trips start, in seconds after local midnight; a provider whose
    times do not depend on the hour ignores it.
    """

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix: ...


@dataclass(frozen=True)
class HaversineTravel:
    """Straight-line distance x circuity, driven at a constant average speed.

    Defaults suit mixed urban/suburban delivery driving: road distance is typically
    1.2-1.4 x the great-circle distance in street grids, and door-to-door averages of
    25-35 km/h include junctions and lights (stops themselves are service time).
    """

    circuity: float = 1.3
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        if self.circuity < 1.0:
            raise ValueError("circuity must be >= 1 (roads are never shorter than the crow flies)")
        if self.speed_kmh <= 0:
            raise ValueError("speed_kmh must be positive")

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        road_m = haversine_matrix(origins, destinations) * self.circuity
        seconds = road_m / (self.speed_kmh / 3.6)
        return TravelMatrix(_to_int(road_m), _to_int(seconds))


@dataclass(frozen=True, eq=False)
class ExplicitTravel:
    """A fixed matrix over a known list of points (benchmarks, imported data)."""

    points: npt.NDArray[np.float64]
    travel: TravelMatrix

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        rows = self._indices(origins)
        cols = rows if destinations is None else self._indices(destinations)
        grid = np.ix_(rows, cols)
        return TravelMatrix(self.travel.distances[grid], self.travel.durations[grid])

    def _indices(self, points: npt.ArrayLike) -> npt.NDArray[np.intp]:
        wanted = as_points(points)
        # Exact match of every wanted point against the known ones, vectorised.
        hits = np.all(wanted[:, None, :] == self.points[None, :, :], axis=2)
        if not hits.any(axis=1).all():
            raise KeyError("a requested point is not in the explicit matrix")
        indices: npt.NDArray[np.intp] = hits.argmax(axis=1)
        return indices
