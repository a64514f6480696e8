"""Price the channels that need no routing: partner stores and carrier services.

These prices are what a package costs if the drivers do not take it; the router gets them
as prizes, so leaving a package to a partner or a carrier is a decision of the solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from doorstep.geo import haversine_matrix
from doorstep.planning.core.model import (
    CarrierService,
    Channel,
    DayInput,
    Package,
    PartnerStore,
    ServiceArea,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Option:
    """One way to deliver a package without our drivers, and its marginal cost."""

    channel: Channel
    cost_cents: int
    via: str  # the partner store's id or the carrier service's name


def in_areas(lat: FloatArray, lng: FloatArray, areas: tuple[ServiceArea, ...]) -> BoolArray:
    """Which points lie inside any area (even-odd ray casting, vectorised over points)."""
    inside_any = np.zeros(lat.shape, dtype=np.bool_)
    for area in areas:
        ring = np.asarray(area.ring, dtype=np.float64)
        inside = np.zeros(lat.shape, dtype=np.bool_)
        for (y1, x1), (y2, x2) in zip(ring, np.roll(ring, -1, axis=0), strict=True):
            crosses = (y1 > lat) != (y2 > lat)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (lng < x_at)
        inside_any |= inside
    return inside_any


def partner_keeps(store: PartnerStore, package: Package, middle_mile_arrival_s: int) -> bool:
    """Staff deliver between the batch's arrival and closing time; a later promise is fine."""
    if package.ready_s > middle_mile_arrival_s:
        return False  # misses the morning van
    if package.promise.days > 0:
        return True
    return store.opening[1] <= package.window[1] and store.opening[0] <= package.window[1]


def carrier_keeps(service: CarrierService, package: Package) -> bool:
    if service.transit_days > package.promise.days:
        return False
    if package.weight_g > service.max_weight_g or package.volume_cm3 > service.max_volume_cm3:
        return False
    latest = service.latest_handover_s
    if service.transit_days == 0:
        # A courier can hand over any time after the parcel is ready, early enough to
        # arrive inside the window.
        latest = min(latest, package.window[1] - service.lead_time_s)
    return package.ready_s <= latest


def carrier_option(day: DayInput, package: Package) -> Option | None:
    """The cheapest carrier service that keeps the promise, if any."""
    offers = [
        Option(Channel.CARRIER, s.rate(package.weight_g), s.name)
        for s in day.costs.carrier_services
        if carrier_keeps(s, package)
    ]
    return min(offers, key=lambda o: (o.cost_cents, o.via), default=None)


def partner_candidates(day: DayInput) -> dict[str, list[str]]:
    """Per package id, the open partner stores (nearest first) that can take it."""
    stores = [s for s in day.partner_stores if s.open_today and s.capacity_left > 0]
    eligible = [p for p in day.packages if p.origin == day.station]
    if not stores or not eligible:
        return {}
    metres = haversine_matrix([(p.lat, p.lng) for p in eligible], [(s.lat, s.lng) for s in stores])
    found: dict[str, list[str]] = {}
    for i, package in enumerate(eligible):
        order = np.argsort(metres[i], kind="stable")
        ids = [
            stores[j].id
            for j in order
            if metres[i, j] <= stores[j].radius_m
            and partner_keeps(stores[j], package, day.middle_mile_arrival_s)
        ]
        if ids:
            found[package.id] = ids
    return found


def partner_unit_cost(day: DayInput, store: PartnerStore, expected: int, drop_cents: int) -> int:
    """Pay per package plus this package's share of the store's drop on the morning run
    (`drops.drop_prices`)."""
    share = drop_cents // max(1, expected)
    return day.costs.partner_pay(store) + share
