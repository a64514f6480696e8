"""The Karrio adapter against recorded UPS responses: the SDK runs for real, only HTTP is replayed.

The files in ``recorded/ups/`` are UPS REST API answers (OAuth token, Rating "Shop", Shipping,
Tracking and their error bodies) in the shape UPS sends them; ``RecordedTransport`` serves them
where Karrio would open a connection, and keeps each request so a test can check what we sent.
"""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from urllib.error import URLError

import pytest
from pypdf import PdfReader

pytest.importorskip("karrio.mappers.ups")

import karrio.core.utils.helpers as karrio_http  # type: ignore[import-untyped]

from doorstep.carriers.base import Carrier
from doorstep.carriers.karrio_adapter import (
    CarrierConfigurationError,
    KarrioCarrier,
    create_gateway,
)
from doorstep.carriers.model import (
    CarrierMessage,
    Rate,
    ServiceLevel,
    ShipmentRequest,
    TrackingStatus,
)
from tests.carriers.recorded_http import RecordedTransport

TOKEN = "/security/v1/oauth/token"
SHOP = "/api/rating/v2409/Shop"
SHIP = "/api/shipments/v2409/ship"
TRACKING_NUMBER = "1ZA1B2C30390123456"
TRACK = f"/api/track/v1/details/{TRACKING_NUMBER}"
GROUND = Rate("ups", "ups_ground", 1343, "USD", 1)


@pytest.fixture
def ups(transport: RecordedTransport) -> KarrioCarrier:
    transport.add("POST", TOKEN, "ups/oauth_token.json")
    gateway = create_gateway(
        "ups",
        {"client_id": "test-client-id", "client_secret": "secret", "account_number": "A1B2C3"},
        test_mode=True,
    )
    return KarrioCarrier(gateway, service_codes={ServiceLevel.NEXT_DAY: "ups_next_day_air"})


def test_rates_round_trip(
    ups: KarrioCarrier, transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", SHOP, "ups/rate_shop.json")

    result = ups.rates(shipment)  # ground is not mapped: every service, cheapest first

    assert result.messages == ()
    assert result.rates == (
        GROUND,
        Rate("ups", "ups_2nd_day_air", 2924, "USD", 2),
        Rate("ups", "ups_next_day_air", 6018, "USD", 1),
    )
    (sent,) = transport.requests_to(SHOP)
    assert sent.url.startswith("https://wwwcie.ups.com/")  # test mode: the UPS sandbox
    assert sent.headers["Authorization"] == "Bearer recorded-access-token"
    body = sent.json()["RateRequest"]["Shipment"]
    assert body["ShipTo"]["Address"]["AddressLine"] == ["1420 N Alma School Rd", "Apt 12B"]
    assert body["ShipTo"]["Address"]["PostalCode"] == "85224"
    assert body["ShipTo"]["Address"]["ResidentialAddressIndicator"] == "Y"
    assert body["Shipper"]["ShipperNumber"] == "A1B2C3"
    # 1250 g and 300×200×150 mm, in the units UPS uses for a US shipper.
    package = body["Package"][0]
    assert package["PackageWeight"] == {
        "UnitOfMeasurement": {"Code": "LBS", "Description": "Weight"},
        "Weight": "2.76",
    }
    dims = package["Dimensions"]
    assert (dims["Length"], dims["Width"], dims["Height"]) == ("11.81", "7.87", "5.91")


def test_a_mapped_service_level_keeps_only_its_service(
    ups: KarrioCarrier, transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", SHOP, "ups/rate_shop.json")
    next_day = replace(shipment, service_level=ServiceLevel.NEXT_DAY)

    result = ups.rates(next_day)

    assert result.rates == (Rate("ups", "ups_next_day_air", 6018, "USD", 1),)
    (sent,) = transport.requests_to(SHOP)
    assert sent.json()["RateRequest"]["Shipment"]["Service"]["Code"] == "01"


def test_a_mapped_service_the_carrier_does_not_offer_is_a_message(
    transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", TOKEN, "ups/oauth_token.json")
    transport.add("POST", SHOP, "ups/rate_shop.json")
    gateway = create_gateway("ups", {"client_id": "c", "client_secret": "s"}, test_mode=True)
    carrier = KarrioCarrier(gateway, service_codes={ServiceLevel.GROUND: "ups_3_day_select"})

    result = carrier.rates(shipment)

    assert result.rates == ()
    assert [m.code for m in result.messages] == ["no_rate_for_service"]


def test_a_carrier_error_comes_back_as_messages_not_an_exception(
    ups: KarrioCarrier, transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", SHOP, "ups/rate_error.json", status=400)

    result = ups.rates(shipment)

    assert result.rates == ()
    assert result.messages == (
        CarrierMessage(
            carrier="ups",
            code="111210",
            text="The requested service is unavailable between the selected locations.",
            level="error",
        ),
    )


def test_refused_credentials_come_back_as_messages(
    transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", TOKEN, "ups/oauth_invalid.json", status=401)
    gateway = create_gateway("ups", {"client_id": "bad", "client_secret": "bad"}, test_mode=True)

    result = KarrioCarrier(gateway).buy_label(shipment, GROUND)

    assert result.label is None
    assert [(m.code, m.text) for m in result.messages] == [
        ("250003", "Invalid Access License number")
    ]
    assert transport.requests_to(SHIP) == []


def test_an_unreachable_carrier_is_a_message(
    ups: KarrioCarrier, monkeypatch: pytest.MonkeyPatch, shipment: ShipmentRequest
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise URLError("connection refused")

    monkeypatch.setattr(karrio_http, "urlopen", refuse)

    rates = ups.rates(shipment)
    tracking = ups.track(TRACKING_NUMBER)

    assert rates.rates == ()
    assert rates.messages
    assert all(m.carrier == "ups" and m.level == "error" for m in rates.messages)
    assert tracking.events == ()
    assert tracking.messages


def test_label_round_trip(
    ups: KarrioCarrier, transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", SHIP, "ups/ship.json")

    result = ups.buy_label(shipment, GROUND)

    assert result.messages == ()
    assert result.label is not None
    label = result.label
    assert (label.carrier, label.tracking_number, label.rate) == ("ups", TRACKING_NUMBER, GROUND)
    assert label.tracking_url is not None
    assert TRACKING_NUMBER in label.tracking_url
    # UPS sends a GIF; Karrio wraps it in a one-page PDF.
    assert len(PdfReader(io.BytesIO(label.pdf)).pages) == 1
    (sent,) = transport.requests_to(SHIP)
    request = sent.json()["ShipmentRequest"]
    assert request["Shipment"]["Service"]["Code"] == "03"
    assert request["Request"]["TransactionReference"]["CustomerContext"] == "PKG-7K2M9QX4"
    assert request["Shipment"]["ShipTo"]["Name"] == "Maria Gonzalez"


def test_a_label_that_is_not_a_pdf_is_a_message(
    ups: KarrioCarrier, transport: RecordedTransport, shipment: ShipmentRequest
) -> None:
    transport.add("POST", SHIP, "ups/ship_zpl.json")

    result = ups.buy_label(shipment, GROUND)

    assert result.label is None
    assert [m.code for m in result.messages] == ["label_not_pdf"]


def test_another_carriers_rate_is_a_bug(ups: KarrioCarrier, shipment: ShipmentRequest) -> None:
    with pytest.raises(ValueError, match="'manual'"):
        ups.buy_label(shipment, Rate("manual", "counter_handover", 700, "USD", 0))


def test_tracking_round_trip(ups: KarrioCarrier, transport: RecordedTransport) -> None:
    transport.add("GET", TRACK, "ups/track.json")

    result = ups.track(TRACKING_NUMBER)

    assert result.messages == ()
    assert [(e.status, e.description) for e in result.events] == [
        (
            TrackingStatus.LABEL_CREATED,
            "Shipper created a label, UPS has not received the package yet.",
        ),
        (TrackingStatus.HANDED_OVER, "Pickup Scan"),
        (TrackingStatus.IN_TRANSIT, "Arrived at Facility"),
        # UPS marks "out for delivery" with the in-progress type; Karrio reads it as in transit.
        (TrackingStatus.IN_TRANSIT, "Out For Delivery Today"),
        (TrackingStatus.DELIVERED, "DELIVERED"),
    ]
    assert result.events[2].location == "TEMPE, AZ, US"
    assert result.events[-1].at.isoformat() == "2026-11-25T14:32:00+00:00"
    assert result.delivered
    (sent,) = transport.requests_to(TRACK)
    assert sent.method == "GET"


def test_an_unknown_tracking_number_is_a_message(
    ups: KarrioCarrier, transport: RecordedTransport
) -> None:
    transport.add("GET", TRACK, "ups/track_not_found.json", status=404)

    result = ups.track(TRACKING_NUMBER)

    assert result.events == ()
    assert [(m.code, m.text) for m in result.messages] == [
        ("TW0001", "Tracking Information Not Found")
    ]


def test_the_adapter_is_a_carrier(ups: KarrioCarrier) -> None:
    carrier: Carrier = ups
    assert isinstance(carrier, Carrier)
    assert carrier.name == "ups"


def test_an_unknown_carrier_is_a_configuration_error() -> None:
    with pytest.raises(CarrierConfigurationError, match="karrio-nosuchcarrier"):
        create_gateway("nosuchcarrier", {"api_key": "x"})


def test_a_carrier_that_never_answers_is_a_timeout_message(
    monkeypatch: pytest.MonkeyPatch, shipment: ShipmentRequest
) -> None:
    released = threading.Event()

    def hang(*args: object, **kwargs: object) -> None:
        released.wait(5)
        raise URLError("gave up")

    monkeypatch.setattr(karrio_http, "urlopen", hang)
    gateway = create_gateway("ups", {"client_id": "c", "client_secret": "s"}, test_mode=True)
    carrier = KarrioCarrier(gateway, timeout_seconds=0.2)
    try:
        result = carrier.rates(shipment)
    finally:
        released.set()

    assert result.rates == ()
    assert [m.code for m in result.messages] == ["carrier_timeout"]
