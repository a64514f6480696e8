"""The pure mapping between our model and Karrio's, both ways: no gateway, no HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

km = pytest.importorskip("karrio.core.models")

from doorstep.carriers import karrio_mapping as mapping  # noqa: E402
from doorstep.carriers.model import (  # noqa: E402
    CarrierMessage,
    Rate,
    ServiceLevel,
    ShipmentRequest,
    TrackingStatus,
)


def test_our_addresses_become_karrio_addresses(shipment: ShipmentRequest) -> None:
    customer = mapping.to_karrio_address(shipment.ship_to)
    assert (customer.person_name, customer.company_name) == ("Maria Gonzalez", None)
    assert customer.address_line1 == "1420 N Alma School Rd"
    assert customer.address_line2 == "Apt 12B"
    assert (customer.city, customer.state_code, customer.postal_code) == ("Chandler", "AZ", "85224")
    assert customer.country_code == "US"
    assert customer.phone_number == "+1 480 555 0142"
    assert customer.residential is True

    station = mapping.to_karrio_address(shipment.ship_from)
    assert station.company_name == "doorstep"
    assert station.address_line2 is None
    assert station.residential is False


def test_grams_and_millimetres_become_kilograms_and_centimetres(shipment: ShipmentRequest) -> None:
    parcel = mapping.to_karrio_parcel(shipment.parcel, shipment.reference)
    assert (parcel.weight, parcel.weight_unit) == (1.25, "KG")
    assert (parcel.length, parcel.width, parcel.height, parcel.dimension_unit) == (
        30.0,
        20.0,
        15.0,
        "CM",
    )
    assert parcel.reference_number == "PKG-7K2M9QX4"


def test_a_rate_request_names_the_service_when_the_level_is_mapped(
    shipment: ShipmentRequest,
) -> None:
    codes = {ServiceLevel.GROUND: "ups_ground"}
    services = mapping.services_for(shipment.service_level, codes)
    request = mapping.to_rate_request(shipment, services)
    assert isinstance(request, km.RateRequest)
    assert request.services == ["ups_ground"]
    assert request.reference == "PKG-7K2M9QX4"
    assert request.shipper.postal_code == request.recipient.postal_code == "85224"
    assert len(request.parcels) == 1
    assert mapping.services_for(ServiceLevel.SAME_DAY, codes) == []


def test_a_shipment_request_buys_the_chosen_rate_as_a_pdf(shipment: ShipmentRequest) -> None:
    rate = Rate("ups", "ups_ground", 1343, "USD", 1)
    request = mapping.to_shipment_request(shipment, rate)
    assert isinstance(request, km.ShipmentRequest)
    assert (request.service, request.label_type, request.reference) == (
        "ups_ground",
        "PDF",
        "PKG-7K2M9QX4",
    )
    assert mapping.to_tracking_request("1Z999").tracking_numbers == ["1Z999"]


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (13.43, 1343),
        ("29.24", 2924),
        (19.99, 1999),
        (0.125, 13),
        (0.1 + 0.2, 30),
        (None, 0),
        (7, 700),
    ],
)
def test_amounts_become_integer_cents_rounding_half_up(amount: float | None, cents: int) -> None:
    assert mapping.to_cents(amount) == cents


def test_an_amount_that_is_not_a_number_is_a_bug() -> None:
    with pytest.raises(ValueError, match="not an amount"):
        mapping.to_cents("twelve")


def test_karrio_rates_become_ours() -> None:
    details = km.RateDetails(
        carrier_name="ups",
        carrier_id="ups",
        service="ups_2nd_day_air",
        currency="USD",
        total_charge=29.24,
        transit_days=2,
    )
    assert mapping.from_rate_details(details) == Rate("ups", "ups_2nd_day_air", 2924, "USD", 2)
    no_days = km.RateDetails(carrier_name="ups", carrier_id="ups", service="x", total_charge=1.0)
    assert mapping.from_rate_details(no_days) == Rate("ups", "x", 100, "USD", None)


def test_karrio_messages_become_ours() -> None:
    messages = [
        km.Message(carrier_name="ups", carrier_id="ups", code="111210", message="No service"),
        km.Message(carrier_name=None, carrier_id=None, message=None, level="warning"),
    ]
    assert mapping.from_messages(messages, "ups") == (
        CarrierMessage("ups", "111210", "No service", "error"),
        CarrierMessage("ups", "carrier_error", "", "warning"),
    )
    assert mapping.from_messages(None, "ups") == ()


def _shipment(label: str | None) -> object:
    return km.ShipmentDetails(
        carrier_name="ups",
        carrier_id="ups",
        tracking_number="1Z",
        shipment_identifier="1Z",
        docs=km.Documents(label=label),
    )


def test_only_a_pdf_label_is_accepted() -> None:
    pdf = b"%PDF-1.4 tiny"
    assert mapping.label_pdf(_shipment(base64.b64encode(pdf).decode())) == pdf
    assert mapping.label_pdf(_shipment(base64.b64encode(b"^XA^XZ").decode())) is None
    assert mapping.label_pdf(_shipment("not base64!")) is None
    assert mapping.label_pdf(_shipment(None)) is None


def test_a_karrio_shipment_becomes_our_label() -> None:
    rate = Rate("ups", "ups_ground", 1343, "USD", 1)
    label = mapping.from_shipment_details(_shipment("x"), rate, b"%PDF", "https://t/1Z")
    assert (label.carrier, label.tracking_number, label.pdf, label.rate) == (
        "ups",
        "1Z",
        b"%PDF",
        rate,
    )
    assert label.tracking_url == "https://t/1Z"


@pytest.mark.parametrize(
    ("karrio_status", "ours"),
    [
        ("pending", TrackingStatus.LABEL_CREATED),
        ("picked_up", TrackingStatus.HANDED_OVER),
        ("in_transit", TrackingStatus.IN_TRANSIT),
        ("out_for_delivery", TrackingStatus.OUT_FOR_DELIVERY),
        ("delivered", TrackingStatus.DELIVERED),
        ("delivery_failed", TrackingStatus.EXCEPTION),
        ("something_new", TrackingStatus.UNKNOWN),
        (None, TrackingStatus.UNKNOWN),
    ],
)
def test_karrio_statuses_become_ours(karrio_status: str | None, ours: TrackingStatus) -> None:
    assert mapping.tracking_status(karrio_status) is ours


def test_event_times_are_read_from_the_timestamp_or_the_date_and_time() -> None:
    stamped = km.TrackingEvent(date="2026-11-25", timestamp="2026-11-25T14:32:00.000Z")
    assert mapping.event_time(stamped) == datetime(2026, 11, 25, 14, 32, tzinfo=UTC)
    offset = km.TrackingEvent(date="2026-11-25", timestamp="2026-11-25T07:32:00-07:00")
    assert mapping.event_time(offset) == datetime(2026, 11, 25, 14, 32, tzinfo=UTC)
    split = km.TrackingEvent(date="2026-11-25", time="02:10 PM")
    assert mapping.event_time(split) == datetime(2026, 11, 25, 14, 10, tzinfo=UTC)
    karrio_clock = km.TrackingEvent(date="2026-11-25", time="14:10 PM")
    assert mapping.event_time(karrio_clock) == datetime(2026, 11, 25, 14, 10, tzinfo=UTC)
    day_only = km.TrackingEvent(date="2026-11-25")
    assert mapping.event_time(day_only) == datetime(2026, 11, 25, tzinfo=UTC)


def test_karrio_tracking_becomes_our_events_oldest_first() -> None:
    details = km.TrackingDetails(
        carrier_name="ups",
        carrier_id="ups",
        tracking_number="1Z",
        events=[
            km.TrackingEvent(
                date="2026-11-25",
                timestamp="2026-11-25T14:32:00Z",
                description="DELIVERED",
                status="delivered",
                location="CHANDLER, AZ",
            ),
            km.TrackingEvent(
                date="2026-11-24", timestamp="2026-11-24T18:45:00Z", code="OR", status="picked_up"
            ),
        ],
    )
    events = mapping.from_tracking_details(details)
    assert [(e.status, e.description, e.location) for e in events] == [
        (TrackingStatus.HANDED_OVER, "OR", None),
        (TrackingStatus.DELIVERED, "DELIVERED", "CHANDLER, AZ"),
    ]
