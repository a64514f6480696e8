"""The end of a block: back to the station with what could not be delivered.

When every stop is done, a block whose parcels were all delivered (or reported missing) is
``completed``; one with parcels still in the car goes ``returning``, due back at its station
now (the drive there) or, if the driver says so, by 10:00 the next morning (station time),
with a reminder by SMS (or e-mail) at 08:00. Each parcel is scanned back inside the station's
geofence (or by the station's own staff): ``returned``, then ``ready_for_pickup`` for another
try in a later block (it leaves this block, so the next plan takes it) or
``returned_to_merchant`` once its attempts are used up (``DOORSTEP_MAX_DELIVERY_ATTEMPTS``).
The block is ``completed`` when each of its parcels is delivered, back at the station or
reported missing. A periodic job opens a ``late_return`` exception for a block still out an
hour past its due time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import transition_block
from doorstep.drivers.road.load import (
    BlockLoad,
    actor,
    block_of_package,
    held_block,
    inside_geofence,
    last_position,
    latest_event,
    load_block,
    local_zone,
    not_yet_flagged,
    note_position,
    package_by_code,
    position,
    seconds_of_day,
    station_of,
    wall_clock,
)
from doorstep.drivers.road_schemas import (
    ReturnPlanIn,
    ReturnPlanOut,
    ReturnScanIn,
    ReturnScanOut,
    ReturnWhen,
    StationReturnIn,
)
from doorstep.errors import DomainError, NotFound
from doorstep.geo import TravelModel
from doorstep.jobs import ClaimedJob, enqueue
from doorstep.models import (
    BackToStation,
    Block,
    BlockStatus,
    Driver,
    ExceptionKind,
    MessageChannel,
    Node,
    NodeKind,
    OpsException,
    Package,
    Return,
    ReturnStatus,
    StopPackage,
)
from doorstep.notifications import service as notifications
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.tracking import returns as shopper_returns

RETURN_BY = time(10, 0)  # the next morning, station time
REMINDER_AT = time(8, 0)
# A block still out this long after its due time is the operator's concern.
LATE_AFTER = timedelta(hours=1)
REMINDER_JOB = "drivers.return_reminder"
# Parcels a driver can bring back: never handed over (picked up) or tried and failed.
RETURNABLE = frozenset({PackageState.PICKED_UP, PackageState.DELIVERY_ATTEMPTED})
BACK = frozenset({PackageState.READY_FOR_PICKUP, PackageState.RETURNED_TO_MERCHANT})
# Parcels a partner run brings back that go on to their merchant (an unexpected one is planned
# again like any parcel back at the station), with the reason of that last step.
TO_MERCHANT = {"uncollected": "uncollected_at_store", "damaged": "damaged_at_scan_in"}


class BlockNotReturning(DomainError):
    status = 409
    code = "block_not_returning"


class PackageNotReturnable(DomainError):
    status = 409
    code = "package_not_returnable"


class StationNotFound(NotFound):
    code = "station_not_found"


def finish_if_done(
    session: Session, driver: Driver, load: BlockLoad, *, now: datetime, travel: TravelModel
) -> None:
    """After the last stop: complete the block, or send it back to the station with what is
    still in the car."""
    block = load.block
    if block.status is not BlockStatus.IN_PROGRESS or load.remaining():
        return
    to_return = in_the_car(session, load)
    if not to_return:
        _complete(session, block, actor(driver), now)
        return
    station = station_of(session, block)
    block.return_due_at = _drive_back(load, driver, station, now, travel)
    transition_block(
        session,
        block,
        BlockStatus.RETURNING,
        actor=actor(driver),
        at=now,
        reason="parcels_to_return",
        data={"station": station.code, "to_return": to_return},
    )


def _complete(session: Session, block: Block, who: str, now: datetime) -> None:
    block.completed_at = now
    transition_block(
        session,
        block,
        BlockStatus.COMPLETED,
        actor=who,
        at=now,
        reason="every_parcel_accounted_for",
    )


def _drive_back(
    load: BlockLoad, driver: Driver, station: Node, now: datetime, travel: TravelModel
) -> datetime:
    where = last_position(driver)
    origin = (where.lat, where.lng) if where else (load.start.lat, load.start.lng)
    depart_s = seconds_of_day(now, station)
    return now + timedelta(seconds=travel.seconds(origin, (station.lat, station.lng), depart_s))


def plan_return(
    session: Session,
    driver: Driver,
    block_id: int,
    body: ReturnPlanIn,
    *,
    now: datetime,
    travel: TravelModel,
) -> ReturnPlanOut:
    """When the driver brings the parcels back: now, or by 10:00 the next morning."""
    block = held_block(session, driver, block_id)
    _require_returning(block)
    load = load_block(session, block)
    station = station_of(session, block)
    reminder = None
    if body.when is ReturnWhen.NOW:
        block.return_due_at = _drive_back(load, driver, station, now, travel)
    else:
        zone = local_zone(station)
        local = now.astimezone(zone)
        # After midnight, "the next morning" is this one.
        day = local.date() if local.time() < time(6) else local.date() + timedelta(days=1)
        block.return_due_at = _at(day, RETURN_BY, station)
        reminder = _at(day, REMINDER_AT, station)
        enqueue(
            session,
            REMINDER_JOB,
            {"block_id": block.id},
            run_at=max(reminder, now),
            dedupe_key=f"block:{block.id}:{day.isoformat()}",
        )
    session.flush()
    return ReturnPlanOut(
        block_id=block.id,
        status=block.status,
        return_due_at=block.return_due_at,
        reminder_at=reminder,
        to_return=in_the_car(session, load),
    )


def _at(day: date, clock: time, station: Node) -> datetime:
    return datetime.combine(day, clock, tzinfo=local_zone(station)).astimezone(UTC)


def _require_returning(block: Block) -> None:
    if block.status is not BlockStatus.RETURNING:
        raise BlockNotReturning(
            f"block {block.id} is {block.status.value}: parcels go back once every stop is done",
            block_id=block.id,
            status=block.status.value,
        )


def scan_return(
    session: Session,
    driver: Driver,
    block_id: int,
    body: ReturnScanIn,
    *,
    now: datetime,
    radius_m: int,
    max_attempts: int,
) -> ReturnScanOut:
    """The driver scans a parcel back at the station, or a shopper's return the block
    collected at a store or a door (received there: its stock is on hand again)."""
    block = held_block(session, driver, block_id)
    returned = shopper_returns.find_return(session, body.code)
    if returned is not None and returned.collected_block_id == block.id:
        return _receive(session, driver, block, returned, body, now=now, radius_m=radius_m)
    package = package_by_code(session, body.code)
    if _returned_from(session, package) == block.id:
        return _answer(session, block, package, replayed=True)
    _require_returning(block)
    where = position(body.lat, body.lng, body.accuracy_m)
    station = station_of(session, block)
    inside_geofence(where, station, radius_m, doing="return parcels")
    load = load_block(session, block)
    _require_returnable(load, package)
    back_at_station(
        session,
        load,
        package,
        who=actor(driver),
        station=station,
        now=now,
        max_attempts=max_attempts,
        client_event_id=body.client_event_id,
    )
    note_position(driver, where, now)
    complete_if_all_back(session, load, actor(driver), now)
    return _answer(session, block, package, replayed=False, load=load)


def _receive(
    session: Session,
    driver: Driver,
    block: Block,
    returned: Return,
    body: ReturnScanIn,
    *,
    now: datetime,
    radius_m: int,
) -> ReturnScanOut:
    """A shopper's return back at the station: received once (the tracking domain's service
    puts its stock on hand and tells the merchant); scanned again, the same answer."""
    load = load_block(session, block)
    station = station_of(session, block)
    replayed = returned.status is ReturnStatus.RECEIVED
    if not replayed:
        _require_returning(block)
        where = position(body.lat, body.lng, body.accuracy_m)
        inside_geofence(where, station, radius_m, doing="return parcels")
        shopper_returns.receive_return(
            session, returned.public_id, node_code=station.code, actor=actor(driver), now=now
        )
        note_position(driver, where, now)
        complete_if_all_back(session, load, actor(driver), now)
    return ReturnScanOut(
        code=returned.public_id,
        state=None,
        return_status=returned.status,
        block_id=block.id,
        block_status=block.status,
        left_to_return=in_the_car(session, load),
        replayed=replayed,
    )


def station_return(
    session: Session,
    station_code: str,
    body: StationReturnIn,
    *,
    now: datetime,
    max_attempts: int,
) -> ReturnScanOut:
    """The station's staff scan a parcel a driver brought back (or left at the door)."""
    station = session.scalar(
        select(Node).where(Node.code == station_code, Node.kind == NodeKind.STATION)
    )
    if station is None:
        raise StationNotFound(f"no station with code {station_code!r}", station=station_code)
    package = package_by_code(session, body.code)
    earlier = _returned_from(session, package)
    if earlier is not None:
        return _answer(session, session.get_one(Block, earlier), package, replayed=True)
    block = block_of_package(session, package)
    if block is not None:
        # The block's lock, as the driver's own requests take it; then the parcel as it is.
        session.refresh(block, with_for_update=True)
        session.refresh(package)
    if block is None or block.status not in (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING):
        raise PackageNotReturnable(
            f"parcel {package.tracking_code} is not out with a driver ({package.state.value})",
            field="code",
            state=package.state.value,
        )
    home = station_of(session, block)
    if home.id != station.id:
        raise PackageNotReturnable(
            f"parcel {package.tracking_code} goes back to {home.code}, not {station.code}",
            field="code",
            station=home.code,
        )
    load = load_block(session, block)
    _require_returnable(load, package)
    back_at_station(
        session, load, package, who="operator", station=station, now=now, max_attempts=max_attempts
    )
    complete_if_all_back(session, load, "operator", now)
    return _answer(session, block, package, replayed=False, load=load)


def _require_returnable(load: BlockLoad, package: Package) -> None:
    if package.id not in load.packages or package.state not in RETURNABLE:
        raise PackageNotReturnable(
            f"parcel {package.tracking_code} is {package.state.value}: nothing to bring back",
            field="code",
            state=package.state.value,
        )


def back_at_station(
    session: Session,
    load: BlockLoad,
    package: Package,
    *,
    who: str,
    station: Node,
    now: datetime,
    max_attempts: int,
    client_event_id: str | None = None,
) -> None:
    """``returned``, then another try or back to the merchant. A parcel that will be tried
    again leaves the block: the next plan of its station takes it, on the next day."""
    data: dict[str, object] = {"block_id": load.block.id, "station": station.code}
    if client_event_id:
        data["client_event_id"] = client_event_id
    transition_package(
        session,
        package,
        PackageState.RETURNED,
        actor=who,
        reason="back_at_station",
        data=data,
        at=now,
    )
    attempts = {"attempts": package.delivery_attempts, "block_id": load.block.id}
    back = session.scalar(
        select(BackToStation).where(
            BackToStation.package_id == package.id, BackToStation.block_id == load.block.id
        )
    )
    if back is not None and back.reason in TO_MERCHANT:
        # Not collected at the counter in time, or refused there as damaged: the merchant's.
        transition_package(
            session,
            package,
            PackageState.RETURNED_TO_MERCHANT,
            actor=who,
            reason=TO_MERCHANT[back.reason],
            data={"block_id": load.block.id, "store_id": back.partner_store_id},
            at=now,
        )
        return
    if package.delivery_attempts >= max_attempts:
        transition_package(
            session,
            package,
            PackageState.RETURNED_TO_MERCHANT,
            actor=who,
            reason="attempts_used_up",
            data=attempts,
            at=now,
        )
        return
    transition_package(
        session,
        package,
        PackageState.READY_FOR_PICKUP,
        actor=who,
        reason="another_try",
        data=attempts,
        at=now,
    )
    day = now.astimezone(local_zone(station)).date()
    block_day = load.block.starts_at.astimezone(local_zone(station)).date()
    # A later day stands: the shopper chose a store's counter for it (tracking.counter_choice).
    package.service_date = max(day, block_day + timedelta(days=1), package.service_date or day)
    session.execute(delete(StopPackage).where(StopPackage.package_id == package.id))
    for stop_id, parcels in load.live.items():
        load.live[stop_id] = [p for p in parcels if p.id != package.id]


def complete_if_all_back(session: Session, load: BlockLoad, who: str, now: datetime) -> None:
    """A block heading back completes once nothing is left in the car: every parcel scanned
    back at the station, or delivered on another try at its door (`road.again`)."""
    if load.block.status is BlockStatus.RETURNING and not in_the_car(session, load):
        _complete(session, load.block, who, now)


def in_the_car(session: Session, load: BlockLoad) -> list[str]:
    """What the block still has to bring back to the station: parcels (their tracking codes)
    and the shoppers' returns it collected at a store or a door (their return codes)."""
    parcels = sorted(p.tracking_code for p in load.with_the_driver())
    return parcels + [r.public_id for r in shopper_returns.in_car(session, load.block.id)]


def _returned_from(session: Session, package: Package) -> int | None:
    """The block this parcel was last brought back from, if that is where it still stands."""
    if package.state not in BACK:
        return None
    event = latest_event(session, package, PackageState.RETURNED)
    block_id = event.data.get("block_id") if event is not None else None
    return int(block_id) if block_id is not None else None


def _answer(
    session: Session,
    block: Block,
    package: Package,
    *,
    replayed: bool,
    load: BlockLoad | None = None,
) -> ReturnScanOut:
    load = load or load_block(session, block)
    return ReturnScanOut(
        code=package.tracking_code,
        state=package.state,
        block_id=block.id,
        block_status=block.status,
        left_to_return=in_the_car(session, load),
        replayed=replayed,
    )


def flag_late_returns(session: Session, now: datetime) -> int:
    """Open a ``late_return`` exception for every block still out past its due time (once
    per block); return how many."""
    late = list(
        session.scalars(
            select(Block).where(
                Block.status == BlockStatus.RETURNING,
                Block.return_due_at < now - LATE_AFTER,
                not_yet_flagged(ExceptionKind.LATE_RETURN),
            )
        )
    )
    for block in late:
        station = station_of(session, block)
        assert block.return_due_at is not None
        session.add(
            OpsException(
                kind=ExceptionKind.LATE_RETURN,
                block_id=block.id,
                driver_id=block.driver_id,
                node_id=station.id,
                detail=f"block {block.id}'s parcels were due back at {station.code} by "
                f"{wall_clock(block.return_due_at, station)}",
                data={"return_due_at": block.return_due_at.isoformat()},
                opened_at=now,
                opened_by="system",
            )
        )
    session.flush()
    return len(late)


def send_return_reminder(session: Session, job: ClaimedJob) -> None:
    """The morning reminder of a block whose parcels come back today: an SMS to the driver's
    phone (an e-mail without one), once; nothing if they are back already."""
    block = session.get(Block, job.payload["block_id"])
    if block is None or block.status is not BlockStatus.RETURNING or block.driver_id is None:
        return
    assert block.return_due_at is not None
    driver = session.get_one(Driver, block.driver_id)
    station = station_of(session, block)
    count = len(load_block(session, block).with_the_driver())
    due = block.return_due_at.astimezone(local_zone(station))
    parcels = f"{count} undelivered parcel{'' if count == 1 else 's'}"
    notifications.send(
        session,
        channel=MessageChannel.SMS if driver.phone else MessageChannel.EMAIL,
        to=driver.phone or driver.email,
        template="driver_reminder",
        context={
            "message": f"Please bring the {parcels} of your block back to {station.name} by "
            f"{due:%H:%M} today.",
            "subject": f"{parcels.capitalize()} to bring back by {due:%H:%M}",
            "recipient_name": driver.name.split()[0],
        },
        now=job.now,
        dedupe_key=f"block:{block.id}:return:{due.date().isoformat()}",
    )
