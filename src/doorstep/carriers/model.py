"""The carrier domain's plain data: what we ask a carrier and what it answers.

These are frozen dataclasses, not SQLAlchemy rows or pydantic schemas, so a carrier can be
called from the planning service, a CLI command or a test with nothing else loaded. Units are
the project's: grams, millimetres, cents, UTC datetimes.

A carrier call returns a result that carries ``messages``: a carrier that refuses a request
(bad address, unknown service, expired credentials, a timeout) is an answer, not a crash, so the
caller can fall back to another carrier or to the counter. Exceptions are kept for bugs and for
input we should never have built (a parcel of zero grams, a naive datetime).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ServiceLevel(StrEnum):
    """How fast the package must arrive; each carrier maps it to one of its own services."""

    SAME_DAY = "same_day"
    NEXT_DAY = "next_day"
    TWO_DAY = "two_day"
    GROUND = "ground"


class TrackingStatus(StrEnum):
    """A carrier-neutral status, so the tracking page need not know every carrier's codes."""

    LABEL_CREATED = "label_created"
    HANDED_OVER = "handed_over"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Parcel:
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int

    def __post_init__(self) -> None:
        for name in ("weight_g", "length_mm", "width_mm", "height_mm"):
            value = getattr(self, name)
            # bool is an int; a True weight is a bug upstream, not one gram.
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Parcel.{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    street_lines: tuple[str, ...]
    city: str
    state: str
    postal_code: str
    country: str = "US"  # ISO 3166-1 alpha-2
    phone: str | None = None
    company: str | None = None

    def __post_init__(self) -> None:
        if not self.street_lines or not self.street_lines[0].strip():
            raise ValueError("Address.street_lines needs at least one non-empty line")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise ValueError(f"Address.country must be an ISO alpha-2 code, got {self.country!r}")


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    reference: str  # our package tracking code, printed on the label and sent to the carrier
    ship_from: Address
    ship_to: Address
    parcel: Parcel
    service_level: ServiceLevel = ServiceLevel.NEXT_DAY

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError("ShipmentRequest.reference must not be empty")


@dataclass(frozen=True, slots=True)
class Rate:
    carrier: str
    service: str  # the carrier's own service code, passed back unchanged to buy a label
    amount_cents: int
    currency: str
    estimated_days: int | None = None


@dataclass(frozen=True, slots=True)
class Label:
    carrier: str
    tracking_number: str
    pdf: bytes
    rate: Rate
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    status: TrackingStatus
    description: str
    at: datetime
    location: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("TrackingEvent.at must be timezone-aware (UTC)")


@dataclass(frozen=True, slots=True)
class CarrierMessage:
    """One thing a carrier said about a request: an error that stopped it, or a warning."""

    carrier: str
    code: str
    text: str
    level: str = "error"  # "error" or "warning"


@dataclass(frozen=True, slots=True)
class RatesResult:
    rates: tuple[Rate, ...] = ()
    messages: tuple[CarrierMessage, ...] = ()

    @property
    def cheapest(self) -> Rate | None:
        return min(self.rates, key=lambda rate: rate.amount_cents, default=None)


@dataclass(frozen=True, slots=True)
class LabelResult:
    label: Label | None = None
    messages: tuple[CarrierMessage, ...] = ()

    @property
    def ok(self) -> bool:
        return self.label is not None


@dataclass(frozen=True, slots=True)
class TrackingResult:
    tracking_number: str
    events: tuple[TrackingEvent, ...] = ()  # oldest first
    messages: tuple[CarrierMessage, ...] = field(default=())

    @property
    def status(self) -> TrackingStatus:
        return self.events[-1].status if self.events else TrackingStatus.UNKNOWN

    @property
    def delivered(self) -> bool:
        return any(event.status is TrackingStatus.DELIVERED for event in self.events)
