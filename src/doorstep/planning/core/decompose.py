"""Split a big day into territories that can be routed independently and in parallel.

Territories are angular sectors around the station with about the same number of stops;
drivers are shared out in proportion to each sector's work, by largest remainder, so the
split is deterministic and never invents a driver.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from doorstep.planning.core.groups import StopGroup
from doorstep.planning.core.model import DayInput, DriverSupply


def sectors(day: DayInput, groups: Sequence[StopGroup], per_sector: int) -> list[list[StopGroup]]:
    """Contiguous angular sectors around the station, balanced by stop count."""
    if not groups:
        return []
    count = max(1, math.ceil(len(groups) / per_sector))
    station = day.site(day.station)
    assert station is not None
    squeeze = math.cos(math.radians(station.lat))

    def angle(g: StopGroup) -> float:
        return math.atan2(g.lat - station.lat, (g.lng - station.lng) * squeeze)

    ordered = sorted(groups, key=lambda g: (angle(g), g.id))
    # Start the sweep in the widest empty wedge so no dense cluster is cut in two at ±π.
    angles = [angle(g) for g in ordered]
    gaps = [(angles[(i + 1) % len(angles)] - angles[i]) % (2 * math.pi) for i in range(len(angles))]
    start = (max(range(len(gaps)), key=lambda i: (gaps[i], -i)) + 1) % len(ordered)
    ordered = ordered[start:] + ordered[:start]
    size = len(ordered) / count
    return [ordered[round(k * size) : round((k + 1) * size)] for k in range(count)]


def share(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder (ties: lower index)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


Supplies = tuple[tuple[int, DriverSupply], ...]  # (index in day.drivers, drivers)


def split_supply(day: DayInput, territories: Sequence[Sequence[StopGroup]]) -> list[Supplies]:
    """Each territory's drivers: a supply's drivers follow the packages of its start site."""
    per_territory: list[list[tuple[int, DriverSupply]]] = [[] for _ in territories]
    for index, supply in enumerate(day.drivers):
        served = {supply.start_site} | {s.id for s in day.sites if s.parent == supply.start_site}
        weights = [
            float(sum(len(g.packages) for g in t if g.origin in served)) for t in territories
        ]
        if sum(weights) == 0:
            weights = [float(sum(len(g.packages) for g in t)) for t in territories]
        for n, count in enumerate(share(supply.count, weights)):
            if count > 0:
                per_territory[n].append((index, replace(supply, count=count)))
    return [tuple(s) for s in per_territory]
