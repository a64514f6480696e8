"""What every carrier offers the planning service.

A structural ``Protocol``, so a carrier is any object with these methods (the built-in manual
handover, the Karrio adapter, a fake in a test) and needs no base class from us.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from doorstep.carriers.model import LabelResult, Rate, RatesResult, ShipmentRequest, TrackingResult


@runtime_checkable
class Carrier(Protocol):
    @property
    def name(self) -> str:
        """Short stable name stored with a label ("manual", "ups", ...)."""
        ...

    def rates(self, request: ShipmentRequest) -> RatesResult:
        """What the carrier would charge; carrier-side refusals come back as messages."""
        ...

    def buy_label(self, request: ShipmentRequest, rate: Rate) -> LabelResult:
        """Buy (or print) the label for one of the rates this carrier returned."""
        ...

    def track(self, tracking_number: str) -> TrackingResult:
        """The package's events, oldest first."""
        ...
