"""The periodic checks that open exceptions nothing else opens: a stop whose ETA passes its
promise, a block with no driver near its start, a stop that takes too long, a carrier parcel
without tracking news, a return to collect at a door that no plan has taken for a day.

Each check opens **one exception per subject** (a stop, a block, a carrier parcel): a subject
already flagged, open or resolved, is not flagged again, so resolving one does not bring it
back five minutes later. A carrier parcel is the exception: news after a silence starts a new
silence, which may open a new exception. The other kinds are opened where they are detected:
``no_check_in`` by the road's no-show check (`drivers.road.checkin.flag_no_shows`),
``counter_overdue`` by the partner counter's overdue job (`partners.counter.send_back_overdue`).

`detect` runs them all in the caller's transaction (the job runner's periodic job
``ops.detect``, registered by `register`); it returns how many it opened of each kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from doorstep.carriers.manual import CARRIER_NAME as COUNTER_CARRIER
from doorstep.drivers.road.load import wall_clock
from doorstep.geo.haversine import haversine_m
from doorstep.jobs import Registry
from doorstep.models import (
    Block,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    Driver,
    DriverStatus,
    ExceptionKind,
    Node,
    OpsException,
    Package,
    Return,
    ReturnStatus,
    Route,
    Stop,
    StopPackage,
    StopStatus,
)
from doorstep.ops import live
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Settings

SYSTEM = "system"
PERIODIC_NAME = "ops.detect"
EVERY = timedelta(minutes=1)
METRES_PER_MILE = 1609.344
#: A driver's last position older than this says nothing about where they are now.
POSITION_FRESH_FOR = timedelta(hours=2)


@dataclass(frozen=True)
class Thresholds:
    long_stop: timedelta = timedelta(minutes=15)
    unclaimed_lead: timedelta = timedelta(minutes=60)
    near_m: float = 10 * METRES_PER_MILE
    carrier_silent: timedelta = timedelta(hours=48)
    door_return_waiting: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            long_stop=timedelta(minutes=settings.ops_long_stop_minutes),
            unclaimed_lead=timedelta(minutes=settings.ops_unclaimed_block_lead_minutes),
            near_m=settings.ops_unclaimed_block_near_miles * METRES_PER_MILE,
            carrier_silent=timedelta(hours=settings.ops_carrier_silent_hours),
            door_return_waiting=timedelta(hours=settings.ops_door_return_waiting_hours),
        )


def detect(session: Session, now: datetime, thresholds: Thresholds) -> dict[str, int]:
    """Run every check once; how many exceptions each opened."""
    return {
        ExceptionKind.LATE_STOP.value: late_stops(session, now),
        ExceptionKind.UNCLAIMED_BLOCK.value: unclaimed_blocks(session, now, thresholds),
        ExceptionKind.LONG_STOP.value: long_stops(session, now, thresholds),
        ExceptionKind.CARRIER_SILENT.value: silent_carrier_parcels(session, now, thresholds),
        ExceptionKind.DOOR_RETURN_WAITING.value: waiting_door_returns(session, now, thresholds),
    }


def register(registry: Registry, settings: Settings) -> None:
    thresholds = Thresholds.from_settings(settings)
    registry.every(PERIODIC_NAME, EVERY, lambda session, now: detect(session, now, thresholds))


# --- the stops: late, and long --------------------------------------------------------------


def _flagged_stops(session: Session, kind: ExceptionKind, block_ids: Iterable[int]) -> set[int]:
    """Stops that already have an exception of ``kind`` (the stop is in its data)."""
    ids = set(block_ids)
    if not ids:
        return set()
    rows = session.scalars(
        select(OpsException.data).where(OpsException.kind == kind, OpsException.block_id.in_(ids))
    )
    return {int(data["stop_id"]) for data in rows if data and "stop_id" in data}


def _first_parcels(session: Session, stop_ids: list[int]) -> dict[int, int]:
    if not stop_ids:
        return {}
    rows = session.execute(
        select(StopPackage.stop_id, func.min(StopPackage.package_id))
        .where(StopPackage.stop_id.in_(stop_ids))
        .group_by(StopPackage.stop_id)
    )
    return {int(stop_id): int(package_id) for stop_id, package_id in rows}


def late_stops(session: Session, now: datetime) -> int:
    """A stop not done yet whose ETA (or now, once the ETA has gone by) is after its deadline
    (its window's end, else its parcels' earliest promise): the map's own rule
    (`live.is_late`), over the blocks a driver holds or runs."""
    blocks = session.execute(
        select(Block.id, Block.driver_id, Block.start_node_id).where(
            Block.status.in_((BlockStatus.ACCEPTED, BlockStatus.IN_PROGRESS))
        )
    ).all()
    of_block = {b.id: b for b in blocks}
    late = [
        stop
        for stop in live.stop_rows(session, list(of_block))
        if stop.status in (StopStatus.PENDING.value, StopStatus.ARRIVED.value) and stop.late(now)
    ]
    flagged = _flagged_stops(session, ExceptionKind.LATE_STOP, {s.block_id for s in late})
    fresh = [s for s in late if s.id not in flagged]
    parcels = _first_parcels(session, [s.id for s in fresh])
    for stop in fresh:
        block = of_block[stop.block_id]
        assert stop.deadline is not None
        session.add(
            OpsException(
                kind=ExceptionKind.LATE_STOP,
                block_id=block.id,
                driver_id=block.driver_id,
                node_id=block.start_node_id,
                package_id=parcels.get(stop.id),
                detail=f"stop {stop.sequence} of block {block.id} will miss its promise "
                f"({wall_clock(stop.deadline, session.get_one(Node, block.start_node_id))})",
                data={"stop_id": stop.id, "deadline": stop.deadline.isoformat()},
                opened_at=now,
                opened_by=SYSTEM,
            )
        )
    session.flush()
    return len(fresh)


def long_stops(session: Session, now: datetime, thresholds: Thresholds) -> int:
    """A driver arrived at a stop more than the threshold ago and has not finished it."""
    rows = session.execute(
        select(Stop.id, Stop.sequence, Stop.arrived_at, Block.id, Block.driver_id)
        .join(Route, Route.id == Stop.route_id)
        .join(Block, Block.id == Route.block_id)
        .where(
            Block.status == BlockStatus.IN_PROGRESS,
            Stop.status == StopStatus.ARRIVED,
            Stop.arrived_at < now - thresholds.long_stop,
        )
        .order_by(Block.id, Stop.sequence)
    ).all()
    flagged = _flagged_stops(session, ExceptionKind.LONG_STOP, {r[3] for r in rows})
    fresh = [r for r in rows if r[0] not in flagged]
    parcels = _first_parcels(session, [r[0] for r in fresh])
    for stop_id, sequence, arrived_at, block_id, driver_id in fresh:
        assert arrived_at is not None  # the query asks for it
        minutes = int((now - arrived_at).total_seconds() // 60)
        session.add(
            OpsException(
                kind=ExceptionKind.LONG_STOP,
                block_id=block_id,
                driver_id=driver_id,
                package_id=parcels.get(stop_id),
                detail=f"the driver of block {block_id} has been at stop {sequence} for "
                f"{minutes} minutes",
                data={"stop_id": stop_id, "arrived_at": arrived_at.isoformat()},
                opened_at=now,
                opened_by=SYSTEM,
            )
        )
    session.flush()
    return len(fresh)


# --- the blocks: nobody near -------------------------------------------------------------------


def _not_yet_flagged(kind: ExceptionKind) -> Any:
    return ~exists().where(OpsException.block_id == Block.id, OpsException.kind == kind)


def unclaimed_blocks(session: Session, now: datetime, thresholds: Thresholds) -> int:
    """A block starting within the lead time with no driver near its start: on offer and no
    active driver's last (recent) position within reach, or taken by a driver whose recent
    position is far from it and who has not checked in."""
    blocks = session.execute(
        select(Block, Node)
        .join(Node, Node.id == Block.start_node_id)
        .where(
            Block.status.in_((BlockStatus.OPEN, BlockStatus.ACCEPTED)),
            Block.checked_in_at.is_(None),
            Block.starts_at <= now + thresholds.unclaimed_lead,
            Block.starts_at > now - thresholds.unclaimed_lead,
            _not_yet_flagged(ExceptionKind.UNCLAIMED_BLOCK),
        )
        .order_by(Block.starts_at, Block.id)
    ).all()
    if not blocks:
        return 0
    drivers = session.execute(
        select(Driver.id, Driver.last_lat, Driver.last_lng).where(
            Driver.status == DriverStatus.ACTIVE,
            Driver.last_lat.is_not(None),
            Driver.last_lng.is_not(None),
            Driver.last_seen_at >= now - POSITION_FRESH_FOR,
        )
    ).all()
    where = {d.id: (d.last_lat, d.last_lng) for d in drivers}
    opened = 0
    for block, start in blocks:

        def near(driver_id: int, block: Block = block, start: Node = start) -> bool:
            at = where.get(driver_id)
            return at is not None and haversine_m(at[0], at[1], start.lat, start.lng) <= (
                thresholds.near_m
            )

        if block.status is BlockStatus.OPEN:
            if any(near(driver_id) for driver_id in where):
                continue
            pay = f"${block.pay_cents / 100:.2f}"
            if block.pay_raised_from_cents is not None:
                pay += f", raised from ${block.pay_raised_from_cents / 100:.2f}"
            detail = (
                f"block {block.id} from {start.code} is still on offer ({pay}) and no driver "
                "is near"
            )
        else:
            assert block.driver_id is not None
            # Only a recent position far from the start says a driver will not make it: an
            # hour before, most drivers have sent none today (the no-show flag is for them).
            if block.driver_id not in where or near(block.driver_id):
                continue
            detail = f"block {block.id}'s driver is not near {start.code} and has not checked in"
        session.add(
            OpsException(
                kind=ExceptionKind.UNCLAIMED_BLOCK,
                block_id=block.id,
                driver_id=block.driver_id,
                node_id=start.id,
                detail=f"{detail}; it starts at {wall_clock(block.starts_at, start)}",
                data={"starts_at": block.starts_at.isoformat(), "status": block.status.value},
                opened_at=now,
                opened_by=SYSTEM,
            )
        )
        opened += 1
    session.flush()
    return opened


# --- carrier parcels: no news ------------------------------------------------------------------


def silent_carrier_parcels(session: Session, now: datetime, thresholds: Thresholds) -> int:
    """A parcel with a carrier (handed over, not delivered) whose latest tracking news (or its
    hand-over, before any news) is older than the threshold. The counter carrier reports
    nothing by design and is left out."""
    since = func.coalesce(CarrierShipment.tracking_news_at, CarrierShipment.handed_over_at)
    rows = session.execute(
        select(CarrierShipment, Package.tracking_code)
        .join(Package, Package.id == CarrierShipment.package_id)
        .where(
            CarrierShipment.status == CarrierShipmentStatus.HANDED_OVER,
            CarrierShipment.carrier != COUNTER_CARRIER,
            Package.state == PackageState.HANDED_TO_CARRIER,
            since < now - thresholds.carrier_silent,
        )
        .order_by(CarrierShipment.id)
    ).all()
    if not rows:
        return 0
    earlier = session.scalars(
        select(OpsException).where(
            OpsException.kind == ExceptionKind.CARRIER_SILENT,
            OpsException.package_id.in_([s.package_id for s, _ in rows]),
        )
    ).all()
    opened = 0
    for shipment, code in rows:
        last = shipment.tracking_news_at or shipment.handed_over_at
        assert last is not None
        silence = {"package_id": shipment.package_id, "since": last.isoformat()}
        if any(
            e.package_id == shipment.package_id and (e.data or {}).get("since") == silence["since"]
            for e in earlier
        ):
            continue
        hours = int((now - last).total_seconds() // 3600)
        session.add(
            OpsException(
                kind=ExceptionKind.CARRIER_SILENT,
                package_id=shipment.package_id,
                detail=f"{shipment.carrier} has given no tracking news of {code} "
                f"({shipment.tracking_number or 'no number'}) for {hours} hours",
                data={"since": silence["since"], "carrier": shipment.carrier},
                opened_at=now,
                opened_by=SYSTEM,
            )
        )
        opened += 1
    session.flush()
    return opened


# --- the returns to collect at doors: left by the plans ----------------------------------------


def waiting_door_returns(session: Session, now: datetime, thresholds: Thresholds) -> int:
    """A return to collect at the shopper's door that no plan has put on a block for longer
    than the threshold after its first day began, or whose planned day ended longer than
    that ago without the collection (days at the station that delivered it): no station
    block could fit it, so the operator adds a block there or asks the shopper to use a
    counter. Once per return (its package is the subject)."""
    rows = session.execute(
        select(Return, Node)
        .join(Package, Package.id == Return.package_id)
        .outerjoin(Node, Node.id == Package.serving_node_id)
        .where(
            Return.status == ReturnStatus.REQUESTED,
            # A day's slack for the time zones; the exact test is below.
            Return.door_from <= (now - thresholds.door_return_waiting + timedelta(days=1)).date(),
            Return.collected_at.is_(None),
            Return.dropped_at.is_(None),
            ~exists().where(
                OpsException.package_id == Return.package_id,
                OpsException.kind == ExceptionKind.DOOR_RETURN_WAITING,
            ),
        )
        .order_by(Return.id)
    ).all()
    left = [
        (returned, node)
        for returned, node in rows
        if _door_wait_began(returned, node) + thresholds.door_return_waiting <= now
    ]
    for returned, node in left:
        assert returned.door_from is not None  # the query asks for it
        session.add(
            OpsException(
                kind=ExceptionKind.DOOR_RETURN_WAITING,
                package_id=returned.package_id,
                node_id=node.id if node is not None else None,
                detail=f"return {returned.public_id} waits for a driver at the door since "
                f"{returned.door_from:%a %d %b}: no plan has put it on a block",
                data={"return": returned.public_id, "door_from": returned.door_from.isoformat()},
                opened_at=now,
                opened_by=SYSTEM,
            )
        )
    session.flush()
    return len(left)


def _door_wait_began(returned: Return, node: Node | None) -> datetime:
    """Local midnight of the return's first day, or of the day after the one it was planned
    for (that block did not collect it)."""
    assert returned.door_from is not None
    day = returned.door_from
    if returned.door_planned_for is not None:
        day = returned.door_planned_for + timedelta(days=1)
    zone = ZoneInfo(node.timezone) if node is not None else UTC
    return datetime.combine(day, time(0), tzinfo=zone)
