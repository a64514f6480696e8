"""Packages that share an address, an origin and a window become one routing task."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from doorstep.planning.core.model import Package


@dataclass(frozen=True, slots=True)
class StopGroup:
    """Packages for one address from one origin, routed as one stop (or one pickup→delivery)."""

    id: str
    origin: str
    lat: float
    lng: float
    packages: tuple[Package, ...]
    window: tuple[int, int]
    ready_s: int

    @property
    def volume_cm3(self) -> int:
        return sum(p.volume_cm3 for p in self.packages)

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.packages)

    @property
    def service_s(self) -> int:
        # The walk to the door is paid once; each further parcel adds a scan and a photo.
        first = max(p.service_s for p in self.packages)
        return first + 15 * (len(self.packages) - 1)


def group_packages(packages: list[Package], prefix: str = "g") -> list[StopGroup]:
    """Group by (address rounded to ~1 m, origin, window), in input order for determinism."""
    buckets: dict[tuple[float, float, str, tuple[int, int]], list[Package]] = defaultdict(list)
    for p in packages:
        buckets[(round(p.lat, 5), round(p.lng, 5), p.origin, p.window)].append(p)
    groups = []
    for n, ((lat, lng, origin, window), members) in enumerate(buckets.items()):
        groups.append(
            StopGroup(
                id=f"{prefix}{n}",
                origin=origin,
                lat=lat,
                lng=lng,
                packages=tuple(members),
                window=window,
                ready_s=max(p.ready_s for p in members),
            )
        )
    return groups
