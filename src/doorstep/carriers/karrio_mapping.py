"""Pure mapping between our carrier model and the Karrio SDK's unified model, both ways.

No I/O here: every function takes values and returns values, so each mapping is tested on its
own and the client in ``karrio_adapter`` stays a few lines per call. Karrio speaks floats in
major units (dollars, kilograms, centimetres); we speak integers (cents, grams, millimetres),
and the conversions happen only in this module.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import karrio.core.models as km  # type: ignore[import-untyped]

from doorstep.carriers.model import (
    Address,
    CarrierMessage,
    Label,
    Parcel,
    Rate,
    ServiceLevel,
    ShipmentRequest,
    TrackingEvent,
    TrackingStatus,
)

# Karrio's normalised tracking statuses (the names of each connector's TrackingStatus enum).
_STATUSES: Mapping[str, TrackingStatus] = {
    "pending": TrackingStatus.LABEL_CREATED,
    "picked_up": TrackingStatus.HANDED_OVER,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "ready_for_pickup": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "on_hold": TrackingStatus.EXCEPTION,
    "delivery_failed": TrackingStatus.EXCEPTION,
    "delivery_delayed": TrackingStatus.EXCEPTION,
    "return_to_sender": TrackingStatus.EXCEPTION,
    "cancelled": TrackingStatus.EXCEPTION,
}


# --- ours → Karrio ----------------------------------------------------------------------------


def to_karrio_address(address: Address) -> Any:
    lines = [line for line in address.street_lines if line.strip()]
    return km.Address(
        person_name=address.name,
        company_name=address.company,
        address_line1=lines[0],
        address_line2=", ".join(lines[1:]) or None,
        city=address.city,
        state_code=address.state,
        postal_code=address.postal_code,
        country_code=address.country,
        phone_number=address.phone,
        # Same-day network: the destination is a home unless it names a company.
        residential=address.company is None,
    )


def to_karrio_parcel(parcel: Parcel, reference: str) -> Any:
    return km.Parcel(
        weight=parcel.weight_g / 1000,
        weight_unit="KG",
        length=parcel.length_mm / 10,
        width=parcel.width_mm / 10,
        height=parcel.height_mm / 10,
        dimension_unit="CM",
        reference_number=reference,
    )


def to_rate_request(request: ShipmentRequest, services: Iterable[str] = ()) -> Any:
    return km.RateRequest(
        shipper=to_karrio_address(request.ship_from),
        recipient=to_karrio_address(request.ship_to),
        parcels=[to_karrio_parcel(request.parcel, request.reference)],
        services=list(services),
        reference=request.reference,
    )


def to_shipment_request(request: ShipmentRequest, rate: Rate) -> Any:
    return km.ShipmentRequest(
        service=rate.service,
        shipper=to_karrio_address(request.ship_from),
        recipient=to_karrio_address(request.ship_to),
        parcels=[to_karrio_parcel(request.parcel, request.reference)],
        reference=request.reference,
        label_type="PDF",
    )


def to_tracking_request(tracking_number: str) -> Any:
    return km.TrackingRequest(tracking_numbers=[tracking_number])


def services_for(level: ServiceLevel, service_codes: Mapping[ServiceLevel, str]) -> list[str]:
    code = service_codes.get(level)
    return [code] if code else []


# --- Karrio → ours ----------------------------------------------------------------------------


def to_cents(amount: float | str | None) -> int:
    """Major units to integer cents, rounding half up (the way a carrier's invoice rounds)."""
    try:
        value = Decimal(str(amount if amount is not None else 0))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {amount!r}") from error
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_rate_details(details: Any) -> Rate:
    return Rate(
        carrier=str(details.carrier_name),
        service=str(details.service),
        amount_cents=to_cents(details.total_charge),
        currency=str(details.currency or "USD"),
        estimated_days=int(details.transit_days) if details.transit_days is not None else None,
    )


def from_message(message: Any, default_carrier: str) -> CarrierMessage:
    return CarrierMessage(
        carrier=str(getattr(message, "carrier_name", None) or default_carrier),
        code=str(getattr(message, "code", None) or "carrier_error"),
        text=str(getattr(message, "message", None) or ""),
        level=str(getattr(message, "level", None) or "error"),
    )


def from_messages(
    messages: Iterable[Any] | None, default_carrier: str
) -> tuple[CarrierMessage, ...]:
    return tuple(from_message(message, default_carrier) for message in messages or ())


def label_pdf(details: Any) -> bytes | None:
    """The label document as PDF bytes, or None when the carrier sent something else (ZPL)."""
    encoded = getattr(details.docs, "label", None) if details.docs is not None else None
    if not encoded:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(b"%PDF") else None


def from_shipment_details(
    details: Any, rate: Rate, pdf: bytes, tracking_url: str | None = None
) -> Label:
    # The carrier may have re-priced at purchase; the price on the label is the one charged.
    selected = getattr(details, "selected_rate", None)
    charged = from_rate_details(selected) if selected is not None and selected.service else rate
    return Label(
        carrier=str(details.carrier_name),
        tracking_number=str(details.tracking_number),
        pdf=pdf,
        rate=charged,
        tracking_url=tracking_url,
    )


def tracking_status(karrio_status: str | None) -> TrackingStatus:
    return _STATUSES.get(karrio_status or "", TrackingStatus.UNKNOWN)


def event_time(event: Any) -> datetime:
    """When the event happened, in UTC.

    Karrio gives an ISO ``timestamp`` when it can, else a date and a time. Carriers report the
    local time of the scan without a zone and Karrio marks it UTC as is; we keep its reading,
    so times may be off by the scan location's offset (the order of events stays right).
    """
    if getattr(event, "timestamp", None):
        parsed = datetime.fromisoformat(str(event.timestamp).replace("Z", "+00:00"))
    else:
        day = datetime.strptime(str(event.date), "%Y-%m-%d")
        clock = _parse_clock(getattr(event, "time", None))
        parsed = day.replace(hour=clock[0], minute=clock[1])
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_clock(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 0
    # Karrio writes "14:32 PM" (a 24-hour clock with a suffix); carriers may send "02:32 PM".
    for fmt in ("%I:%M %p", "%H:%M %p", "%H:%M:%S", "%H:%M"):
        try:
            parsed = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return parsed.hour, parsed.minute
    return 0, 0


def from_tracking_details(details: Any) -> tuple[TrackingEvent, ...]:
    events = [
        TrackingEvent(
            status=tracking_status(getattr(event, "status", None)),
            description=str(event.description or event.code or ""),
            at=event_time(event),
            location=event.location or None,
        )
        for event in details.events or ()
    ]
    # Karrio lists the newest first (as carriers do); ours are oldest first.
    return tuple(sorted(events, key=lambda event: event.at))
