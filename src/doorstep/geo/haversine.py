"""Great-circle distances, vectorised with NumPy (no Python loops over pairs)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

FloatArray = npt.NDArray[np.float64]


def as_points(points: npt.ArrayLike) -> FloatArray:
    """``(n, 2)`` array of (latitude, longitude) in degrees, validated."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2) as (lat, lon), got {array.shape}")
    if np.any(np.abs(array[:, 0]) > 90) or np.any(np.abs(array[:, 1]) > 180):
        raise ValueError("latitude must be within ±90 and longitude within ±180 degrees")
    return array


def haversine_matrix(
    origins: npt.ArrayLike, destinations: npt.ArrayLike | None = None
) -> FloatArray:
    """Metres between every origin and every destination (default: origins to themselves)."""
    a = np.radians(as_points(origins))
    b = a if destinations is None else np.radians(as_points(destinations))
    lat1, lon1 = a[:, 0:1], a[:, 1:2]
    lat2, lon2 = b[:, 0][None, :], b[:, 1][None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    metres: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return metres


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points."""
    # Scalar maths: NumPy's per-call overhead is larger than the formula for one pair, and the
    # promise computes a few of these per shopper request.
    for lat, lon in ((lat1, lon1), (lat2, lon2)):
        if abs(lat) > 90 or abs(lon) > 180:
            raise ValueError("latitude must be within ±90 and longitude within ±180 degrees")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))
