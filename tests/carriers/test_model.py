from __future__ import annotations

from datetime import datetime

import pytest

from doorstep.carriers.model import (
    Address,
    CarrierMessage,
    LabelResult,
    Parcel,
    Rate,
    RatesResult,
    ShipmentRequest,
    TrackingEvent,
    TrackingResult,
    TrackingStatus,
)


@pytest.mark.parametrize(
    "sizes",
    [(0, 1, 1, 1), (1, -5, 1, 1), (1, 1, 1, 0), (True, 1, 1, 1)],
)
def test_a_parcel_refuses_sizes_that_are_not_positive_integers(sizes: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        Parcel(*sizes)


def test_an_address_needs_a_street_and_an_iso_country() -> None:
    with pytest.raises(ValueError, match="street_lines"):
        Address("A", ("  ",), "Chandler", "AZ", "85224")
    with pytest.raises(ValueError, match="alpha-2"):
        Address("A", ("1 Main St",), "Chandler", "AZ", "85224", country="USA")


def test_a_request_needs_our_reference(station: Address, customer: Address) -> None:
    with pytest.raises(ValueError, match="reference"):
        ShipmentRequest(" ", station, customer, Parcel(100, 10, 10, 10))


def test_tracking_events_are_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone"):
        TrackingEvent(TrackingStatus.DELIVERED, "Delivered", datetime(2026, 11, 24, 12))


def test_results_carry_messages_and_summaries(fixed_now: datetime) -> None:
    cheap = Rate("ups", "ups_ground", 1343, "USD", 1)
    dear = Rate("ups", "ups_next_day_air", 6018, "USD", 1)
    assert RatesResult(rates=(dear, cheap)).cheapest == cheap
    assert RatesResult().cheapest is None

    refused = LabelResult(messages=(CarrierMessage("ups", "111210", "unavailable"),))
    assert not refused.ok

    empty = TrackingResult("1Z")
    assert empty.status is TrackingStatus.UNKNOWN
    assert not empty.delivered
    delivered = TrackingResult(
        "1Z",
        events=(
            TrackingEvent(TrackingStatus.IN_TRANSIT, "On its way", fixed_now),
            TrackingEvent(TrackingStatus.DELIVERED, "Delivered", fixed_now),
        ),
    )
    assert delivered.status is TrackingStatus.DELIVERED
    assert delivered.delivered
