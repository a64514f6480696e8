"""The twin's national carrier: labels like the built-in counter carrier's, and deliveries
reported when the simulated world says the parcel arrived (after its transit time).

It is a `doorstep.carriers.base.Carrier`, so the label run, the counter hand-over and the
tracking refresh are the real services (`doorstep.shipments`), unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from doorstep.carriers.manual import ManualRates, tracking_number_for
from doorstep.carriers.model import (
    Label,
    LabelResult,
    Rate,
    RatesResult,
    ShipmentRequest,
    TrackingEvent,
    TrackingResult,
    TrackingStatus,
)

NAME = "twin"
# A label's bytes: the twin prints nothing (the real counter carrier renders a 4×6 PDF).
PDF = b"%PDF-1.4\n% doorstep twin: a simulated label\n%%EOF\n"


class TwinCarrier:
    def __init__(self, seed: int, clock: Callable[[], datetime]) -> None:
        self._serials = random.Random(f"{seed}:labels")
        self._clock = clock
        self._rates = ManualRates()
        self.arrived: set[str] = set()  # tracking numbers the world has just delivered
        self.taken_at: dict[str, datetime] = {}  # tracking number → when it was handed over

    @property
    def name(self) -> str:
        return NAME

    def rates(self, request: ShipmentRequest) -> RatesResult:
        rate = Rate(
            carrier=NAME,
            service="ground",
            amount_cents=self._rates.price_cents(request.parcel.weight_g),
            currency="USD",
            estimated_days=0,
        )
        return RatesResult(rates=(rate,))

    def buy_label(self, request: ShipmentRequest, rate: Rate) -> LabelResult:
        number = tracking_number_for(self._serials.randrange(10**14))
        return LabelResult(label=Label(carrier=NAME, tracking_number=number, pdf=PDF, rate=rate))

    def track(self, tracking_number: str) -> TrackingResult:
        now = self._clock()
        if tracking_number in self.arrived:
            event = TrackingEvent(TrackingStatus.DELIVERED, "Delivered", now, "front door")
        else:
            # Its one scan so far, as a carrier reports it: when it took the parcel, not each
            # time it is asked.
            event = TrackingEvent(
                TrackingStatus.IN_TRANSIT, "In transit", self.taken_at.get(tracking_number, now)
            )
        return TrackingResult(tracking_number=tracking_number, events=(event,))
