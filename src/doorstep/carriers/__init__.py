"""Carrier fallback: rates, labels and tracking from an outside carrier or the counter.

Pure of our database: it works on the plain dataclasses of ``model``; the planning service
persists what it needs. ``carrier_from_settings`` picks the carrier; the Karrio SDK is loaded
only when a Karrio carrier is configured.
"""

from doorstep.carriers.base import Carrier
from doorstep.carriers.manual import ManualCarrier, ManualRates
from doorstep.carriers.model import (
    Address,
    CarrierMessage,
    Label,
    LabelResult,
    Parcel,
    Rate,
    RatesResult,
    ServiceLevel,
    ShipmentRequest,
    TrackingEvent,
    TrackingResult,
    TrackingStatus,
)
from doorstep.carriers.settings import CarrierSettings, carrier_from_settings

__all__ = [
    "Address",
    "Carrier",
    "CarrierMessage",
    "CarrierSettings",
    "Label",
    "LabelResult",
    "ManualCarrier",
    "ManualRates",
    "Parcel",
    "Rate",
    "RatesResult",
    "ServiceLevel",
    "ShipmentRequest",
    "TrackingEvent",
    "TrackingResult",
    "TrackingStatus",
    "carrier_from_settings",
]
