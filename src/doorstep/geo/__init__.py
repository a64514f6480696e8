"""Travel distances and times for doorstep (pure: NumPy and, for OSRM, httpx).

from doorstep.geo import travel_provider, TravelSettings
provider = travel_provider(TravelSettings.from_env())   # OSRM if a URL is set
m = provider.matrix([(52.37, 4.89), (52.36, 4.90)])      # (lat, lon)
m.distances, m.durations                                 # int64 metres, seconds
"""

from __future__ import annotations

from doorstep.geo.haversine import EARTH_RADIUS_M, haversine_m, haversine_matrix
from doorstep.geo.matrix import ExplicitTravel, HaversineTravel, TravelMatrix, TravelProvider
from doorstep.geo.osrm import OsrmError, OsrmTravel, parse_table
from doorstep.geo.settings import TravelSettings, travel_provider

__all__ = [
    "EARTH_RADIUS_M",
    "ExplicitTravel",
    "HaversineTravel",
    "OsrmError",
    "OsrmTravel",
    "TravelMatrix",
    "TravelProvider",
    "TravelSettings",
    "haversine_m",
    "haversine_matrix",
    "parse_table",
    "travel_provider",
]
