"""What every action at a door shares: the stop and the parcels to hand over, the phone's
position and its event id (a re-sent action finds the proofs it made), each parcel's proof and
the event data the merchant's webhook carries, and leaving the door (the stop done, the ETAs
ahead re-timed, the block finished after its last stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.road.load import (
    TO_DELIVER,
    BlockLoad,
    Position,
    actor,
    load_block,
    note_position,
    orders_of,
    position,
    require_in_progress,
)
from doorstep.drivers.road.returns import finish_if_done
from doorstep.drivers.road.stops import retime
from doorstep.drivers.road_schemas import AttemptIn, DeliveryIn, ProofOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import (
    Block,
    BlockStatus,
    DeliveryProof,
    Driver,
    ExceptionKind,
    OpsException,
    Package,
    ProofOutcome,
    Stop,
    StopKind,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState


class NotADeliveryStop(DomainError):
    status = 409
    code = "not_a_delivery_stop"


class PackageNotOnStop(DomainError):
    status = 409
    code = "package_not_on_stop"


class PackageAlreadyDelivered(DomainError):
    status = 409
    code = "package_already_delivered"


class PackageNotScanned(DomainError):
    status = 409
    code = "package_not_scanned"


class StopAlreadyDone(DomainError):
    status = 409
    code = "stop_already_done"


class ClientEventReused(DomainError):
    status = 409
    code = "client_event_id_reused"


@dataclass(frozen=True)
class Door:
    """One action at a door as the phone sent it: what each parcel's proof repeats."""

    driver: Driver
    block: Block
    stop: Stop
    where: Position
    distance_m: int
    happened_at: datetime
    received_at: datetime
    client_event_id: str
    note: str | None
    photo_key: str | None

    def proof(self, package: Package, outcome: ProofOutcome, **extra: Any) -> DeliveryProof:
        return DeliveryProof(
            package_id=package.id,
            stop_id=self.stop.id,
            block_id=self.block.id,
            driver_id=self.driver.id,
            actor=actor(self.driver),
            outcome=outcome,
            photo_key=self.photo_key,
            lat=self.where.lat,
            lng=self.where.lng,
            accuracy_m=self.where.accuracy_m,
            distance_m=self.distance_m,
            note=self.note,
            happened_at=self.happened_at,
            received_at=self.received_at,
            client_event_id=self.client_event_id,
            **extra,
        )

    def exception(
        self, package: Package, kind: ExceptionKind, detail: str, **data: Any
    ) -> OpsException:
        """An exception for the operator about one parcel of this door."""
        return OpsException(
            kind=kind,
            package_id=package.id,
            block_id=self.block.id,
            driver_id=self.driver.id,
            detail=detail[:500],
            data={"code": package.tracking_code, "stop_id": self.stop.id, **data},
            opened_at=self.received_at,
            opened_by=actor(self.driver),
        )


def at_the_door(
    session: Session,
    driver: Driver,
    block: Block,
    stop_id: int,
    body: DeliveryIn | AttemptIn,
    now: datetime,
    photo_key: str | None,
    doing: str,
    *,
    returning_too: bool = False,
) -> tuple[BlockLoad, Door]:
    """The door as the driver stands at it; on the road only, or heading back too
    (``returning_too``: a door tried again on the way back)."""
    if not (returning_too and block.status is BlockStatus.RETURNING):
        require_in_progress(block, doing)
    load = load_block(session, block, orders=False)
    stop = _door(load, stop_id)
    orders_of(session, load, load.live.get(stop.id, []))
    where = position(body.lat, body.lng, body.accuracy_m)
    return load, Door(
        driver=driver,
        block=block,
        stop=stop,
        where=where,
        distance_m=where.distance_m(stop.lat, stop.lng),
        happened_at=body.at,
        received_at=now,
        client_event_id=body.client_event_id,
        note=body.note,
        photo_key=photo_key,
    )


def _door(load: BlockLoad, stop_id: int) -> Stop:
    stop = load.stop(stop_id)
    if stop.kind is not StopKind.DELIVERY:
        raise NotADeliveryStop(
            f"stop {stop.id} is a {stop.kind.value}, not a door", field="stop_id", stop_id=stop.id
        )
    return stop


def to_hand_over(load: BlockLoad, stop: Stop, codes: list[str] | None) -> list[Package]:
    """The parcels of this door to hand over: those named (scanned at the door), else every
    one still to deliver."""
    on_stop = {p.tracking_code: p for p in load.live.get(stop.id, [])}
    if codes is None:
        parcels = [
            p for p in on_stop.values() if p.state in TO_DELIVER or p.state is PackageState.ASSIGNED
        ]
        if not parcels:
            status = load.status_of(stop).value
            raise StopAlreadyDone(f"stop {stop.id} is done ({status})", stop_id=stop.id)
    else:
        parcels = []
        for code in dict.fromkeys(c.strip() for c in codes):
            if code not in on_stop:
                raise PackageNotOnStop(
                    f"parcel {code} is not for this door", field="codes", code=code
                )
            parcels.append(on_stop[code])
    for package in parcels:
        if package.state is PackageState.ASSIGNED:
            raise PackageNotScanned(
                f"parcel {package.tracking_code} was never scanned into the car",
                field="codes",
                code=package.tracking_code,
            )
        if package.state not in TO_DELIVER:
            raise PackageAlreadyDelivered(
                f"parcel {package.tracking_code} is already {package.state.value}",
                field="codes",
                code=package.tracking_code,
                state=package.state.value,
            )
    return parcels


def event_data(
    door: Door, proof: DeliveryProof, skipped: list[str] | None = None
) -> dict[str, Any]:
    """What the package's event (and the merchant's webhook) says about the door."""
    data: dict[str, Any] = {
        "block_id": door.block.id,
        "stop_id": door.stop.id,
        "proof_id": proof.id,
        "photo_key": proof.photo_key,
        "distance_m": proof.distance_m,
        "happened_at": proof.happened_at.isoformat(),
    }
    if proof.signature_key:
        data["signature_key"] = proof.signature_key
    if proof.pin_checked:
        data["pin_checked"] = True
    if proof.flagged:
        data["flagged"] = True
    if skipped:
        data["skipped_proofs"] = skipped
    return data


def leave_the_door(session: Session, door: Door, load: BlockLoad, travel: TravelModel) -> None:
    """The stop is done when nothing is left to hand over; the ETAs ahead are re-timed, and
    after the last stop the block completes or heads back."""
    stop, now = door.stop, door.received_at
    stop.arrived_at = stop.arrived_at or now
    parcels = load.live.get(stop.id, [])
    if any(p.state in TO_DELIVER for p in parcels):
        stop.status = StopStatus.ARRIVED
    else:
        delivered = any(p.state is PackageState.DELIVERED for p in parcels)
        stop.status = StopStatus.COMPLETED if delivered else StopStatus.FAILED
        stop.completed_at = now
    note_position(door.driver, door.where, now)
    retime(load, door.where, now, travel)
    finish_if_done(session, door.driver, load, now=now, travel=travel)


def replay(
    session: Session, driver: Driver, client_event_id: str, stop_id: int, outcome: ProofOutcome
) -> list[DeliveryProof]:
    """The proofs an earlier request with this id made (none: a new action). The same id on
    another stop or for another outcome is a client's bug."""
    proofs = list(
        session.scalars(
            select(DeliveryProof)
            .where(DeliveryProof.client_event_id == client_event_id)
            .order_by(DeliveryProof.id)
        )
    )
    for proof in proofs:
        if (proof.driver_id, proof.stop_id, proof.outcome) != (driver.id, stop_id, outcome):
            raise ClientEventReused(
                "this client_event_id was used for another action; give each action its own",
                field="client_event_id",
            )
    return proofs


def proof_outs(
    session: Session, proofs: list[DeliveryProof], codes: dict[int, str] | None = None
) -> list[ProofOut]:
    """The proofs as the phone sees them; ``codes`` (package id → tracking code) when the
    caller holds the parcels, else read."""
    if codes is None:
        ids = [p.package_id for p in proofs]
        codes = dict(
            session.execute(
                select(Package.id, Package.tracking_code).where(Package.id.in_(ids))
            ).all()
        )
    return [
        ProofOut(
            proof_id=p.id,
            code=codes[p.package_id],
            outcome=p.outcome.value,
            reason=p.reason,
            photo_key=p.photo_key,
            signature_key=p.signature_key,
            pin_checked=p.pin_checked,
            distance_m=p.distance_m,
            flagged=p.flagged,
            happened_at=p.happened_at,
        )
        for p in proofs
    ]
