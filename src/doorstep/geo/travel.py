"""The one travel model: every promise, plan, staff route, dispatch decision and ETA asks it.

By default no server is needed: the straight line × a circuity factor, driven at the average
door-to-door speed of the hour the trip starts (a speed profile, 24 values). When an operator
runs a road router, the model asks it instead: OSRM's ``/table`` or Valhalla's
``/sources_to_targets``. A promise, a plan and an ETA for the same trip at the same hour then
give the same time, because they are the same call.

The model is plain data (frozen, comparable, serialisable into a plan's fingerprint); the
HTTP client of a router is made per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy.typing as npt

from doorstep.geo.matrix import HaversineTravel, TravelMatrix, TravelProvider
from doorstep.geo.osrm import OsrmTravel
from doorstep.geo.valhalla import ValhallaTravel

HOUR_S = 3600

# Door-to-door average speed (km/h) by the hour a trip starts, for suburban driving with lights
# and junctions (the stops themselves are service time). Peak hours run about a fifth slower,
# the shape traffic indices report for US metros; an operator sets its own profile.
DEFAULT_SPEEDS_KMH: tuple[float, ...] = (
    (44.0,) * 6  # 00-06: free-flowing
    + (40.0,)  # 06
    + (32.0,) * 2  # 07-09: morning peak
    + (40.0,) * 7  # 09-16
    + (32.0,) * 2  # 16-18: evening peak
    + (42.0,) * 6  # 18-24
)


class RouterKind(StrEnum):
    OSRM = "osrm"
    VALHALLA = "valhalla"


@dataclass(frozen=True)
class Router:
    """A road router's matrix service: where it is and which profile (costing) to ask."""

    kind: RouterKind
    url: str
    profile: str = ""  # OSRM profile (``driving``) or Valhalla costing (``auto``)
    timeout_s: float = 30.0

    def provider(self) -> TravelProvider:
        if self.kind is RouterKind.OSRM:
            return OsrmTravel(self.url, profile=self.profile or "driving", timeout_s=self.timeout_s)
        return ValhallaTravel(self.url, costing=self.profile or "auto", timeout_s=self.timeout_s)


@dataclass(frozen=True)
class SpeedProfile:
    """Average door-to-door speed (km/h) by the hour of day a trip starts."""

    kmh: tuple[float, ...] = DEFAULT_SPEEDS_KMH

    def __post_init__(self) -> None:
        if len(self.kmh) != 24:
            raise ValueError(f"a speed profile has 24 hourly speeds, not {len(self.kmh)}")
        if min(self.kmh) <= 0:
            raise ValueError("every hourly speed must be positive")

    @classmethod
    def flat(cls, kmh: float) -> SpeedProfile:
        return cls((kmh,) * 24)

    def at(self, depart_s: int | None) -> float:
        """The speed of the hour ``depart_s`` (seconds after local midnight) falls in; with
        no time, the day's typical speed (09:00, outside the peaks)."""
        if depart_s is None:
            return self.kmh[9]
        return self.kmh[(depart_s // HOUR_S) % 24]


@dataclass(frozen=True)
class TravelModel:
    """Distances (m) and driving times (s) between points, the same for every caller."""

    circuity: float = 1.3
    speeds: SpeedProfile = field(default_factory=SpeedProfile)
    router: Router | None = None

    def __post_init__(self) -> None:
        if self.circuity < 1.0:
            raise ValueError("circuity must be >= 1 (roads are never shorter than the crow flies)")

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        """Origins × destinations (all × all without destinations), trips starting at
        ``depart_s`` seconds after local midnight."""
        return self.provider(depart_s).matrix(origins, destinations, depart_s=depart_s)

    def provider(self, depart_s: int | None = None) -> TravelProvider:
        """The provider behind the model for trips starting at ``depart_s``."""
        if self.router is not None:
            return self.router.provider()
        return HaversineTravel(circuity=self.circuity, speed_kmh=self.speeds.at(depart_s))

    def seconds(
        self, origin: tuple[float, float], destination: tuple[float, float], depart_s: int | None
    ) -> int:
        """Driving time of one trip."""
        return int(self.matrix([origin], [destination], depart_s=depart_s).durations[0, 0])

    def describe(self) -> str:
        """One line for logs and docs: what answers travel questions."""
        if self.router is not None:
            return f"{self.router.kind.value} at {self.router.url}"
        low, high = min(self.speeds.kmh), max(self.speeds.kmh)
        return f"straight line × {self.circuity:g} at {low:g}-{high:g} km/h by hour"
