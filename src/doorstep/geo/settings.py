"""Which travel provider to use, read once from the environment (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from doorstep.geo.matrix import HaversineTravel, TravelProvider
from doorstep.geo.osrm import OsrmTravel


@dataclass(frozen=True)
class TravelSettings:
    osrm_url: str | None = None
    osrm_profile: str = "driving"
    circuity: float = 1.3
    speed_kmh: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TravelSettings:
        """``DOORSTEP_OSRM_URL``, ``DOORSTEP_OSRM_PROFILE``, ``DOORSTEP_CIRCUITY``,
        ``DOORSTEP_SPEED_KMH``."""
        env = os.environ if env is None else env
        return cls(
            osrm_url=env.get("DOORSTEP_OSRM_URL") or None,
            osrm_profile=env.get("DOORSTEP_OSRM_PROFILE", "driving"),
            circuity=float(env.get("DOORSTEP_CIRCUITY", "1.3")),
            speed_kmh=float(env.get("DOORSTEP_SPEED_KMH", "30")),
        )


def travel_provider(settings: TravelSettings) -> TravelProvider:
    """OSRM when a URL is configured, else haversine x circuity x speed."""
    if settings.osrm_url:
        return OsrmTravel(settings.osrm_url, profile=settings.osrm_profile)
    return HaversineTravel(circuity=settings.circuity, speed_kmh=settings.speed_kmh)
