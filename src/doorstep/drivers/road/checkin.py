"""Check-in: the driver who holds the block, at its start node, starts it.

The phone must be inside the start node's geofence (``DOORSTEP_CHECKIN_RADIUS_M``). The
check-in is timed against the block's arrival slot (its start when it has none): on time or
late by so many seconds, kept on the block's ``in_progress`` event for the driver's standing.
Checking in again (the phone re-sent it) answers as the first time did.

A block nobody checked in half an hour after its slot closed gets a ``no_check_in`` exception
for the operator (`flag_no_shows`, a periodic job): the driver's no-show, which standing
counts, unless the driver turns up after all and checks in late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import transition_block
from doorstep.drivers.road import stops
from doorstep.drivers.road.load import (
    BlockLoad,
    actor,
    check_in_event,
    driver_clock,
    held_block,
    inside_geofence,
    load_block,
    not_yet_flagged,
    note_position,
    position,
    resolve_open,
    wall_clock,
)
from doorstep.drivers.road_schemas import CheckInIn, CheckInOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import (
    Block,
    BlockStatus,
    Driver,
    ExceptionKind,
    Node,
    OpsException,
)

# How long before its slot opens (or its start) a block may be checked in.
EARLIEST = timedelta(hours=1)
# How long after its slot closes (or its start) a block nobody checked in is a no-show.
NO_SHOW_AFTER = timedelta(minutes=30)
CHECKED_IN_LATE = "checked in late"


class BlockNotAccepted(DomainError):
    status = 409
    code = "block_not_accepted"


class TooEarlyToCheckIn(DomainError):
    status = 409
    code = "too_early_to_check_in"


def check_in(
    session: Session,
    driver: Driver,
    block_id: int,
    body: CheckInIn,
    *,
    now: datetime,
    radius_m: int,
    travel: TravelModel,
) -> CheckInOut:
    block = held_block(session, driver, block_id)
    if block.checked_in_at is not None:
        return _answer(session, block, load_block(session, block), replayed=True)
    if block.status is not BlockStatus.ACCEPTED:
        raise BlockNotAccepted(
            f"block {block.id} is {block.status.value}; only an accepted block is checked in",
            block_id=block.id,
            status=block.status.value,
        )
    opens = block.arrival_opens_at or block.starts_at
    if now < opens - EARLIEST:
        start = session.get_one(Node, block.start_node_id)
        raise TooEarlyToCheckIn(
            f"check-in opens at {driver_clock(opens - EARLIEST, start, now)}",
            opens_at=(opens - EARLIEST).isoformat(),
        )
    where = position(body.lat, body.lng, body.accuracy_m)
    load = load_block(session, block)
    distance = inside_geofence(where, load.start, radius_m, doing="check in")
    closes = block.arrival_closes_at or block.starts_at
    late_by = max(0, int((now - closes).total_seconds()))
    block.checked_in_at = now
    transition_block(
        session,
        block,
        BlockStatus.IN_PROGRESS,
        actor=actor(driver),
        at=now,
        reason="checked_in",
        data={
            "on_time": late_by == 0,
            "late_by_s": late_by,
            "distance_m": distance,
            "phone_at": body.at.isoformat(),
            "slot": [opens.isoformat(), closes.isoformat()],
        },
    )
    note_position(driver, where, now)
    stops.retime(load, where, now, travel)
    _late_after_all(session, block, driver, now)
    return _answer(session, block, load, replayed=False)


def flag_no_shows(session: Session, now: datetime) -> int:
    """Open a ``no_check_in`` exception for every accepted block whose driver has not checked
    in by `NO_SHOW_AFTER` past the end of the arrival slot (once per block and driver); return
    how many.
    The block stays the driver's: a driver who turns up after all checks in late."""
    missing = list(
        session.scalars(
            select(Block).where(
                Block.status == BlockStatus.ACCEPTED,
                Block.checked_in_at.is_(None),
                func.coalesce(Block.arrival_closes_at, Block.starts_at) < now - NO_SHOW_AFTER,
                # Once per driver who held it: a no-show's block taken again by another
                # driver who does not come either is flagged again.
                not_yet_flagged(ExceptionKind.NO_CHECK_IN, per_driver=True),
            )
        )
    )
    for block in missing:
        closes = block.arrival_closes_at or block.starts_at
        session.add(
            OpsException(
                kind=ExceptionKind.NO_CHECK_IN,
                block_id=block.id,
                driver_id=block.driver_id,
                node_id=block.start_node_id,
                detail=f"block {block.id}'s driver has not checked in; the slot closed at "
                f"{wall_clock(closes, session.get_one(Node, block.start_node_id))}",
                data={"slot_closed_at": closes.isoformat()},
                opened_at=now,
                opened_by="system",
            )
        )
    session.flush()
    return len(missing)


def _late_after_all(session: Session, block: Block, driver: Driver, now: datetime) -> None:
    """A driver who turns up after the no-show exception: late, not absent."""
    resolve_open(
        session,
        ExceptionKind.NO_CHECK_IN,
        OpsException.block_id == block.id,
        driver=driver,
        resolution=CHECKED_IN_LATE,
        now=now,
    )


def _answer(session: Session, block: Block, load: BlockLoad, *, replayed: bool) -> CheckInOut:
    event = check_in_event(session, block)
    data = event.data if event is not None else {}
    assert block.checked_in_at is not None
    return CheckInOut(
        block_id=block.id,
        status=block.status,
        checked_in_at=block.checked_in_at,
        on_time=bool(data.get("on_time", True)),
        late_by_s=int(data.get("late_by_s", 0)),
        distance_m=int(data.get("distance_m", 0)),
        to_scan=len(load.unscanned_at_start()),
        replayed=replayed,
    )
