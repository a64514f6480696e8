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

from sqlalchemy import ColumnElement, bindparam, case, false, func, or_, select
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
_UNDONE = (StopStatus.PENDING.value, StopStatus.ARRIVED.value)


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


def late_stop(deadline: ColumnElement[Any], now: datetime) -> ColumnElement[bool]:
    """Whether a stop is late, in SQL (it runs for every stop of the day on each update of
    every open map): ``deadline`` is its window's end, else its parcels' earliest promise."""
    at_now = bindparam("now", now, type_=Stop.__table__.c.window_end.type)
    return func.coalesce(
        case(
            (Stop.status == StopStatus.SKIPPED, false()),
            (deadline.is_(None), false()),
            (Stop.status.in_(_DONE), Stop.completed_at > deadline),
            # Not there yet: it arrives at its ETA at the earliest, and not before now.
            else_=or_(
                func.coalesce(Stop.eta_at, Stop.planned_arrival_at) > deadline, at_now > deadline
            ),
        ),
        false(),
    )


def blocks_layer(
    session: Session, start: datetime, end: datetime, now: datetime
) -> list[LiveBlock]:
    """The blocks starting in [start, end) that are not cancelled, with their stops.

    Read as plain columns, two queries whatever the number of blocks: it runs every second
    for every open map."""
    blocks = session.execute(
        select(
            Block.id,
            Block.status,
            Block.starts_at,
            Block.ends_at,
            Node.code,
            Driver.name,
            Driver.last_lat,
            Driver.last_lng,
            Driver.last_seen_at,
        )
        .join(Node, Node.id == Block.start_node_id)
        .outerjoin(Driver, Driver.id == Block.driver_id)
        .where(
            Block.starts_at >= start,
            Block.starts_at < end,
            Block.status != BlockStatus.CANCELLED,
        )
        .order_by(Block.starts_at, Block.id)
    ).all()
    ids = [b.id for b in blocks]
    stops: dict[int, list[LiveStop]] = {i: [] for i in ids}
    if ids:
        promises = (
            select(StopPackage.stop_id, func.min(Package.promised_by).label("promised_by"))
            .join(Package, Package.id == StopPackage.package_id)
            .group_by(StopPackage.stop_id)
            .subquery()
        )
        deadline = func.coalesce(Stop.window_end, promises.c.promised_by)
        rows = session.execute(
            select(
                Route.block_id,
                Stop.id,
                Stop.sequence,
                Stop.lat,
                Stop.lng,
                Stop.status,
                late_stop(deadline, now).label("late"),
            )
            .join(Route, Route.id == Stop.route_id)
            .outerjoin(promises, promises.c.stop_id == Stop.id)
            .where(Route.block_id.in_(ids))
            .order_by(Route.block_id, Stop.sequence)
        ).all()
        for row in rows:
            if row.block_id is not None:
                stops[row.block_id].append(
                    LiveStop(
                        row.id,
                        row.sequence,
                        row.lat,
                        row.lng,
                        row.status.value,
                        bool(row.late),
                    )
                )
    live = []
    for b in blocks:
        mine = stops[b.id]
        done = sum(s.status not in _UNDONE for s in mine)
        live.append(
            LiveBlock(
                id=b.id,
                status=b.status.value,
                start=b.code,
                starts_at=b.starts_at,
                ends_at=b.ends_at,
                driver=b.name,
                lat=b.last_lat,
                lng=b.last_lng,
                seen_at=b.last_seen_at,
                done=done,
                to_do=len(mine) - done,
                late=sum(s.late for s in mine),
                stops=tuple(mine),
            )
        )
    return live
