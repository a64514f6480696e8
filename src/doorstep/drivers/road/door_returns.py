"""A shopper's return collected at the door: the planner put it on the block as a ``pickup``
stop with no store (`planning.persist`), the return pointing at it.

At the door the driver scans (or types) the return's code the shopper shows: the right code
puts the return in the car (``return.collected``; the stop is done when every return of it
is), a code that is not one of this door's returns is refused and changes nothing. Nobody
home (or nothing packed, or the shopper changed their mind): the stop fails, the try is
counted on the return and it is let go of the block: it waits for a block of the next day,
or after the last try the shopper is asked to use a counter (``return.collection_failed``).
The collected return rides back with the block, which goes ``returning`` until the station's
return scan receives it (`drivers.road.returns`), its stock on hand again there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from doorstep.drivers.road.load import (
    BlockLoad,
    actor,
    held_block,
    load_block,
    local_zone,
    note_position,
    position,
    require_in_progress,
    station_of,
)
from doorstep.drivers.road.returns import finish_if_done
from doorstep.drivers.road.stops import retime
from doorstep.drivers.road_schemas import DoorMissIn, DoorReturnOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import Driver, Return, Stop, StopKind, StopStatus
from doorstep.tracking import returns as shopper_returns


class NotADoorReturn(DomainError):
    status = 409
    code = "stop_not_a_door_return"


class WrongReturnCode(DomainError):
    """The code is not one of the returns to collect at this door."""

    status = 409
    code = "wrong_return_code"


def is_door_return(load: BlockLoad, stop: Stop) -> bool:
    """A pickup at an address (no store) that returns point at, or did before they failed."""
    return stop.kind is StopKind.PICKUP and stop.node_id is None and load.route is not None


def collect_at_door(
    session: Session,
    driver: Driver,
    load: BlockLoad,
    stop: Stop,
    *,
    code: str,
    lat: float | None,
    lng: float | None,
    accuracy_m: float | None,
    now: datetime,
    travel: TravelModel,
) -> DoorReturnOut:
    """The driver scanned the return's code at the door: it is in the car. The same code
    again on this block: the same answer (``replayed``). ``load`` is the driver's block,
    locked (`load.held_block`)."""
    block = load.block
    here = load.door_returns.get(stop.id, [])
    wanted = code.strip().upper()
    returned = next((r for r in here if r.public_id == wanted), None)
    if returned is not None and returned.collected_block_id == block.id:
        return _out(load, stop, returned.public_id, replayed=True)
    if returned is None:
        raise WrongReturnCode(
            "not the code of a return to collect here: ask the shopper for the code on "
            "their tracking page (it starts with R)",
            field="code",
            expected=len(here),
        )
    require_in_progress(block, "collect a return")
    where = position(lat, lng, accuracy_m)
    shopper_returns.collect_return(
        session, returned, block_id=block.id, node=None, actor=actor(driver), now=now
    )
    stop.arrived_at = stop.arrived_at or now
    if all(r.collected_block_id == block.id for r in here):
        stop.status, stop.completed_at = StopStatus.COMPLETED, now
    note_position(driver, where, now)
    session.flush()
    retime(load, where, now, travel)
    finish_if_done(session, driver, load, now=now, travel=travel)
    return _out(load, stop, returned.public_id, replayed=False)


def door_missed(
    session: Session,
    driver: Driver,
    block_id: int,
    stop_id: int,
    body: DoorMissIn,
    *,
    now: datetime,
    travel: TravelModel,
    doors: shopper_returns.DoorCollection,
) -> DoorReturnOut:
    """Nobody home: the stop fails and each return still there is let go of the block (tried
    again on a later day, or the shopper asked to use a counter after ``doors.tries``).
    Tapped again: the same answer."""
    block = held_block(session, driver, block_id)
    load = load_block(session, block)
    stop = _door_stop(load, stop_id)
    if stop.status is StopStatus.FAILED:
        return _out(load, stop, None, replayed=True)
    require_in_progress(block, "report a door")
    where = position(body.lat, body.lng, body.accuracy_m)
    tz = local_zone(station_of(session, block))
    again = None
    for returned in load.door_returns.get(stop.id, []):
        if returned.collected_block_id == block.id:
            continue
        shopper_returns.collection_failed(
            session,
            returned,
            block_id=block.id,
            reason=body.reason.value,
            now=now,
            tz=tz,
            doors=doors,
        )
        again = again or returned.door_from
    stop.arrived_at = stop.arrived_at or now
    stop.status, stop.completed_at = StopStatus.FAILED, now
    note_position(driver, where, now)
    session.flush()
    load = load_block(session, block)  # the returns let go are off the stop now
    retime(load, where, now, travel)
    finish_if_done(session, driver, load, now=now, travel=travel)
    out = _out(load, load.stop(stop.id), None, replayed=False)
    return out.model_copy(update={"again_from": again})


def _door_stop(load: BlockLoad, stop_id: int) -> Stop:
    stop = load.stop(stop_id)
    if not is_door_return(load, stop):
        raise NotADoorReturn(
            f"stop {stop.id} is not a return to collect at a door",
            field="stop_id",
            stop_id=stop.id,
        )
    return stop


def _out(load: BlockLoad, stop: Stop, code: str | None, *, replayed: bool) -> DoorReturnOut:
    here: list[Return] = load.door_returns.get(stop.id, [])
    return DoorReturnOut(
        code=code,
        block_id=load.block.id,
        block_status=load.block.status,
        stop_id=stop.id,
        stop_status=load.status_of(stop),
        left_here=[r.public_id for r in here if r.collected_block_id != load.block.id],
        replayed=replayed,
    )
