"""Unable to deliver: the driver records why, with the phone's position (and a photo, if the
app took one). Each parcel of the stop still to hand over moves to ``delivery_attempted``
(its ``delivery_attempts`` counted), gets a proof with the reason, and the operator an
exception; it rides back to the station at the end of the block, for another try in a later
block or, after ``DOORSTEP_MAX_DELIVERY_ATTEMPTS``, back to its merchant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.road.door import (
    at_the_door,
    event_data,
    leave_the_door,
    proof_outs,
    replay,
    to_hand_over,
)
from doorstep.drivers.road.load import actor, held_block
from doorstep.drivers.road.scans import depart_loaded
from doorstep.drivers.road_schemas import AttemptedParcel, AttemptIn, AttemptOut, AttemptReason
from doorstep.geo import TravelModel
from doorstep.models import Block, DeliveryProof, Driver, ExceptionKind, Package, ProofOutcome, Stop
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package


def attempt(
    session: Session,
    driver: Driver,
    block_id: int,
    stop_id: int,
    body: AttemptIn,
    *,
    photo_key: str | None,
    now: datetime,
    max_attempts: int,
    travel: TravelModel,
) -> AttemptOut:
    """Unable to deliver: every parcel of the stop still to hand over is attempted, with the
    reason; each goes back to the station at the end of the block."""
    block = held_block(session, driver, block_id)
    earlier = replay(session, driver, body.client_event_id, stop_id, ProofOutcome.ATTEMPTED)
    if earlier:
        return _attempt_out(session, block, earlier, max_attempts, replayed=True)
    load, door = at_the_door(
        session, driver, block, stop_id, body, now, photo_key, "record an attempt"
    )
    parcels = to_hand_over(load, door.stop, None)
    depart_loaded(session, driver, load, now=now)
    reason = body.reason.value
    proofs = []
    for package in parcels:
        package.delivery_attempts += 1
        proof = door.proof(package, ProofOutcome.ATTEMPTED, reason=reason)
        session.add(proof)
        session.flush()
        proofs.append(proof)
        transition_package(
            session,
            package,
            PackageState.DELIVERY_ATTEMPTED,
            actor=actor(driver),
            reason=reason,
            data=event_data(door, proof) | {"attempts": package.delivery_attempts},
            at=now,
        )
        session.add(
            door.exception(
                package,
                ExceptionKind.FAILED_DELIVERY,
                f"{package.tracking_code} not delivered ({reason}), attempt "
                f"{package.delivery_attempts} of {max_attempts}"
                + (f": {body.note}" if body.note else ""),
                reason=reason,
                proof_id=proof.id,
            )
        )
    leave_the_door(session, door, load, travel)
    return _attempt_out(session, block, proofs, max_attempts, replayed=False)


def _attempt_out(
    session: Session,
    block: Block,
    proofs: list[DeliveryProof],
    max_attempts: int,
    *,
    replayed: bool,
) -> AttemptOut:
    stop_id = proofs[0].stop_id
    assert stop_id is not None
    outs = proof_outs(session, proofs)
    ids = [p.package_id for p in proofs]
    attempts = dict(
        session.execute(
            select(Package.tracking_code, Package.delivery_attempts).where(Package.id.in_(ids))
        ).all()
    )
    return AttemptOut(
        block_id=block.id,
        stop_id=stop_id,
        replayed=replayed,
        reason=AttemptReason(proofs[0].reason or ""),
        proofs=outs,
        parcels=[
            AttemptedParcel(
                code=out.code,
                attempts=attempts[out.code],
                next="merchant" if attempts[out.code] >= max_attempts else "retry",
            )
            for out in outs
        ],
        stop_status=session.get_one(Stop, stop_id).status,
        block_status=block.status,
    )
