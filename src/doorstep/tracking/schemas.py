"""What the tracking page shows (and what each live update pushes), and the returns API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import ReturnStatus
from doorstep.orders.lifecycle import PackageState


class TimelineStep(BaseModel):
    label: str
    detail: str | None = None
    at: datetime | None = None
    at_text: str | None = None  # in the serving node's time zone: "Tue 24 Nov, 10:10 am"
    done: bool = True  # False: a step still to come


class EtaOut(BaseModel):
    summary: str  # "3 stops away, about 12 minutes"
    window_text: str  # "11:05-11:35 am"
    earliest: datetime
    latest: datetime
    stops_away: int
    minutes_away: int


class CounterPickup(BaseModel):
    """A parcel waiting at a partner store's counter: what the shopper needs to collect it.

    Read from the parcel's counter row (see `tracking.service.counter_pickup_of`); the code
    and barcode are the shopper's secret, shown only behind the tracking token."""

    store_name: str
    store_address: str | None = None
    store_hours: str | None = None
    code: str | None = None  # the 6-digit pick-up code
    barcode: str | None = None  # the same as a barcode the clerk scans: "DS…"
    pickup_by: str | None = None


class CounterOffer(BaseModel):
    """A partner store's counter the shopper may choose after a failed delivery."""

    store_code: str
    store_name: str
    store_address: str | None = None
    store_hours: str
    ready_text: str  # "Ready tomorrow from 10 am"
    ready_by: datetime


class ReturnOut(BaseModel):
    code: str = Field(description="What the shopper shows at a counter or gives the driver")
    status: ReturnStatus
    requested_at: datetime
    received_at: datetime | None
    items: list[dict[str, object]]
    method: str = Field(description="counter or door")
    door_from: date | None = Field(
        default=None, description="A door collection: the first day a driver may come"
    )
    door_planned_for: date | None = Field(
        default=None, description="A door collection: the day of the block that comes"
    )
    door_attempts: int = 0


class ReturnOffer(BaseModel):
    allowed: bool
    until_text: str | None = None  # the last day, in the node's time zone
    why_not: str | None = None
    # The first day a driver can collect it from the door; None: counters only.
    door_text: str | None = None
    door_hours_text: str | None = None  # "between 9 am and 9 pm"


class TrackingView(BaseModel):
    """The tracking page of one package, rendered on the server and pushed as JSON."""

    merchant: str
    color: str
    text_color: str
    recipient: str  # the first name
    state: PackageState
    headline: str  # "Out for delivery"
    subline: str | None = None
    promised_text: str | None = None
    delayed_to: str | None = None  # the new date, when the promise slipped
    eta: EtaOut | None = None
    timeline: list[TimelineStep]
    has_photo: bool = False
    destination: str
    instructions: str | None = None
    instructions_editable: bool = False
    counter: CounterPickup | None = None
    # After a failed delivery: the counters the shopper may collect it at instead.
    counter_offers: list[CounterOffer] = Field(default_factory=list)
    return_request: ReturnOut | None = None
    return_offer: ReturnOffer | None = None


class ReturnReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    node: str = Field(description="The code of the station or partner store that received it")


class ReturnReceivedOut(BaseModel):
    code: str
    status: ReturnStatus
    received_at: datetime
    node: str
    restocked: list[dict[str, object]]
