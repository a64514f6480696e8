"""What the live map shows: the network (still) and today's blocks (moving).

`network_layer` reads the nodes and service areas once per page; `blocks_layer` is read again
for every update the map's event stream sends: each block starting in the day, its driver's
last position (the phone's check-in, scans, doors and periodic fixes all set it), its stops
done and to do, and which are late.

A stop is **late** when it is not done and its ETA (or, once the ETA has passed without the
stop being done, now) is after its deadline, or when it was done after it. Its deadline is the
end of its time window when it has one, else the earliest promise of its parcels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import (
    Block,
    BlockStatus,
    Driver,
    Node,
    Package,
    PartnerStore,
    Route,
    ServiceArea,
    Stop,
    StopPackage,
    StopStatus,
)

#: Stops the driver has been to (delivered, or attempted and failed).
_DONE = (StopStatus.COMPLETED, StopStatus.FAILED)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    kind: str
    lat: float
    lng: float
    radius_m: int | None  # a partner store's delivery radius


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon


@dataclass(frozen=True)
class LiveStop:
    id: int
    sequence: int
    lat: float
    lng: float
    status: str
    late: bool


@dataclass(frozen=True)
class LiveBlock:
    id: int
    status: str
    start: str
    starts_at: datetime
    ends_at: datetime
    driver: str | None
    lat: float | None  # the driver's last position
    lng: float | None
    seen_at: datetime | None
    done: int
    to_do: int
    late: int
    stops: tuple[LiveStop, ...]


def network_layer(session: Session) -> tuple[list[Place], list[Area]]:
    rows = session.execute(
        select(Node, PartnerStore.service_radius_m)
        .outerjoin(PartnerStore, PartnerStore.node_id == Node.id)
        .where(Node.active.is_(True))
        .order_by(Node.kind, Node.code)
    ).all()
    places = [Place(n.code, n.name, n.kind.value, n.lat, n.lng, radius) for n, radius in rows]
    areas = [
        Area(a.code, a.name, a.geometry)
        for a in session.scalars(select(ServiceArea).order_by(ServiceArea.code))
    ]
    return places, areas


def is_late(stop: Stop, promise: datetime | None, now: datetime) -> bool:
    """``promise``: the stop's deadline (its time window's end, else the earliest promise of
    its parcels)."""
    deadline = stop.window_end or promise
    if deadline is None or stop.status is StopStatus.SKIPPED:
        return False
    if stop.status in _DONE:
        return stop.completed_at is not None and stop.completed_at > deadline
    # Not there yet: it arrives at its ETA at the earliest, and not before now.
    expected = stop.eta_at or stop.planned_arrival_at or now
    return max(expected, now) > deadline


def blocks_layer(
    session: Session, start: datetime, end: datetime, now: datetime
) -> list[LiveBlock]:
    """The blocks starting in [start, end) that are not cancelled, with their stops."""
    blocks = session.execute(
        select(Block, Node.code, Driver)
        .join(Node, Node.id == Block.start_node_id)
        .outerjoin(Driver, Driver.id == Block.driver_id)
        .where(
            Block.starts_at >= start,
            Block.starts_at < end,
            Block.status != BlockStatus.CANCELLED,
        )
        .order_by(Block.starts_at, Block.id)
    ).all()
    ids = [b.id for b, _, _ in blocks]
    stops: dict[int, list[Stop]] = {i: [] for i in ids}
    promises: dict[int, datetime] = {}
    if ids:
        promises = dict(
            session.execute(
                select(StopPackage.stop_id, func.min(Package.promised_by))
                .join(Package, Package.id == StopPackage.package_id)
                .join(Stop, Stop.id == StopPackage.stop_id)
                .join(Route, Route.id == Stop.route_id)
                .where(Route.block_id.in_(ids))
                .group_by(StopPackage.stop_id)
            ).all()
        )
        for stop, block_id in session.execute(
            select(Stop, Route.block_id)
            .join(Route, Route.id == Stop.route_id)
            .where(Route.block_id.in_(ids))
            .order_by(Route.block_id, Stop.sequence)
        ).all():
            if block_id is not None:
                stops[block_id].append(stop)
    live = []
    for block, start_code, driver in blocks:
        mine = [
            LiveStop(
                s.id, s.sequence, s.lat, s.lng, s.status.value, is_late(s, promises.get(s.id), now)
            )
            for s in stops[block.id]
        ]
        done = sum(s.status != StopStatus.PENDING and s.status != StopStatus.ARRIVED for s in mine)
        live.append(
            LiveBlock(
                id=block.id,
                status=block.status.value,
                start=start_code,
                starts_at=block.starts_at,
                ends_at=block.ends_at,
                driver=driver.name if driver else None,
                lat=driver.last_lat if driver else None,
                lng=driver.last_lng if driver else None,
                seen_at=driver.last_seen_at if driver else None,
                done=done,
                to_do=len(mine) - done,
                late=sum(s.late for s in mine),
                stops=tuple(mine),
            )
        )
    return live
