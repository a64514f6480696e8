"""Geography for doorstep (pure: NumPy, and httpx for a road router): the one travel model,
straight-line distances, postal-code centroids.

from doorstep.geo import TravelModel
model = TravelModel()                                      # or Settings().travel_model()
m = model.matrix([(33.30, -111.84), (33.25, -111.80)], depart_s=10 * 3600)
m.distances, m.durations                                   # int64 metres, seconds
"""

from __future__ import annotations

from doorstep.geo.haversine import EARTH_RADIUS_M, haversine_m, haversine_matrix
from doorstep.geo.matrix import ExplicitTravel, HaversineTravel, TravelMatrix, TravelProvider
from doorstep.geo.osrm import OsrmError, OsrmTravel, parse_table
from doorstep.geo.travel import (
    DEFAULT_SPEEDS_KMH,
    Router,
    RouterKind,
    SpeedProfile,
    TravelModel,
)
from doorstep.geo.valhalla import ValhallaError, ValhallaTravel, parse_matrix

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "EARTH_RADIUS_M",
    "ExplicitTravel",
    "HaversineTravel",
    "OsrmError",
    "OsrmTravel",
    "Router",
    "RouterKind",
    "SpeedProfile",
    "TravelMatrix",
    "TravelModel",
    "TravelProvider",
    "ValhallaError",
    "ValhallaTravel",
    "haversine_m",
    "haversine_matrix",
    "parse_matrix",
    "parse_table",
]
