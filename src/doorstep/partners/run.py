"""The partner run on the road: the morning run's driver drops each store's batch and brings
back what the store sends to the station.

The run is a block like any other (`planning.persist`): the driver checks in at the station and
scans every batch into the car there (``assigned`` → ``picked_up``, the drivers' own scan). At
each store (a ``drop_off`` stop) the driver first scans what goes back — parcels the store
listed (not collected in time, refused as damaged, unexpected) and shoppers' returns left at
its counter — then taps "handed over": the batch is the store's (the manifest's drop, which
starts its scan-in clock; the clerk's scan-in then puts each parcel on the shelf) and the stop
is done. A clerk who scans before the driver taps has already dropped the batch; the tap then
only completes the stop.

A collected parcel moves to ``picked_up`` (from ``at_partner_store``, or ``assigned`` for an
unexpected one; a damaged one never left ``picked_up``) and rides on the block's collection
stop at that store, so the station's return scan takes it like any parcel brought back. A
shopper's return is marked collected (``return.collected``) and is received at the station.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from doorstep.drivers.road import door_returns
from doorstep.drivers.road.load import (
    BlockLoad,
    actor,
    held_block,
    inside_geofence,
    load_block,
    note_position,
    package_by_code,
    position,
    require_in_progress,
)
from doorstep.drivers.road.returns import finish_if_done
from doorstep.drivers.road.scans import ensure_loaded
from doorstep.drivers.road.stops import retime
from doorstep.drivers.road_schemas import DoorReturnOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import (
    BackToStation,
    BlockStatus,
    Driver,
    Node,
    Package,
    Stop,
    StopKind,
    StopPackage,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.partners import scanin
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import (
    CollectIn,
    CollectOut,
    CounterReturnOut,
    GoingBack,
    RunDropIn,
    RunDropOut,
)
from doorstep.tracking import returns as shopper_returns

#: A collection stop sits after every planned stop: what the run carries back.
COLLECT_SEQUENCE = 1000
#: States a parcel going back may be in when the run scans it at the store.
COLLECTABLE = frozenset(
    {PackageState.AT_PARTNER_STORE, PackageState.ASSIGNED, PackageState.PICKED_UP}
)


class NotADropOff(DomainError):
    status = 409
    code = "stop_not_a_drop_off"


class NotGoingBack(DomainError):
    status = 409
    code = "package_not_going_back"


class RunOver(DomainError):
    status = 409
    code = "block_not_in_progress"


def going_back(session: Session, node: Node) -> list[GoingBack]:
    """What waits at ``node`` for the run back: listed parcels, then returns, oldest first."""
    rows = session.execute(
        select(BackToStation, Package.tracking_code)
        .join(Package, Package.id == BackToStation.package_id)
        .where(
            BackToStation.partner_store_id == node.id,
            BackToStation.collected_at.is_(None),
            # Handed over at the counter after all (or otherwise gone): nothing to take.
            Package.state.in_(COLLECTABLE),
        )
        .order_by(BackToStation.added_at, BackToStation.id)
    )
    out = [GoingBack(code=code, reason=row.reason, since=row.added_at) for row, code in rows]
    out += [
        GoingBack(code=r.public_id, reason="return", since=r.dropped_at or r.requested_at)
        for r in shopper_returns.waiting_at(session, node.id)
    ]
    return out


def going_back_at(session: Session, driver: Driver, block_id: int, stop_id: int) -> list[GoingBack]:
    """What waits for the driver's run at the store of this drop-off stop (the driver's page)."""
    block = held_block(session, driver, block_id, lock=False)
    stop = _drop_off(load_block(session, block), stop_id)
    return going_back(session, session.get_one(Node, stop.node_id))


def take_return(session: Session, staff: Staff, code: str, *, now: datetime) -> CounterReturnOut:
    """A shopper leaves a return at the counter (its code, from the tracking page): it waits
    for the next run back, which brings it to the station where it is received."""
    returned, replayed = shopper_returns.drop_at_counter(
        session, code, node=staff.node, actor=staff.actor, now=now
    )
    assert returned.dropped_at is not None
    return CounterReturnOut(
        code=returned.public_id,
        store=staff.node.code,
        dropped_at=returned.dropped_at,
        replayed=replayed,
    )


def drop(
    session: Session,
    driver: Driver,
    block_id: int,
    stop_id: int,
    body: RunDropIn,
    *,
    now: datetime,
    radius_m: int,
    scan_minutes: int,
    travel: TravelModel,
) -> RunDropOut:
    """The driver handed the store its batch: the manifest is dropped (the store's scan-in
    clock starts) and the stop is done. Tapped again: the same answer."""
    block = held_block(session, driver, block_id)
    load = load_block(session, block)
    stop = _drop_off(load, stop_id)
    node = session.get_one(Node, stop.node_id)
    if stop.status is StopStatus.COMPLETED:
        return _drop_out(session, load, stop, node, replayed=True)
    require_in_progress(block, "hand a batch over")
    where = position(body.lat, body.lng, body.accuracy_m)
    inside_geofence(where, node, radius_m, doing="hand the batch over")
    ensure_loaded(load)  # every batch left the station scanned or reported missing
    scanin.drop(session, node, now=now, by=actor(driver), scan_minutes=scan_minutes)
    stop.arrived_at = stop.arrived_at or now
    stop.status, stop.completed_at = StopStatus.COMPLETED, now
    note_position(driver, where, now)
    session.flush()
    retime(load, where, now, travel)
    finish_if_done(session, driver, load, now=now, travel=travel)
    return _drop_out(session, load, stop, node, replayed=False)


def collect(
    session: Session,
    driver: Driver,
    block_id: int,
    stop_id: int,
    body: CollectIn,
    *,
    now: datetime,
    radius_m: int,
    travel: TravelModel,
) -> CollectOut | DoorReturnOut:
    """The driver scans a parcel or a shopper's return the store sends back to the station,
    or at a door pickup stop the return the shopper hands over (`door_returns`)."""
    block = held_block(session, driver, block_id)
    load = load_block(session, block)
    if door_returns.is_door_return(load, load.stop(stop_id)):
        return door_returns.collect_at_door(
            session,
            driver,
            load,
            load.stop(stop_id),
            code=body.code,
            lat=body.lat,
            lng=body.lng,
            accuracy_m=body.accuracy_m,
            now=now,
            travel=travel,
        )
    stop = _drop_off(load, stop_id)
    node = session.get_one(Node, stop.node_id)
    if block.status not in (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING):
        raise RunOver(
            f"block {block.id} is {block.status.value}: nothing more can be collected",
            block_id=block.id,
            status=block.status.value,
        )
    returned = shopper_returns.find_return(session, body.code, lock=True)
    if returned is not None:
        if returned.dropped_node_id != node.id or (
            returned.collected_block_id not in (None, block.id)
        ):
            raise NotGoingBack(
                f"return {returned.public_id} is not waiting at {node.name}", field="code"
            )
        where = position(body.lat, body.lng, body.accuracy_m)
        inside_geofence(where, node, radius_m, doing="collect parcels")
        fresh = shopper_returns.collect_return(
            session, returned, block_id=block.id, node=node, actor=actor(driver), now=now
        )
        note_position(driver, where, now)
        return _collect_out(session, block.id, node, returned.public_id, None, not fresh)
    package = package_by_code(session, body.code)
    back = session.scalar(
        select(BackToStation)
        .where(BackToStation.package_id == package.id, BackToStation.partner_store_id == node.id)
        .with_for_update()
    )
    if back is not None and back.block_id == block.id:
        return _collect_out(session, block.id, node, package.tracking_code, package.state, True)
    if back is None or back.collected_at is not None or package.state not in COLLECTABLE:
        raise NotGoingBack(
            f"parcel {package.tracking_code} is not listed to go back from {node.name}",
            field="code",
            code=package.tracking_code,
            state=package.state.value,
        )
    where = position(body.lat, body.lng, body.accuracy_m)
    inside_geofence(where, node, radius_m, doing="collect parcels")
    if package.state is not PackageState.PICKED_UP:
        transition_package(
            session,
            package,
            PackageState.PICKED_UP,
            actor=actor(driver),
            reason="collected_for_station",
            data={
                "block_id": block.id,
                "store": node.code,
                "why": back.reason,
                "client_event_id": body.client_event_id,
            },
            at=now,
        )
    _ride_back(session, load, package, node, stop, now)
    back.collected_at, back.collected_by, back.block_id = now, actor(driver), block.id
    note_position(driver, where, now)
    session.flush()
    return _collect_out(session, block.id, node, package.tracking_code, package.state, False)


def _ride_back(
    session: Session, load: BlockLoad, package: Package, node: Node, drop: Stop, now: datetime
) -> None:
    """Put the parcel on the block's collection stop at this store (made at the first one),
    off the drop it may have come on (refused at scan-in the same morning)."""
    if package.id in {p.id for p in load.live.get(drop.id, [])}:
        session.execute(
            delete(StopPackage).where(
                StopPackage.stop_id == drop.id, StopPackage.package_id == package.id
            )
        )
    else:
        load.block.package_count += 1
    assert load.route is not None
    stop = session.scalar(
        select(Stop).where(
            Stop.route_id == load.route.id,
            Stop.kind == StopKind.PICKUP,
            Stop.node_id == node.id,
            Stop.sequence > COLLECT_SEQUENCE,
        )
    )
    if stop is None:
        last = session.scalar(select(func.max(Stop.sequence)).where(Stop.route_id == load.route.id))
        stop = Stop(
            route_id=load.route.id,
            sequence=max(last or 0, COLLECT_SEQUENCE + drop.sequence - 1) + 1,
            kind=StopKind.PICKUP,
            status=StopStatus.COMPLETED,
            node_id=node.id,
            address=node.address,
            lat=node.lat,
            lng=node.lng,
            arrived_at=now,
            completed_at=now,
        )
        session.add(stop)
        session.flush()
    session.add(StopPackage(stop_id=stop.id, package_id=package.id))


def _drop_off(load: BlockLoad, stop_id: int) -> Stop:
    stop = load.stop(stop_id)
    if stop.kind is not StopKind.DROP_OFF or stop.node_id is None:
        raise NotADropOff(
            f"stop {stop.id} is a {stop.kind.value}, not a store's drop-off",
            field="stop_id",
            stop_id=stop.id,
        )
    return stop


def _drop_out(
    session: Session, load: BlockLoad, stop: Stop, node: Node, *, replayed: bool
) -> RunDropOut:
    return RunDropOut(
        block_id=load.block.id,
        block_status=load.block.status,
        stop_id=stop.id,
        store=node.code,
        dropped=sorted(p.tracking_code for p in load.live.get(stop.id, [])),
        completed_at=stop.completed_at,
        going_back=going_back(session, node),
        next_stop_id=next((s.id for s in load.remaining()), None),
        replayed=replayed,
    )


def _collect_out(
    session: Session,
    block_id: int,
    node: Node,
    code: str,
    state: PackageState | None,
    replayed: bool,
) -> CollectOut:
    return CollectOut(
        code=code,
        state=state,
        block_id=block_id,
        store=node.code,
        left_here=going_back(session, node),
        replayed=replayed,
    )
