"""Trying a door again in the same block: nobody was home at ten, the driver passes again at
noon (or on the way back to the station) and the shopper opens.

Only the parcels attempted at this very stop and still in the car are tried again, while the
block is on the road or heading back: they go out for delivery once more and are delivered as
at any door (the same proofs), the stop completes, the failed-delivery exception is resolved,
and a block heading back with nothing left in the car completes. A second try that fails
records nothing (the first attempt stands, and the parcels still go back). A parcel whose
shopper has since chosen a partner store's counter is not tried again: it goes back for the
store's batch, as the shopper was promised.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.road.door import Door, PackageNotOnStop, StopAlreadyDone
from doorstep.drivers.road.load import BlockLoad, actor, resolve_open
from doorstep.drivers.road.returns import complete_if_all_back
from doorstep.errors import DomainError
from doorstep.models import (
    CounterChoice,
    Driver,
    ExceptionKind,
    Node,
    OpsException,
    Package,
    Stop,
    StopStatus,
)
from doorstep.orders.lifecycle import TRIED_AGAIN, PackageState
from doorstep.orders.transitions import transition_package

#: The resolution of the failed-delivery exception a later try in the block delivered.
DELIVERED_ON_ANOTHER_TRY = "delivered on another try"


class ShopperChoseCounter(DomainError):
    status = 409
    code = "shopper_chose_counter"


def is_another_try(stop: Stop) -> bool:
    """A delivery at a door that already failed in this block."""
    return stop.status is StopStatus.FAILED


def attempted_here(
    session: Session, load: BlockLoad, stop: Stop, codes: list[str] | None
) -> list[Package]:
    """The parcels of this failed door still in the car to try again: those named (scanned at
    the door), else every one attempted here."""
    attempted = {
        p.tracking_code: p
        for p in load.live.get(stop.id, [])
        if p.state is PackageState.DELIVERY_ATTEMPTED
    }
    if codes is None:
        parcels = list(attempted.values())
    else:
        parcels = []
        for code in dict.fromkeys(c.strip() for c in codes):
            if code not in attempted:
                raise PackageNotOnStop(
                    f"parcel {code} is not one tried at this door and still in the car",
                    field="codes",
                    code=code,
                )
            parcels.append(attempted[code])
    if not parcels:
        raise StopAlreadyDone(
            f"stop {stop.id} is done: nothing tried here is still in the car", stop_id=stop.id
        )
    _not_chosen_for_a_counter(session, parcels)
    return parcels


def _not_chosen_for_a_counter(session: Session, parcels: list[Package]) -> None:
    chosen = session.execute(
        select(CounterChoice.package_id, Node.name)
        .join(Node, Node.id == CounterChoice.partner_store_id)
        .where(CounterChoice.package_id.in_([p.id for p in parcels]))
    ).first()
    if chosen is not None:
        code = next(p.tracking_code for p in parcels if p.id == chosen.package_id)
        raise ShopperChoseCounter(
            f"the shopper chose to collect {code} at {chosen.name}'s counter: take it back "
            "to the station",
            field="codes",
            code=code,
        )


def send_out_again(
    session: Session, driver: Driver, door: Door, parcels: list[Package], now: datetime
) -> None:
    """Each parcel tried again goes out for delivery once more, in the state machine."""
    for package in parcels:
        transition_package(
            session,
            package,
            PackageState.OUT_FOR_DELIVERY,
            actor=actor(driver),
            reason=TRIED_AGAIN,
            data={"block_id": door.block.id, "stop_id": door.stop.id},
            at=now,
        )


def after_another_try(
    session: Session, driver: Driver, load: BlockLoad, parcels: list[Package], now: datetime
) -> None:
    """The failed-delivery exceptions of the parcels delivered are resolved; a block heading
    back with nothing left in the car completes."""
    resolve_open(
        session,
        ExceptionKind.FAILED_DELIVERY,
        OpsException.package_id.in_([p.id for p in parcels]),
        driver=driver,
        resolution=DELIVERED_ON_ANOTHER_TRY,
        now=now,
    )
    complete_if_all_back(session, load, actor(driver), now)
