"""Handing labelled parcels over to their carrier at the counter.

When the carrier's driver takes the day's parcels, the counter scans each label's barcode
(or types its tracking number). A scan of a labelled shipment marks it ``handed_over`` and
moves its package ``assigned`` → ``handed_to_carrier`` through the state machine, with the
event (tracking number, carrier, where) in the same transaction; the merchant's webhook
follows from that event. The caller's transaction is the acknowledgement: the CLI commits
after each scan, the API once per request, before it answers.

Every scan gets an answer, never an exception, because the person at the counter has a
parcel in hand and needs to know whether it goes on the truck:

- ``handed_over``: it goes;
- ``already_handed_over``: scanned before (a second scan changes nothing);
- ``not_to_hand_over``: the label exists but the package must stay (cancelled, lost or
  re-planned since its label was printed), with its state;
- ``mistyped``: a counter tracking number whose check digit does not match;
- ``unknown``: no shipment has this tracking number.

Two counters scanning the same parcel at once: the conditional UPDATE lets exactly one of
them hand it over; the other is told it already was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.carriers.manual import PREFIX, SERIAL_DIGITS, is_valid_tracking_number
from doorstep.models import CarrierShipment, CarrierShipmentStatus, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package

#: Who the package history names for a counter scan.
ACTOR = "counter"


class HandoverStatus(StrEnum):
    HANDED_OVER = "handed_over"
    ALREADY_HANDED_OVER = "already_handed_over"
    NOT_TO_HAND_OVER = "not_to_hand_over"
    MISTYPED = "mistyped"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class HandoverOutcome:
    scanned: str  # as scanned, trimmed
    status: HandoverStatus
    detail: str
    package: str | None = None  # tracking code of our package
    carrier: str | None = None

    @property
    def goes(self) -> bool:
        """The parcel belongs on the carrier's truck (now, or since an earlier scan)."""
        return self.status in (HandoverStatus.HANDED_OVER, HandoverStatus.ALREADY_HANDED_OVER)


def hand_over(
    session: Session, scans: Sequence[str], *, at: datetime, location: str | None = None
) -> list[HandoverOutcome]:
    """Hand over the shipments behind ``scans``, one outcome per scan, in the same order.

    Writes in ``session`` and does not commit: the caller's commit acknowledges the scans.
    """
    return [_one(session, scan.strip(), at, location) for scan in scans]


def _one(session: Session, scanned: str, at: datetime, location: str | None) -> HandoverOutcome:
    shipment = _find(session, scanned)
    if shipment is None:
        typo = _counter_number_typo(scanned.upper())
        if typo is not None:
            return HandoverOutcome(scanned, HandoverStatus.MISTYPED, typo)
        return HandoverOutcome(
            scanned, HandoverStatus.UNKNOWN, "no labelled shipment has this tracking number"
        )
    package = session.get_one(Package, shipment.package_id)
    code, carrier = package.tracking_code, shipment.carrier
    if shipment.status is CarrierShipmentStatus.HANDED_OVER:
        return HandoverOutcome(
            scanned, HandoverStatus.ALREADY_HANDED_OVER, "handed over before", code, carrier
        )
    if package.state is not PackageState.ASSIGNED:
        # Another counter's scan may have committed between our two reads: the shipment
        # looked labelled, the package is already with the carrier. Read the shipment again.
        now_status = session.scalar(
            select(CarrierShipment.status).where(CarrierShipment.id == shipment.id)
        )
        if now_status is CarrierShipmentStatus.HANDED_OVER:
            return HandoverOutcome(
                scanned, HandoverStatus.ALREADY_HANDED_OVER, "handed over before", code, carrier
            )
        return HandoverOutcome(
            scanned,
            HandoverStatus.NOT_TO_HAND_OVER,
            f"keep it: the package is {package.state.value}",
            code,
            carrier,
        )
    taken = session.execute(
        update(CarrierShipment)
        .where(
            CarrierShipment.id == shipment.id,
            CarrierShipment.status == CarrierShipmentStatus.LABELLED,
        )
        .values(status=CarrierShipmentStatus.HANDED_OVER, handed_over_at=at)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        # Another scan of the same parcel won the race a moment ago.
        return HandoverOutcome(
            scanned, HandoverStatus.ALREADY_HANDED_OVER, "handed over before", code, carrier
        )
    transition_package(
        session,
        package,
        PackageState.HANDED_TO_CARRIER,
        actor=ACTOR,
        data={
            "carrier": carrier,
            "tracking_number": shipment.tracking_number,
            "location": location,
        },
        at=at,
    )
    session.refresh(shipment)
    return HandoverOutcome(scanned, HandoverStatus.HANDED_OVER, "on the truck", code, carrier)


def _counter_number_typo(number: str) -> str | None:
    """What is wrong with a counter label's number, if it is meant to be one."""
    if not number.startswith(PREFIX) or is_valid_tracking_number(number):
        return None
    body = number[len(PREFIX) :]
    if len(body) != SERIAL_DIGITS + 1 or not body.isdigit():
        return f"a counter tracking number is {PREFIX} and {SERIAL_DIGITS + 1} digits"
    return "the check digit does not match: scan the barcode again or retype the number"


def _find(session: Session, scanned: str) -> CarrierShipment | None:
    """The shipment with this tracking number; a scanner or a hand may change its case."""
    if not scanned:
        return None
    for number in dict.fromkeys((scanned, scanned.upper())):
        shipment = session.scalars(
            select(CarrierShipment).where(CarrierShipment.tracking_number == number)
        ).first()
        if shipment is not None:
            return shipment
    return None
