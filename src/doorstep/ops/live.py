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

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, func, select, type_coerce
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
_DONE_VALUES = (StopStatus.COMPLETED.value, StopStatus.FAILED.value)
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


def network_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever what `network_layer` draws changes (a node, a partner store's
    radius, an area): one small query, so a drawn network can be kept until then."""
    nodes = session.execute(
        select(
            func.count(Node.id),
            func.max(Node.updated_at),
            func.sum(func.coalesce(PartnerStore.service_radius_m, 0)),
        ).outerjoin(PartnerStore, PartnerStore.node_id == Node.id)
    ).one()
    areas = session.execute(
        select(func.count(ServiceArea.id), func.max(ServiceArea.updated_at))
    ).one()
    return (*nodes, *areas)


def is_late(
    status: str,
    deadline: datetime | None,
    arrives: datetime | None,
    completed_at: datetime | None,
    now: datetime,
) -> bool:
    """Whether a stop is late: ``deadline`` is its window's end, else its parcels' earliest
    promise; ``arrives`` its ETA (else its planned arrival). The one rule the map and the
    ``late_stop`` exceptions share."""
    if status == StopStatus.SKIPPED.value or deadline is None:
        return False
    if status in _DONE_VALUES:
        return completed_at is not None and completed_at > deadline
    # Not there yet: it arrives at its ETA at the earliest, and not before now.
    return (arrives is not None and arrives > deadline) or now > deadline


@dataclass(frozen=True)
class StopRow:
    """A stop as the map reads it: plain columns, its lateness decided at each update."""

    id: int
    block_id: int
    sequence: int
    lat: float
    lng: float
    status: str
    deadline: datetime | None
    arrives: datetime | None
    completed_at: datetime | None

    def late(self, now: datetime) -> bool:
        return is_late(self.status, self.deadline, self.arrives, self.completed_at, now)


def _utc(at: datetime | None) -> datetime | None:
    # An aggregate (the earliest promise) may come back without its zone on SQLite.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def stop_rows(session: Session, block_ids: Sequence[int]) -> list[StopRow]:
    """The stops of ``block_ids``, in order, each with its deadline (one query; the earliest
    promise is read per stop through its parcels, so only these stops' parcels are read)."""
    if not block_ids:
        return []
    earliest = (
        select(func.min(Package.promised_by))
        .join(StopPackage, StopPackage.package_id == Package.id)
        .where(StopPackage.stop_id == Stop.id)
        .correlate(Stop)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Route.block_id,
            Stop.id,
            Stop.sequence,
            Stop.lat,
            Stop.lng,
            # The raw value: no enum object per stop (thousands of them on every update).
            type_coerce(Stop.status, String),
            Stop.window_end,
            earliest,
            Stop.eta_at,
            Stop.planned_arrival_at,
            Stop.completed_at,
        )
        .join(Route, Route.id == Stop.route_id)
        .where(Route.block_id.in_(block_ids))
        .order_by(Route.block_id, Stop.sequence)
    ).all()
    found = []
    for (
        block_id,
        stop_id,
        sequence,
        lat,
        lng,
        status,
        window_end,
        promised,
        eta,
        planned,
        completed_at,
    ) in rows:
        assert block_id is not None  # the query asks for these blocks' routes
        found.append(
            StopRow(
                id=stop_id,
                block_id=block_id,
                sequence=sequence,
                lat=lat,
                lng=lng,
                status=status,
                deadline=_utc(window_end if window_end is not None else promised),
                arrives=eta if eta is not None else planned,
                completed_at=completed_at,
            )
        )
    return found


class DayReader:
    """Reads the day's blocks again and again (every update of the live map), re-reading a
    block's stops only when the block or its driver changed since the last reading.

    A stop changes on the road (a scan, a door, a check-in re-times the ETAs), and each of
    those also moves the driver's ``last_seen_at``; a block changes its own row (its status
    and version). So the blocks and drivers (a few hundred rows) are read every time, the
    stops of the blocks whose signature moved, and every stop again each ``full_every_s``
    seconds (five refreshes of the map), for what changed without either (an operator's fix
    in the database). Lateness is decided at each reading (it moves with the clock). One
    reader serves every open map
    of a process (`web.ops.live_map.LiveFeed`); `blocks_layer` reads with a fresh one.
    """

    def __init__(self, full_every_s: float | None = 5.0) -> None:
        self.full_every_s = full_every_s
        self._signatures: dict[int, tuple[Any, ...]] = {}
        self._stops: dict[int, list[StopRow]] = {}
        self._full_at: float | None = None
        self.stops_read = 0  # how many stop rows the last reading fetched (for the benchmark)

    def read(
        self, session: Session, start: datetime, end: datetime, now: datetime
    ) -> list[LiveBlock]:
        blocks = session.execute(
            select(
                Block.id,
                type_coerce(Block.status, String).label("status"),
                Block.version,
                Block.driver_id,
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
        clock = time.monotonic()
        full = (
            self.full_every_s is None
            or self._full_at is None
            or clock - self._full_at >= self.full_every_s
        )
        signatures = {b.id: (b.status, b.version, b.driver_id, b.last_seen_at) for b in blocks}
        stale = [
            i for i, signature in signatures.items() if full or self._signatures.get(i) != signature
        ]
        fresh: dict[int, list[StopRow]] = {i: [] for i in stale}
        rows = stop_rows(session, stale)
        for row in rows:
            fresh[row.block_id].append(row)
        self.stops_read = len(rows)
        if full:
            self._stops, self._full_at = {}, clock
        self._stops.update(fresh)
        for gone in set(self._stops) - set(signatures):
            del self._stops[gone]
        self._signatures = signatures
        live = []
        for b in blocks:
            mine = tuple(
                LiveStop(s.id, s.sequence, s.lat, s.lng, s.status, s.late(now))
                for s in self._stops.get(b.id, ())
            )
            done = sum(s.status not in _UNDONE for s in mine)
            live.append(
                LiveBlock(
                    id=b.id,
                    status=b.status,
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
                    stops=mine,
                )
            )
        return live


def blocks_layer(
    session: Session, start: datetime, end: datetime, now: datetime
) -> list[LiveBlock]:
    """The blocks starting in [start, end) that are not cancelled, with their stops, read
    whole (the live map reads through one `DayReader` that keeps what did not change)."""
    return DayReader(full_every_s=None).read(session, start, end, now)
