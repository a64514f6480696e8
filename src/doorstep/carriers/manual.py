"""The built-in "manual handover" carrier: what the network uses when no carrier is configured.

The package is handed over at a counter (a partner store, a station desk) with a printed label;
no outside service is called. It prices with a flat table, numbers labels ``DS`` + 14 digits +
a Luhn check digit, and answers tracking from a counter log that the counter flow writes.

This module keeps no database: the counter log is a small protocol, so the planning service can
back it with package events while tests and demos use the in-memory one.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from doorstep.carriers.label_pdf import LabelContent, render_label
from doorstep.carriers.model import (
    CarrierMessage,
    Label,
    LabelResult,
    Rate,
    RatesResult,
    ShipmentRequest,
    TrackingEvent,
    TrackingResult,
    TrackingStatus,
)

CARRIER_NAME = "manual"
SERVICE = "counter_handover"
PREFIX = "DS"
SERIAL_DIGITS = 14  # 10^14 numbers: a random collision stays unlikely over many millions of labels


@dataclass(frozen=True, slots=True)
class ManualRates:
    """A flat price: ``base_cents`` plus ``per_kg_cents`` for every started kilogram."""

    base_cents: int = 500
    per_kg_cents: int = 100
    currency: str = "USD"
    estimated_days: int = 0  # handed over the same day

    def __post_init__(self) -> None:
        if self.base_cents < 0 or self.per_kg_cents < 0 or self.estimated_days < 0:
            raise ValueError("ManualRates values must not be negative")

    def price_cents(self, weight_g: int) -> int:
        started_kg = -(-weight_g // 1000)  # ceiling division in integers: 1 g is 1 kg
        return self.base_cents + self.per_kg_cents * started_kg


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit: catches every single-digit typo and most swaps of neighbours."""
    if not digits.isdigit():
        raise ValueError(f"Luhn needs digits, got {digits!r}")
    total = 0
    # From the right, every other digit (starting with the one next to the check digit) doubles.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def tracking_number_for(serial: int) -> str:
    if not 0 <= serial < 10**SERIAL_DIGITS:
        raise ValueError(f"serial must have at most {SERIAL_DIGITS} digits, got {serial}")
    body = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{PREFIX}{body}{luhn_check_digit(body)}"


def is_valid_tracking_number(tracking_number: str) -> bool:
    body = tracking_number[len(PREFIX) : -1]
    return (
        tracking_number.startswith(PREFIX)
        and len(tracking_number) == len(PREFIX) + SERIAL_DIGITS + 1
        and body.isdigit()
        and luhn_check_digit(body) == tracking_number[-1]
    )


def random_serial() -> int:
    return secrets.randbelow(10**SERIAL_DIGITS)


def utc_now() -> datetime:
    return datetime.now(UTC)


class CounterLog(Protocol):
    """Where the manual carrier keeps what happened to a label (printed, handed over)."""

    def record(self, tracking_number: str, event: TrackingEvent) -> None: ...

    def events(self, tracking_number: str) -> Sequence[TrackingEvent]: ...


class MemoryCounterLog:
    """A counter log for one process: demos and tests."""

    def __init__(self) -> None:
        self._events: defaultdict[str, list[TrackingEvent]] = defaultdict(list)

    def record(self, tracking_number: str, event: TrackingEvent) -> None:
        self._events[tracking_number].append(event)

    def events(self, tracking_number: str) -> Sequence[TrackingEvent]:
        return tuple(self._events.get(tracking_number, ()))


class ManualCarrier:
    def __init__(
        self,
        rates: ManualRates | None = None,
        *,
        tracking_url_template: str | None = None,
        counter_log: CounterLog | None = None,
        next_serial: Callable[[], int] = random_serial,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._rates = rates or ManualRates()
        self._tracking_url_template = tracking_url_template
        self._log: CounterLog = counter_log if counter_log is not None else MemoryCounterLog()
        self._next_serial = next_serial
        self._clock = clock

    @property
    def name(self) -> str:
        return CARRIER_NAME

    def rates(self, request: ShipmentRequest) -> RatesResult:
        rate = Rate(
            carrier=CARRIER_NAME,
            service=SERVICE,
            amount_cents=self._rates.price_cents(request.parcel.weight_g),
            currency=self._rates.currency,
            estimated_days=self._rates.estimated_days,
        )
        return RatesResult(rates=(rate,))

    def buy_label(self, request: ShipmentRequest, rate: Rate) -> LabelResult:
        if rate.carrier != CARRIER_NAME:
            # Passing another carrier's rate here is a bug in the caller, not a carrier answer.
            raise ValueError(f"rate from carrier {rate.carrier!r} given to the manual carrier")
        now = self._clock()
        tracking_number = tracking_number_for(self._next_serial())
        tracking_url = self.tracking_url(tracking_number)
        pdf = render_label(
            LabelContent(
                tracking_number=tracking_number,
                request=request,
                service_name=request.service_level.value,
                printed_at=now,
                tracking_url=tracking_url,
            )
        )
        self._log.record(
            tracking_number,
            TrackingEvent(
                status=TrackingStatus.LABEL_CREATED,
                description=f"Label printed for {request.reference}",
                at=now,
            ),
        )
        label = Label(
            carrier=CARRIER_NAME,
            tracking_number=tracking_number,
            pdf=pdf,
            rate=rate,
            tracking_url=tracking_url,
        )
        return LabelResult(label=label)

    def hand_over(
        self, tracking_number: str, *, location: str | None = None, at: datetime | None = None
    ) -> TrackingEvent:
        """Record that the counter handed the package over (called when its barcode is scanned)."""
        if not is_valid_tracking_number(tracking_number):
            raise ValueError(f"not a manual tracking number: {tracking_number!r}")
        event = TrackingEvent(
            status=TrackingStatus.HANDED_OVER,
            description="Handed over at counter",
            at=at or self._clock(),
            location=location,
        )
        self._log.record(tracking_number, event)
        return event

    def track(self, tracking_number: str) -> TrackingResult:
        # A tracking number often comes from a person typing it, so a bad one is an answer.
        if not is_valid_tracking_number(tracking_number):
            return TrackingResult(
                tracking_number=tracking_number,
                messages=(
                    CarrierMessage(
                        carrier=CARRIER_NAME,
                        code="invalid_tracking_number",
                        text="not a manual tracking number (DS, 14 digits and a check digit)",
                    ),
                ),
            )
        events = tuple(sorted(self._log.events(tracking_number), key=lambda event: event.at))
        if not events:
            return TrackingResult(
                tracking_number=tracking_number,
                messages=(
                    CarrierMessage(
                        carrier=CARRIER_NAME,
                        code="tracking_number_not_found",
                        text="no label was printed with this tracking number",
                    ),
                ),
            )
        return TrackingResult(tracking_number=tracking_number, events=events)

    def tracking_url(self, tracking_number: str) -> str | None:
        if self._tracking_url_template is None:
            return None
        return self._tracking_url_template.format(tracking_number=tracking_number)
