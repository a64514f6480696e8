"""What every step on the road reads: the driver's block, its stops in order and the parcels on
each, where the driver is, and the errors they share.

A package cancelled after planning stays in ``stop_packages`` (the plan is history) but is no
longer on the itinerary: `BlockLoad` keeps it apart, and a stop left with nothing but cancelled
parcels reads as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.orm import Session

from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.geo import haversine_m
from doorstep.models import (
    Block,
    BlockEvent,
    BlockStatus,
    Channel,
    Driver,
    ExceptionKind,
    ExceptionStatus,
    Node,
    OpsException,
    Order,
    Package,
    PackageEvent,
    Plan,
    Return,
    Route,
    Stop,
    StopKind,
    StopPackage,
    StopStatus,
    is_reload,
)
from doorstep.orders.lifecycle import PackageState

# A package still in the driver's care: not yet delivered, back at the station or reported.
WITH_THE_DRIVER = frozenset(
    {
        PackageState.ASSIGNED,
        PackageState.PICKED_UP,
        PackageState.OUT_FOR_DELIVERY,
        PackageState.DELIVERY_ATTEMPTED,
        PackageState.RETURNED,
    }
)
# Still to hand over at its door.
TO_DELIVER = frozenset({PackageState.PICKED_UP, PackageState.OUT_FOR_DELIVERY})
DONE_STOP = frozenset({StopStatus.COMPLETED, StopStatus.FAILED, StopStatus.SKIPPED})


class BlockNotFound(NotFound):
    """No such block, or another driver's (the same answer: it tells a prober nothing)."""

    code = "block_not_found"


class StopNotFound(NotFound):
    code = "stop_not_found"


class BlockNotInProgress(DomainError):
    status = 409
    code = "block_not_in_progress"


class PositionRequired(InvalidInput):
    code = "position_required"


class OutsideGeofence(InvalidInput):
    code = "outside_geofence"


class UnknownPackage(NotFound):
    code = "unknown_package"


@dataclass(frozen=True)
class Position:
    lat: float
    lng: float
    accuracy_m: float | None = None

    def distance_m(self, lat: float, lng: float) -> int:
        return round(haversine_m(self.lat, self.lng, lat, lng))


def wall_clock(at: datetime, node: Node) -> str:
    """``at`` on the node's wall clock, for an operator's eyes: "Wed 09 Dec 11:00 MST"."""
    return f"{at.astimezone(ZoneInfo(node.timezone)):%a %d %b %H:%M %Z}"


def resolve_open(
    session: Session,
    kind: ExceptionKind,
    subject: ColumnElement[bool],
    *,
    driver: Driver,
    resolution: str,
    now: datetime,
) -> None:
    """The open exceptions of ``kind`` about ``subject`` resolved by what the driver did
    (turned up late after all, delivered on another try)."""
    session.execute(
        update(OpsException)
        .where(subject, OpsException.kind == kind, OpsException.status == ExceptionStatus.OPEN)
        .values(
            status=ExceptionStatus.RESOLVED,
            resolved_at=now,
            resolved_by=actor(driver),
            resolution=resolution,
        )
        .execution_options(synchronize_session=False)
    )


def wait_in_words(moment: datetime, now: datetime) -> str:
    """``in 25 min``, ``in 3 h 10 min``, or ``now`` once past: a wait for a driver's eyes."""
    minutes = int((moment - now).total_seconds() // 60)
    if minutes <= 0:
        return "now"
    if minutes < 60:
        return f"in {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"in {hours} h {rest} min" if rest else f"in {hours} h"


def driver_clock(at: datetime, node: Node, now: datetime) -> str:
    """``at`` on the node's wall clock as the driver app writes it, with how long until then:
    "10:45 am, in 25 min"; on another day than ``now``'s, the day instead of the wait:
    "Wed 09 Dec, 10:45 am"."""
    local = at.astimezone(ZoneInfo(node.timezone))
    hour = local.strftime("%I").lstrip("0")
    time = f"{hour}:{local:%M} {local.strftime('%p').lower()}"
    if local.date() != now.astimezone(local.tzinfo).date():
        return f"{local:%a %d %b}, {time}"
    return f"{time}, {wait_in_words(at, now)}"


def position(lat: float | None, lng: float | None, accuracy_m: float | None = None) -> Position:
    """The phone's fix, or `PositionRequired` (the app sends none without a GPS fix)."""
    if lat is None or lng is None:
        raise PositionRequired(
            "no GPS position: wait for a fix and try again",
            field="lat" if lat is None else "lng",
        )
    return Position(lat, lng, accuracy_m)


def inside_geofence(where: Position, node: Node, radius_m: int, *, doing: str) -> int:
    """The distance to ``node`` in metres, or `OutsideGeofence` beyond ``radius_m``."""
    distance = where.distance_m(node.lat, node.lng)
    if distance > radius_m:
        raise OutsideGeofence(
            f"you are {distance} m from {node.name}; {doing} within {radius_m} m of it",
            field="lat",
            distance_m=distance,
            radius_m=radius_m,
            node=node.code,
        )
    return distance


def note_position(driver: Driver, where: Position, now: datetime) -> None:
    driver.last_lat, driver.last_lng, driver.last_seen_at = where.lat, where.lng, now


def last_position(driver: Driver) -> Position | None:
    """Where the phone was when it last said (ETAs start from there)."""
    if driver.last_lat is None or driver.last_lng is None:
        return None
    return Position(driver.last_lat, driver.last_lng)


def actor(driver: Driver) -> str:
    return f"driver:{driver.id}"


def held_block(session: Session, driver: Driver, block_id: int, *, lock: bool = True) -> Block:
    """The driver's own block; anyone else's is not found.

    Locked (``lock``) until the caller's transaction ends: every change on the road reads its
    block's parcels after taking the lock, so a double tap, a re-sent request or the station's
    scan of the same block waits for the one before it and then sees what it did (on SQLite
    the write transaction itself does this)."""
    block = session.get(Block, block_id, with_for_update=lock or None, populate_existing=lock)
    if block is None or block.driver_id != driver.id:
        raise BlockNotFound(f"you hold no block {block_id}", block_id=block_id)
    return block


def require_in_progress(block: Block, doing: str) -> None:
    if block.status is not BlockStatus.IN_PROGRESS:
        hint = "check in first" if block.status is BlockStatus.ACCEPTED else "it is over"
        raise BlockNotInProgress(
            f"block {block.id} is {block.status.value}: {hint} before you {doing}",
            block_id=block.id,
            status=block.status.value,
        )


def check_in_event(session: Session, block: Block) -> BlockEvent | None:
    """The block's move to ``in_progress``: when and how punctually the driver checked in."""
    return session.scalar(
        select(BlockEvent)
        .where(BlockEvent.block_id == block.id, BlockEvent.to_status == BlockStatus.IN_PROGRESS)
        .order_by(BlockEvent.sequence)
        .limit(1)
    )


def station_of(session: Session, block: Block) -> Node:
    """Where the block's undelivered parcels go back: its station (the plan's for blocks
    planned before blocks knew theirs), else the node it starts from."""
    station_id = block.station_id
    if station_id is None and block.plan_id is not None:
        station_id = session.scalar(select(Plan.station_id).where(Plan.id == block.plan_id))
    return session.get_one(Node, station_id if station_id is not None else block.start_node_id)


def local_zone(node: Node) -> ZoneInfo:
    return ZoneInfo(node.timezone)


def seconds_of_day(moment: datetime, node: Node) -> int:
    """Seconds since midnight at ``node``: when a trip starts, for the travel model."""
    local = moment.astimezone(local_zone(node))
    return local.hour * 3600 + local.minute * 60 + local.second


def latest_event(session: Session, package: Package, state: PackageState) -> PackageEvent | None:
    """The package's last move to ``state``."""
    return session.scalar(
        select(PackageEvent)
        .where(PackageEvent.package_id == package.id, PackageEvent.to_state == state)
        .order_by(PackageEvent.sequence.desc())
        .limit(1)
    )


@dataclass
class BlockLoad:
    """A block's route as it stands: stops in driving order and the parcels on each."""

    block: Block
    start: Node
    route: Route | None
    stops: list[Stop]
    live: dict[int, list[Package]]  # stop id → its parcels, cancelled ones left out
    cancelled: dict[int, list[Package]]
    orders: dict[int, Order]  # by order id (a door's load: its own parcels' only)
    pickup_stop: dict[int, Stop] = field(default_factory=dict)  # package id → its pickup stop
    delivery_stop: dict[int, Stop] = field(default_factory=dict)
    # A door pickup stop → the shoppers' returns to collect there (and their orders in
    # ``orders``): a stop with returns and no parcels is not skipped.
    door_returns: dict[int, list[Return]] = field(default_factory=dict)

    @property
    def packages(self) -> dict[int, Package]:
        """Every live parcel of the block, by id."""
        return {p.id: p for parcels in self.live.values() for p in parcels}

    def stop(self, stop_id: int) -> Stop:
        for stop in self.stops:
            if stop.id == stop_id:
                return stop
        raise StopNotFound(
            f"block {self.block.id} has no stop {stop_id}", stop_id=stop_id, block_id=self.block.id
        )

    def status_of(self, stop: Stop) -> StopStatus:
        """The stop's status as the driver sees it: one whose every parcel was cancelled is
        skipped."""
        if (
            stop.status not in DONE_STOP
            and not self.live.get(stop.id)
            and not self.door_returns.get(stop.id)
        ):
            return StopStatus.SKIPPED
        return stop.status

    def remaining(self) -> list[Stop]:
        """Stops still to drive to, in order."""
        return [s for s in self.stops if self.status_of(s) not in DONE_STOP]

    def at_start(self) -> list[Package]:
        """Parcels loaded at the start node itself (a station block has no pickup stop)."""
        return [p for p in self.packages.values() if p.id not in self.pickup_stop]

    def unscanned_at_start(self) -> list[Package]:
        return [p for p in self.at_start() if p.state is PackageState.ASSIGNED]

    def dropped(self, package: Package) -> bool:
        """Left at a partner store with its batch: the morning run's drop-off stop is done."""
        stop = self.delivery_stop.get(package.id)
        return stop is not None and stop.kind is StopKind.DROP_OFF and stop.status in DONE_STOP

    @property
    def partner_run(self) -> bool:
        """The morning run to the partner stores (and back): nothing in it goes out for
        delivery; batches go on the stores' shelves, what comes back goes to the station."""
        return self.route is not None and self.route.channel is Channel.PARTNER_STORE

    def with_the_driver(self) -> list[Package]:
        return [
            p for p in self.packages.values() if p.state in WITH_THE_DRIVER and not self.dropped(p)
        ]


def load_block(session: Session, block: Block, *, orders: bool = True) -> BlockLoad:
    """At most four queries whatever the size of the block: route and stops, parcels (and
    their orders), the returns to collect at doors.

    A door needs the orders of its own parcels only (`orders_of`): ``orders=False`` leaves
    the others out, which halves the rows a driver's every tap reads."""
    start = session.get_one(Node, block.start_node_id)
    route = session.scalar(select(Route).where(Route.block_id == block.id))
    stops = (
        list(session.scalars(select(Stop).where(Stop.route_id == route.id).order_by(Stop.sequence)))
        if route is not None
        else []
    )
    by_id = {s.id: s for s in stops}
    load = BlockLoad(block, start, route, stops, {}, {}, {})
    if not stops:
        return load
    parcels = (
        select(StopPackage.stop_id, Package, Order)
        if orders
        else select(StopPackage.stop_id, Package)
    ).join(Package, Package.id == StopPackage.package_id)
    if orders:
        parcels = parcels.join(Order, Order.id == Package.order_id)
    rows = session.execute(
        parcels.where(StopPackage.stop_id.in_(list(by_id))).order_by(
            StopPackage.stop_id, Package.tracking_code
        )
    )
    for stop_id, package, *its_order in rows:
        stop = by_id[stop_id]
        for order in its_order:
            load.orders[order.id] = order
        bucket = load.cancelled if package.state is PackageState.CANCELLED else load.live
        bucket.setdefault(stop_id, []).append(package)
        if stop.kind is StopKind.PICKUP:
            load.pickup_stop[package.id] = stop
        else:
            load.delivery_stop[package.id] = stop
    # Returns are collected at door pickups only: a stop with no store (`planning.persist`).
    doors = [s.id for s in stops if s.kind is StopKind.PICKUP and s.node_id is None]
    if not doors:
        return load
    door = session.execute(
        select(Return, Order)
        .join(Order, Order.id == Return.order_id)
        # Left at a counter meanwhile: nothing to collect at the door (the stop is skipped).
        .where(Return.door_stop_id.in_(doors), Return.dropped_at.is_(None))
        .order_by(Return.public_id)
    )
    for returned, of_return in door:
        assert returned.door_stop_id is not None
        load.orders[of_return.id] = of_return
        load.door_returns.setdefault(returned.door_stop_id, []).append(returned)
    return load


def orders_of(session: Session, load: BlockLoad, parcels: list[Package]) -> None:
    """Add the orders of ``parcels`` to a load read without them (one query, none if known)."""
    wanted = {p.order_id for p in parcels} - set(load.orders)
    if wanted:
        load.orders.update(
            (order.id, order)
            for order in session.scalars(select(Order).where(Order.id.in_(wanted)))
        )


def not_yet_flagged(kind: ExceptionKind, *, per_driver: bool = False) -> ColumnElement[bool]:
    """Blocks without an operator exception of ``kind`` yet (a periodic check opens one once;
    ``per_driver``: once for each driver who holds the block)."""
    flagged = exists().where(OpsException.block_id == Block.id, OpsException.kind == kind)
    if per_driver:
        flagged = flagged.where(OpsException.driver_id == Block.driver_id)
    return ~flagged


def block_of_package(session: Session, package: Package) -> Block | None:
    """The block whose route carries ``package`` now: a plan assigns it once, and a parcel a
    partner run brings back is on that later block too (the latest counts)."""
    return session.scalar(
        select(Block)
        .join(Route, Route.block_id == Block.id)
        .join(Stop, Stop.route_id == Route.id)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .where(StopPackage.package_id == package.id)
        .order_by(Block.id.desc())
        .limit(1)
    )


def package_by_code(session: Session, code: str) -> Package:
    package = session.scalar(select(Package).where(Package.tracking_code == code.strip()))
    if package is None:
        raise UnknownPackage(f"no parcel has the code {code!r}", field="code", code=code)
    return package


def take_off_block(session: Session, load: BlockLoad, package: Package) -> list[Stop]:
    """Remove ``package`` from the block's stops; return the stops it leaves empty (now
    skipped). The block's counts follow."""
    stops = [s for s in (load.pickup_stop.get(package.id), load.delivery_stop.get(package.id)) if s]
    session.execute(
        delete(StopPackage).where(
            StopPackage.package_id == package.id,
            StopPackage.stop_id.in_([s.id for s in stops]),
        )
    )
    emptied = []
    for stop in stops:
        load.live[stop.id] = [p for p in load.live.get(stop.id, []) if p.id != package.id]
        if not load.live[stop.id] and stop.status not in DONE_STOP:
            stop.status = StopStatus.SKIPPED
            emptied.append(stop)
    load.pickup_stop.pop(package.id, None)
    load.delivery_stop.pop(package.id, None)
    load.block.package_count = max(0, load.block.package_count - 1)
    # A reload left empty is skipped too, but it was never one of the block's stops.
    counted = [
        s for s in emptied if not is_reload(s, load.start if s.node_id == load.start.id else None)
    ]
    load.block.stop_count = max(0, load.block.stop_count - len(counted))
    return emptied
