"""A delivery at the door, with its proof.

It hands over the stop's parcels (or those scanned at the door) with the proof the
door needs (`drivers.proof`), the phone's position and time. It is accepted once, however often
the phone sends it: the same ``client_event_id`` answers with the proofs it made the first time
(``replayed``), never a second proof nor an error. Farther than ``DOORSTEP_DELIVERY_FAR_M`` from
the address it needs the driver's confirmation and is flagged for the operator. A wrong PIN
counts even though the request fails: the check returns the refusal and the caller commits
the count before raising it; five wrong tries lock the parcel's PIN and tell the operator.

Every parcel gets a `DeliveryProof` row and moves to ``delivered`` through the state machine,
whose outbox event carries the proof to the merchant's webhook. The first door also departs:
parcels still ``picked_up`` go ``out_for_delivery`` before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.proof import (
    PinCheck,
    ProofKind,
    ProofLevel,
    check_given,
    check_pin,
    pin_refusal,
)
from doorstep.drivers.road.again import (
    after_another_try,
    attempted_here,
    is_another_try,
    send_out_again,
)
from doorstep.drivers.road.door import (
    Door,
    at_the_door,
    event_data,
    leave_the_door,
    proof_outs,
    replay,
    to_hand_over,
)
from doorstep.drivers.road.load import actor, held_block
from doorstep.drivers.road.scans import depart_loaded, ensure_loaded
from doorstep.drivers.road.stops import merchant_policies, parcels_policy
from doorstep.drivers.road_schemas import DeliveryIn, DeliveryOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import (
    Block,
    DeliveryProof,
    Driver,
    ExceptionKind,
    Package,
    PackageEvent,
    ProofOutcome,
    Stop,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package


class FarFromAddress(DomainError):
    status = 409
    code = "far_from_address"


def deliver(
    session: Session,
    driver: Driver,
    block_id: int,
    stop_id: int,
    body: DeliveryIn,
    *,
    photo_key: str | None,
    signature_key: str | None,
    now: datetime,
    far_m: int,
    secret_key: str,
    travel: TravelModel,
) -> DeliveryOut | DomainError:
    """Deliver, or return the refusal of a wrong PIN for the caller to raise after it has
    committed the count; any other refusal is raised having written nothing."""
    block = held_block(session, driver, block_id)
    earlier = replay(session, driver, body.client_event_id, stop_id, ProofOutcome.DELIVERED)
    if earlier:
        return _delivery_out(session, block, earlier, replayed=True)
    load, door = at_the_door(
        session, driver, block, stop_id, body, now, photo_key, "deliver", returning_too=True
    )
    again = is_another_try(door.stop)
    parcels = (
        attempted_here(session, load, door.stop, body.codes)
        if again
        else to_hand_over(load, door.stop, body.codes)
    )
    policy = parcels_policy(load, parcels, merchant_policies(session, load))
    given = {
        kind
        for kind, present in (
            (ProofKind.PHOTO, photo_key),
            (ProofKind.SIGNATURE, signature_key),
            (ProofKind.PIN, body.pin),
            (ProofKind.SCAN, body.codes is not None),
        )
        if present
    }
    skipped = check_given(policy, given, set(body.confirm_without))
    far = door.distance_m > far_m
    if far and not body.confirm_far:
        raise FarFromAddress(
            f"you are {door.distance_m} m from the address; deliver there, or confirm "
            "(confirm_far)",
            field="confirm_far",
            distance_m=door.distance_m,
            limit_m=far_m,
        )
    ensure_loaded(load)
    pin_checked = False
    if body.pin and policy.pin is not ProofLevel.OFF:
        refusal = _check_pins(session, door, parcels, body.pin, secret_key)
        if refusal is not None:
            return refusal
        pin_checked = True
    if again:
        send_out_again(session, driver, door, parcels, now)
    depart_loaded(session, driver, load, now=now)
    proofs = []
    for package in parcels:
        proof = door.proof(
            package,
            ProofOutcome.DELIVERED,
            signature_key=signature_key,
            pin_checked=pin_checked and package.pin_hash is not None,
            flagged=far or bool(skipped),
        )
        session.add(proof)
        session.flush()
        proofs.append(proof)
        transition_package(
            session,
            package,
            PackageState.DELIVERED,
            actor=actor(driver),
            data=event_data(door, proof, skipped=[k.value for k in skipped]),
            at=now,
        )
        if far:
            session.add(
                door.exception(
                    package,
                    ExceptionKind.FAR_FROM_ADDRESS,
                    f"{package.tracking_code} delivered {door.distance_m} m from its address "
                    "(confirmed by the driver)",
                    distance_m=door.distance_m,
                    proof_id=proof.id,
                )
            )
    leave_the_door(session, door, load, travel)
    if again:
        after_another_try(session, driver, load, parcels, now)
    return _delivery_out(session, block, proofs, replayed=False, parcels=parcels, skipped=skipped)


def _check_pins(
    session: Session, door: Door, parcels: list[Package], pin: str, secret_key: str
) -> DomainError | None:
    for package in parcels:
        if package.pin_hash is None:
            continue
        result = check_pin(package, pin, secret_key=secret_key)
        if result is PinCheck.RIGHT:
            continue
        if result is PinCheck.LOCKED_NOW:
            session.add(
                door.exception(
                    package,
                    ExceptionKind.PIN_LOCKED,
                    f"five wrong PINs for {package.tracking_code}: call the recipient",
                )
            )
        session.flush()
        return pin_refusal(package, result)
    return None


def _delivery_out(
    session: Session,
    block: Block,
    proofs: list[DeliveryProof],
    *,
    replayed: bool,
    parcels: list[Package] | None = None,
    skipped: Iterable[ProofKind] | None = None,
) -> DeliveryOut:
    """The answer; a replay reads back what the first request's ``parcels`` and ``skipped``
    proofs were, which the first request passes as it knows them."""
    stop_id = proofs[0].stop_id
    assert stop_id is not None
    if skipped is None:
        # The warned proofs skipped are on the parcels' delivered events (the proofs are
        # flagged).
        data = session.scalar(
            select(PackageEvent.data).where(
                PackageEvent.package_id == proofs[0].package_id,
                PackageEvent.to_state == PackageState.DELIVERED,
            )
        )
        skipped = [ProofKind(k) for k in (data or {}).get("skipped_proofs", [])]
    codes = {p.id: p.tracking_code for p in parcels} if parcels is not None else None
    return DeliveryOut(
        block_id=block.id,
        stop_id=stop_id,
        replayed=replayed,
        proofs=proof_outs(session, proofs, codes),
        skipped_proofs=list(skipped),
        stop_status=session.get_one(Stop, stop_id).status,
        block_status=block.status,
    )
