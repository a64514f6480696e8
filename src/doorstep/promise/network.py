"""What the promise needs to know about the network, loaded once and kept for a short while.

Coverage (which station's service area contains an address, which partner stores reach it)
changes when an operator imports a network file, not between two shoppers. Reading it from the
database on every preview cost five queries; a snapshot answers from memory, and the API keeps
one per process for ``ttl_s`` seconds (an imported change reaches the promise within that time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
from shapely import prepared
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from doorstep.geo import haversine_matrix
from doorstep.models import Node, PartnerStore, ServiceArea
from doorstep.promise.rules import PartnerCoverage, Place


def place_of(node: Node) -> Place:
    return Place(
        id=node.id,
        code=node.code,
        name=node.name,
        kind=node.kind,
        lat=node.lat,
        lng=node.lng,
        tz=ZoneInfo(node.timezone),
        same_day_cutoff=node.same_day_cutoff,
        daily_capacity=node.daily_capacity,
    )


@dataclass(frozen=True)
class _Area:
    code: str
    bounds: tuple[float, float, float, float]  # min lng, min lat, max lng, max lat
    polygon: prepared.PreparedGeometry
    station: Place


@dataclass(frozen=True)
class _Partner:
    place: Place
    radius_m: float
    opening_hours: Mapping[str, Sequence[str]]
    closed_days: frozenset[date]
    address: str | None = None


class NetworkSnapshot:
    def __init__(self, places: dict[int, Place], areas: list[_Area], partners: list[_Partner]):
        self.places = places
        self._areas = sorted(areas, key=lambda a: a.code)
        self._partners = partners
        self._partner_points = np.array([[p.place.lat, p.place.lng] for p in partners]).reshape(
            -1, 2
        )
        self._partner_radii = np.array([p.radius_m for p in partners])

    def station_for(self, lat: float, lng: float) -> Place | None:
        point = Point(lng, lat)
        for area in self._areas:
            min_lng, min_lat, max_lng, max_lat = area.bounds
            if (
                min_lng <= lng <= max_lng
                and min_lat <= lat <= max_lat
                and area.polygon.covers(point)
            ):
                return area.station
        return None

    def partners_for(self, lat: float, lng: float) -> list[PartnerCoverage]:
        if not self._partners:
            return []
        distances = haversine_matrix(self._partner_points, [[lat, lng]])[:, 0]
        return [
            PartnerCoverage(
                place=partner.place,
                distance_m=float(distance),
                opening_hours=partner.opening_hours,
                closed_days=partner.closed_days,
                address=partner.address,
            )
            for partner, distance, radius in zip(
                self._partners, distances, self._partner_radii, strict=True
            )
            if distance <= radius
        ]


def load_snapshot(session: Session) -> NetworkSnapshot:
    nodes = session.scalars(select(Node).where(Node.active.is_(True))).all()
    places = {node.id: place_of(node) for node in nodes}
    addresses = {node.id: node.address for node in nodes}
    areas = [
        _Area(
            code=area.code,
            bounds=(area.min_lng, area.min_lat, area.max_lng, area.max_lat),
            polygon=prepared.prep(shape(area.geometry)),
            station=places[area.station_id],
        )
        for area in session.scalars(select(ServiceArea).where(ServiceArea.station_id.is_not(None)))
        if area.station_id in places
    ]
    partners = [
        _Partner(
            place=places[store.node_id],
            radius_m=store.service_radius_m,
            opening_hours=store.opening_hours,
            closed_days=frozenset(closed.day for closed in store.closed_days),
            address=addresses[store.node_id],
        )
        for store in session.scalars(
            select(PartnerStore).options(selectinload(PartnerStore.closed_days))
        )
        if store.node_id in places
    ]
    return NetworkSnapshot(places, areas, partners)


class SnapshotCache:
    """One snapshot per process, reloaded when older than ``ttl_s``."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: NetworkSnapshot | None = None
        self._loaded_at = 0.0

    def fresh(self) -> NetworkSnapshot | None:
        """The snapshot if it is still within its time, without touching the database."""
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._loaded_at <= self.ttl_s:
            return snapshot
        return None

    def get(self, session: Session) -> NetworkSnapshot:
        with self._lock:
            if self._snapshot is None or self._clock() - self._loaded_at > self.ttl_s:
                self._snapshot = load_snapshot(session)
                self._loaded_at = self._clock()
            return self._snapshot
