from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from doorstep.carriers.base import Carrier
from doorstep.carriers.manual import (
    CARRIER_NAME,
    SERVICE,
    ManualCarrier,
    ManualRates,
    MemoryCounterLog,
    is_valid_tracking_number,
    luhn_check_digit,
    tracking_number_for,
)
from doorstep.carriers.model import Parcel, Rate, ShipmentRequest, TrackingStatus


def _carrier(now: datetime, **kwargs: object) -> ManualCarrier:
    serials = iter(range(12345678901234, 12345678901334))
    return ManualCarrier(
        ManualRates(base_cents=500, per_kg_cents=100),
        tracking_url_template="https://doorstep.example/track/{tracking_number}",
        next_serial=lambda: next(serials),
        clock=lambda: now,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("weight_g", "cents"),
    [(1, 600), (999, 600), (1000, 600), (1001, 700), (1250, 700), (20_000, 2500)],
)
def test_the_price_is_base_plus_every_started_kilogram(weight_g: int, cents: int) -> None:
    assert ManualRates(base_cents=500, per_kg_cents=100).price_cents(weight_g) == cents


def test_rates_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        ManualRates(base_cents=-1)


def test_the_manual_carrier_quotes_one_flat_rate(
    shipment: ShipmentRequest, fixed_now: datetime
) -> None:
    heavy = ShipmentRequest(
        reference="PKG-HEAVY",
        ship_from=shipment.ship_from,
        ship_to=shipment.ship_to,
        parcel=Parcel(weight_g=4200, length_mm=400, width_mm=300, height_mm=300),
    )
    result = _carrier(fixed_now).rates(heavy)
    assert result.messages == ()
    assert result.rates == (Rate(CARRIER_NAME, SERVICE, 500 + 5 * 100, "USD", 0),)


@pytest.mark.parametrize(
    ("digits", "check"),
    [("7992739871", "3"), ("0000000000", "0"), ("12345678901234", "7"), ("1", "8")],
)
def test_the_luhn_check_digit(digits: str, check: str) -> None:
    assert luhn_check_digit(digits) == check


def test_tracking_numbers_are_ds_fourteen_digits_and_a_check_digit() -> None:
    number = tracking_number_for(12345678901234)
    assert number == "DS123456789012347"
    assert is_valid_tracking_number(number)
    assert tracking_number_for(42) == "DS00000000000042" + luhn_check_digit("00000000000042")
    with pytest.raises(ValueError, match="at most 14 digits"):
        tracking_number_for(10**14)


def test_the_check_digit_catches_typos_and_swaps() -> None:
    number = tracking_number_for(12345678901234)
    one_typo = number[:5] + ("0" if number[5] != "0" else "1") + number[6:]
    swapped = number[:4] + number[5] + number[4] + number[6:]
    assert number[4] != number[5]
    for wrong in (one_typo, swapped, number[:-1], "XX" + number[2:], number + "0", "DS"):
        assert not is_valid_tracking_number(wrong), wrong


def test_buying_a_label_prints_a_pdf_and_logs_it(
    shipment: ShipmentRequest, fixed_now: datetime
) -> None:
    carrier = _carrier(fixed_now)
    rate = carrier.rates(shipment).rates[0]
    result = carrier.buy_label(shipment, rate)

    assert result.ok
    assert result.messages == ()
    assert result.label is not None
    label = result.label
    assert label.tracking_number == "DS123456789012347"
    assert label.rate == rate
    assert label.pdf.startswith(b"%PDF-")
    assert label.tracking_url == "https://doorstep.example/track/DS123456789012347"

    tracking = carrier.track(label.tracking_number)
    assert [event.status for event in tracking.events] == [TrackingStatus.LABEL_CREATED]
    assert tracking.events[0].at == fixed_now


def test_a_rate_from_another_carrier_is_a_bug(
    shipment: ShipmentRequest, fixed_now: datetime
) -> None:
    with pytest.raises(ValueError, match="'ups'"):
        _carrier(fixed_now).buy_label(shipment, Rate("ups", "ups_ground", 1343, "USD"))


def test_handover_at_the_counter_shows_in_tracking(
    shipment: ShipmentRequest, fixed_now: datetime
) -> None:
    log = MemoryCounterLog()
    carrier = _carrier(fixed_now, counter_log=log)
    label = carrier.buy_label(shipment, carrier.rates(shipment).rates[0]).label
    assert label is not None
    later = fixed_now + timedelta(hours=3)
    carrier.hand_over(label.tracking_number, location="Chandler Station counter", at=later)

    tracking = carrier.track(label.tracking_number)
    assert tracking.messages == ()
    assert [event.status for event in tracking.events] == [
        TrackingStatus.LABEL_CREATED,
        TrackingStatus.HANDED_OVER,
    ]
    handover = tracking.events[-1]
    assert handover.description == "Handed over at counter"
    assert handover.at == later
    assert handover.location == "Chandler Station counter"
    assert tracking.status is TrackingStatus.HANDED_OVER
    # The log is shared: another carrier object on the same log sees the same history.
    assert _carrier(fixed_now, counter_log=log).track(label.tracking_number) == tracking


def test_handing_over_a_bad_number_is_a_bug(fixed_now: datetime) -> None:
    with pytest.raises(ValueError, match="not a manual tracking number"):
        _carrier(fixed_now).hand_over("DS123456789012340")


def test_tracking_a_mistyped_or_unknown_number_is_an_answer(fixed_now: datetime) -> None:
    carrier = _carrier(fixed_now)
    mistyped = carrier.track("DS123456789012340")
    assert mistyped.events == ()
    assert [m.code for m in mistyped.messages] == ["invalid_tracking_number"]

    unknown = carrier.track(tracking_number_for(99))
    assert [m.code for m in unknown.messages] == ["tracking_number_not_found"]


def test_the_manual_carrier_is_a_carrier(fixed_now: datetime) -> None:
    carrier: Carrier = _carrier(fixed_now)
    assert isinstance(carrier, Carrier)
    assert carrier.name == "manual"
