"""Following parcels the carrier has: its tracking moves them to ``delivered``.

For every shipment handed over whose package is still ``handed_to_carrier``, ask the carrier
that sold its label for the tracking; when the carrier reports it delivered, the package
moves ``handed_to_carrier`` → ``delivered`` through the state machine, with an event at the
carrier's own delivery time (and its outbox row for the merchant's webhook).

As with labels, no transaction stays open while a carrier answers: the shipments are read in
one short transaction, and each delivery is written in its own. Running again changes
nothing twice: a package already delivered is skipped. A carrier that does not answer, or
does not know the number, is reported and the package stays where it was. The built-in
counter carrier is not asked: nobody reports its deliveries to us.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.carriers import Carrier, TrackingEvent, TrackingResult, TrackingStatus
from doorstep.carriers.manual import CARRIER_NAME as COUNTER_CARRIER
from doorstep.db import unit_of_work
from doorstep.models import CarrierShipment, CarrierShipmentStatus, Package
from doorstep.orders.lifecycle import IllegalTransition, PackageState
from doorstep.orders.transitions import transition_package


class TrackStatus(StrEnum):
    DELIVERED = "delivered"  # this run recorded the delivery
    ON_THE_WAY = "on_the_way"  # the carrier has it, not delivered yet
    NO_ANSWER = "no_answer"  # the carrier gave no tracking (see the detail)
    NOT_TRACKED = "not_tracked"  # the counter carrier: nobody reports its deliveries to us
    OTHER_CARRIER = "other_carrier"  # its label came from a carrier not configured now
    CHANGED_MEANWHILE = "changed_meanwhile"  # the package moved on while the carrier answered


@dataclass(frozen=True)
class TrackOutcome:
    package: str  # our tracking code
    carrier: str
    tracking_number: str
    status: TrackStatus
    last: TrackingStatus  # the carrier's latest status
    detail: str


def refresh_tracking(
    sessions: sessionmaker[Session],
    carrier: Carrier,
    *,
    numbers: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[TrackOutcome]:
    """Ask ``carrier`` about every parcel it has, or only those of its tracking ``numbers``
    (a carrier's push names the parcels that moved; asking about all of them on every push
    would cost the square of the parcels in transit), and record the deliveries it reports.
    A number that is not a parcel with a carrier gets no outcome."""
    query = (
        select(
            CarrierShipment.id,
            Package.tracking_code,
            CarrierShipment.carrier,
            CarrierShipment.tracking_number,
            CarrierShipment.tracking_news_at,
        )
        .join(Package, Package.id == CarrierShipment.package_id)
        .where(
            CarrierShipment.status == CarrierShipmentStatus.HANDED_OVER,
            Package.state == PackageState.HANDED_TO_CARRIER,
        )
        .order_by(CarrierShipment.id)
    )
    if numbers is not None:
        query = query.where(CarrierShipment.tracking_number.in_(set(numbers)))
    with unit_of_work(sessions) as session:
        open_shipments = list(session.execute(query))
    outcomes = []
    for done, (shipment_id, code, sold_by, number, news_at) in enumerate(open_shipments):
        if progress:
            progress(done, len(open_shipments))
        if sold_by != carrier.name:
            outcomes.append(
                TrackOutcome(
                    code,
                    sold_by,
                    number or "",
                    TrackStatus.OTHER_CARRIER,
                    TrackingStatus.UNKNOWN,
                    f"labelled by {sold_by}; the configured carrier is {carrier.name}",
                )
            )
            continue
        if sold_by == COUNTER_CARRIER:
            # Its "tracking" is our own counter's log: handed over is the last it will know.
            outcomes.append(
                TrackOutcome(
                    code,
                    sold_by,
                    number or "",
                    TrackStatus.NOT_TRACKED,
                    TrackingStatus.HANDED_OVER,
                    "handed over at the counter; this carrier reports no deliveries",
                )
            )
            continue
        answer = carrier.track(number or "")
        outcomes.append(_record(sessions, shipment_id, code, carrier.name, answer, news_at))
    if progress:
        progress(len(open_shipments), len(open_shipments))
    return outcomes


def _record(
    sessions: sessionmaker[Session],
    shipment_id: int,
    code: str,
    carrier: str,
    answer: TrackingResult,
    news_at: datetime | None,
) -> TrackOutcome:
    """Write what ``answer`` tells; ``news_at``: the shipment's latest news as read with the
    list (nothing newer, no transaction: a refresh asks about every parcel the carrier
    has, and most have no news since the last one)."""
    number = answer.tracking_number

    def outcome(status: TrackStatus, detail: str) -> TrackOutcome:
        return TrackOutcome(code, carrier, number, status, answer.status, detail)

    if not answer.events:
        said = "; ".join(f"{m.code}: {m.text}" for m in answer.messages)
        return outcome(TrackStatus.NO_ANSWER, said or "the carrier returned no events")
    delivered = _delivery(answer.events)
    if delivered is None:
        last = answer.events[-1]
        latest = max(e.at for e in answer.events)
        if news_at is not None and latest <= news_at:
            return outcome(TrackStatus.ON_THE_WAY, _describe(last))
        with unit_of_work(sessions) as session:
            # News, for the operators' carrier_silent check (ops/detectors.py).
            shipment = session.get_one(CarrierShipment, shipment_id)
            if shipment.tracking_news_at is None or latest > shipment.tracking_news_at:
                shipment.tracking_news_at = latest
        return outcome(TrackStatus.ON_THE_WAY, _describe(last))
    with unit_of_work(sessions) as session:
        shipment = session.get_one(CarrierShipment, shipment_id)
        package = session.get_one(Package, shipment.package_id)
        try:
            transition_package(
                session,
                package,
                PackageState.DELIVERED,
                actor=f"carrier:{carrier}",
                data={
                    "tracking_number": number,
                    "description": delivered.description,
                    "location": delivered.location,
                },
                at=delivered.at,
            )
        except IllegalTransition:
            # Another run recorded it, or an operator moved the package, a moment ago.
            return outcome(TrackStatus.CHANGED_MEANWHILE, f"the package is {package.state.value}")
    return outcome(TrackStatus.DELIVERED, _describe(delivered))


def _delivery(events: tuple[TrackingEvent, ...]) -> TrackingEvent | None:
    return next((e for e in reversed(events) if e.status is TrackingStatus.DELIVERED), None)


def _describe(event: TrackingEvent) -> str:
    where = f", {event.location}" if event.location else ""
    return f"{event.description} ({event.at:%Y-%m-%d %H:%M} UTC{where})"
