"""The carrier's tracking moves the parcels it has to delivered (recorded UPS answers)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.carriers import Carrier, ManualCarrier, TrackingStatus
from doorstep.carriers.manual import tracking_number_for
from doorstep.models import CarrierShipment, CarrierShipmentStatus, Package
from doorstep.models.orders import PackageEvent
from doorstep.orders.lifecycle import PackageState
from doorstep.shipments.handover import hand_over
from doorstep.shipments.tracking import TrackStatus, refresh_tracking
from tests.carriers.recorded_http import RecordedTransport
from tests.factories import make_planned_carrier_shipment

DAY = date(2026, 11, 24)
AT = datetime(2026, 11, 24, 16, 5, tzinfo=UTC)
UPS_NUMBER = "1ZA1B2C30390123456"
TRACK = f"/api/track/v1/details/{UPS_NUMBER}"


def with_the_carrier(session: Session, carrier: str, number: str) -> CarrierShipment:
    """A shipment labelled by ``carrier`` and handed over at the counter, committed."""
    shipment = make_planned_carrier_shipment(session, DAY)
    shipment.carrier = carrier
    shipment.tracking_number = number
    shipment.status = CarrierShipmentStatus.LABELLED
    session.flush()
    [scan] = hand_over(session, [number], at=AT)
    assert scan.goes
    session.commit()
    return shipment


def _state(session: Session, shipment: CarrierShipment) -> PackageState:
    session.expire_all()
    return session.get_one(Package, shipment.package_id).state


def test_a_delivery_the_carrier_reports_is_recorded_once(
    session: Session,
    session_factory: sessionmaker[Session],
    ups: Carrier,
    transport: RecordedTransport,
) -> None:
    transport.add("GET", TRACK, "ups/track.json")
    by_ups = with_the_carrier(session, "ups", UPS_NUMBER)
    at_counter = with_the_carrier(session, "manual", tracking_number_for(11))
    seen: list[tuple[int, int]] = []

    delivered, other = refresh_tracking(session_factory, ups, progress=lambda *p: seen.append(p))

    assert (delivered.status, delivered.last) == (TrackStatus.DELIVERED, TrackingStatus.DELIVERED)
    assert delivered.tracking_number == UPS_NUMBER
    assert delivered.detail == "DELIVERED (2026-11-25 14:32 UTC, CHANDLER, AZ, US)"
    assert _state(session, by_ups) is PackageState.DELIVERED
    event = session.scalars(
        select(PackageEvent)
        .where(PackageEvent.package_id == by_ups.package_id)
        .order_by(PackageEvent.sequence.desc())
    ).first()
    assert event is not None
    assert (event.to_state, event.actor) == (PackageState.DELIVERED, "carrier:ups")
    assert event.occurred_at == datetime(2026, 11, 25, 14, 32, tzinfo=UTC)  # the carrier's time
    assert event.data["tracking_number"] == UPS_NUMBER
    # A label from the counter carrier is not asked of UPS.
    assert other.status is TrackStatus.OTHER_CARRIER
    assert other.detail == "labelled by manual; the configured carrier is ups"
    assert _state(session, at_counter) is PackageState.HANDED_TO_CARRIER
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert len(transport.requests_to(TRACK)) == 1

    again = refresh_tracking(session_factory, ups)

    assert [o.status for o in again] == [TrackStatus.OTHER_CARRIER]  # UPS is not asked again
    assert len(transport.requests_to(TRACK)) == 1


def test_a_push_asks_only_about_the_numbers_it_names(
    session: Session,
    session_factory: sessionmaker[Session],
    ups: Carrier,
    transport: RecordedTransport,
) -> None:
    transport.add("GET", TRACK, "ups/track.json")
    pushed = with_the_carrier(session, "ups", UPS_NUMBER)
    quiet = with_the_carrier(session, "ups", "1ZA1B2C30390999999")  # no answer recorded for it

    [delivered] = refresh_tracking(session_factory, ups, numbers=[UPS_NUMBER, "1ZNOTHANDEDOVER00"])

    assert (delivered.package, delivered.status) == (
        session.get_one(Package, pushed.package_id).tracking_code,
        TrackStatus.DELIVERED,
    )
    assert _state(session, pushed) is PackageState.DELIVERED
    assert _state(session, quiet) is PackageState.HANDED_TO_CARRIER
    assert len(transport.requests_to(TRACK)) == 1
    assert transport.unmatched == []  # the other parcel was not asked about
    assert refresh_tracking(session_factory, ups, numbers=[]) == []


def test_a_number_the_carrier_does_not_know_is_reported_and_nothing_moves(
    session: Session,
    session_factory: sessionmaker[Session],
    ups: Carrier,
    transport: RecordedTransport,
) -> None:
    transport.add("GET", TRACK, "ups/track_not_found.json", status=404)
    shipment = with_the_carrier(session, "ups", UPS_NUMBER)

    [outcome] = refresh_tracking(session_factory, ups)

    assert outcome.status is TrackStatus.NO_ANSWER
    assert outcome.detail == "TW0001: Tracking Information Not Found"
    assert _state(session, shipment) is PackageState.HANDED_TO_CARRIER


def test_the_counter_carrier_is_not_asked(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    # The manual carrier's tracking is our own counter's log: handed over is the last it
    # knows, so the parcel stays with the carrier and the answer says why.
    shipment = with_the_carrier(session, "manual", tracking_number_for(12))

    [outcome] = refresh_tracking(session_factory, ManualCarrier())

    assert (outcome.status, outcome.last) == (TrackStatus.NOT_TRACKED, TrackingStatus.HANDED_OVER)
    assert outcome.detail == "handed over at the counter; this carrier reports no deliveries"
    assert _state(session, shipment) is PackageState.HANDED_TO_CARRIER


def test_news_without_a_delivery_is_kept_for_the_silence_check(
    session: Session,
    session_factory: sessionmaker[Session],
    ups: Carrier,
    transport: RecordedTransport,
) -> None:
    # The recorded answer without its delivery: out for delivery at 08:15 the next morning.
    transport.add("GET", TRACK, "ups/track_in_transit.json")
    by_ups = with_the_carrier(session, "ups", UPS_NUMBER)

    [moving] = refresh_tracking(session_factory, ups)

    assert moving.status is TrackStatus.ON_THE_WAY
    session.expire_all()
    shipment = session.get_one(CarrierShipment, by_ups.id)
    assert shipment.tracking_news_at == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert _state(session, by_ups) is PackageState.HANDED_TO_CARRIER

    # Asked again with no newer news: the list of parcels is read, nothing is written.
    counting = CountingSessions(session_factory)
    [again] = refresh_tracking(cast(sessionmaker[Session], counting), ups)
    assert again.status is TrackStatus.ON_THE_WAY
    assert counting.opened == 1


class CountingSessions:
    """A session factory that counts the transactions opened with it."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.opened = 0

    def __call__(self) -> Session:
        self.opened += 1
        return self.sessions()
