"""The shapes of the driver's day on the road: check-in, scans, the stop list, deliveries with
their proof, failed attempts, returns, earnings and standing.

A position's ``lat`` and ``lng`` may be left out (the phone has no fix): the service answers
``position_required`` where it needs one, so the app can tell "no GPS" from a malformed body.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from doorstep.drivers.proof import ProofKind, ProofLevel
from doorstep.drivers.standing import Tier
from doorstep.models import BlockStatus, ReturnStatus, StopKind, StopStatus
from doorstep.orders.lifecycle import PackageState

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(ge=0, le=100_000, description="Metres (the phone's estimate)")]
TrackingCode = Annotated[
    str, Field(min_length=1, max_length=40, description="The label's barcode: a tracking code")
]
ClientEventId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        description="The phone's own id for this action: a re-sent request with the same id "
        "is answered as the first one was",
    ),
]
PhoneTime = Annotated[AwareDatetime, Field(description="When it happened, on the phone (ISO)")]
Note = Annotated[str, Field(max_length=500)]


class _Position(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lat: Latitude | None = None
    lng: Longitude | None = None
    accuracy_m: Accuracy | None = None


class CheckInIn(_Position):
    at: PhoneTime


class CheckInOut(BaseModel):
    block_id: int
    status: BlockStatus
    checked_in_at: datetime
    on_time: bool = Field(description="Inside the arrival slot (or by the start without one)")
    late_by_s: int = Field(description="Seconds after the slot closed; 0 when on time")
    distance_m: int = Field(description="From the start node when checking in")
    to_scan: int = Field(description="Parcels to scan at the start node")
    replayed: bool = Field(description="True when the block was already checked in")


class ScanIn(_Position):
    code: TrackingCode
    at: PhoneTime
    client_event_id: ClientEventId


class ScanOut(BaseModel):
    code: str
    state: PackageState
    block_id: int
    pickup_stop_id: int | None = Field(description="The store's stop; null at the start node")
    scanned_at: datetime
    left_to_scan: int = Field(description="Parcels of this pickup still to scan")
    replayed: bool = Field(description="True when this parcel had already been scanned")


class MissingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        # `_something` in the schema: some codes, or the rest of the pickup.
        json_schema_extra={
            "anyOf": [
                {"required": ["codes"], "properties": {"codes": {"minItems": 1}}},
                {"required": ["rest_of_pickup"], "properties": {"rest_of_pickup": {"const": True}}},
            ]
        },
    )

    codes: Annotated[list[TrackingCode], Field(max_length=500)] = Field(
        default_factory=list, description="Parcels not found at the pickup"
    )
    rest_of_pickup: bool = Field(
        default=False,
        description="Finish loading: every parcel of this pickup not scanned yet is missing",
    )
    stop_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="With rest_of_pickup: the store's stop; null: the start node",
    )
    note: Note | None = None

    @model_validator(mode="after")
    def _something(self) -> MissingIn:
        if not self.codes and not self.rest_of_pickup:
            raise ValueError("give the codes of the missing parcels, or rest_of_pickup")
        return self


class MissingOut(BaseModel):
    reported: list[str] = Field(description="Parcels now missing, off the block")
    already_reported: list[str] = Field(
        default_factory=list,
        description="Parcels this block had reported missing already (the report sent again)",
    )
    skipped_stops: list[int] = Field(description="Stops left without a parcel")
    exceptions: list[int] = Field(description="The operator's exceptions opened")
    stop_count: int
    package_count: int


class DepartIn(_Position):
    at: PhoneTime | None = None


class DepartOut(BaseModel):
    block_id: int
    out_for_delivery: list[str] = Field(description="Parcels now on their way")
    next_stop_id: int | None
    next_eta_at: datetime | None


class NavLinks(BaseModel):
    geo: str = Field(description="geo: URI (Android picks the navigation app)")
    google: str
    apple: str


class ParcelOut(BaseModel):
    code: str
    state: PackageState
    recipient: str


class ProofNeeds(BaseModel):
    photo: ProofLevel
    signature: ProofLevel
    pin: ProofLevel
    scan: ProofLevel


class ReturnAtDoor(BaseModel):
    """A shopper's return to collect at this door (a ``pickup`` stop with no store)."""

    code: str = Field(description="The return's code: the shopper shows it, the driver scans it")
    recipient: str
    items: list[dict[str, object]] = Field(description="What comes back: sku and quantity")
    collected: bool


class ItineraryStop(BaseModel):
    id: int
    sequence: int
    kind: StopKind
    status: StopStatus
    site: str | None = Field(description="The store's code at a pickup")
    name: str | None = Field(description="The store's name at a pickup")
    address: str
    lat: float
    lng: float
    recipients: list[str]
    delivery_instructions: list[str]
    package_count: int
    parcels: list[ParcelOut]
    window_start: datetime | None
    window_end: datetime | None
    planned_arrival_at: datetime | None
    eta_at: datetime | None = Field(description="Re-timed after every step of the driver")
    arrived_at: datetime | None
    completed_at: datetime | None
    proof: ProofNeeds | None = Field(description="What the door needs (deliveries)")
    navigation: NavLinks
    returns: list[ReturnAtDoor] = Field(
        default_factory=list, description="A door pickup: the shoppers' returns to collect here"
    )
    trip: int = Field(default=1, description="Which trip (car load) of the block it is on")
    reload: bool = Field(
        default=False,
        description="Back at the station to load the next trip: scan its parcels here",
    )


class StartOut(BaseModel):
    code: str
    name: str
    address: str | None
    lat: float
    lng: float
    navigation: NavLinks
    to_scan: list[str] = Field(description="Parcels loaded here still to scan")
    parcels: int = Field(description="Parcels loaded here")


class ItineraryOut(BaseModel):
    block_id: int
    status: BlockStatus
    starts_at: datetime
    ends_at: datetime
    arrival_opens_at: datetime | None = Field(description="The check-in slot")
    arrival_closes_at: datetime | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    return_due_at: datetime | None
    station: str = Field(description="Where undelivered parcels go back")
    pay_cents: int
    stop_count: int
    package_count: int
    start: StartOut
    stops: list[ItineraryStop]
    trips: int = Field(
        default=1, description="Car loads: more than one when the block comes back to reload"
    )
    returns_in_car: list[str] = Field(
        default_factory=list,
        description="The shoppers' returns collected (at a store or a door), for the station",
    )


class ProofOut(BaseModel):
    proof_id: int
    code: str
    outcome: str
    reason: str | None
    photo_key: str | None
    signature_key: str | None
    pin_checked: bool
    distance_m: int | None
    flagged: bool
    happened_at: datetime


class DeliveryIn(_Position):
    """The form fields of a delivery (the photo and signature are files beside them)."""

    # A form model sees the files too: ignore them rather than refuse them.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    codes: list[TrackingCode] | None = Field(
        default=None,
        description="The parcels handed over, as scanned at the door; default: every parcel "
        "of the stop still to deliver",
    )
    at: PhoneTime
    client_event_id: ClientEventId
    pin: Annotated[str, Field(max_length=12)] | None = None
    confirm_far: bool = Field(
        default=False, description="Deliver although the phone is far from the address"
    )
    confirm_without: list[ProofKind] = Field(
        default_factory=list, description="Warned proofs the driver confirms going without"
    )
    note: Note | None = None


class DeliveryOut(BaseModel):
    block_id: int
    stop_id: int
    replayed: bool = Field(description="True when this client_event_id was already accepted")
    proofs: list[ProofOut]
    skipped_proofs: list[ProofKind] = Field(description="Warned proofs confirmed as skipped")
    stop_status: StopStatus
    block_status: BlockStatus


class AttemptReason(StrEnum):
    NO_ACCESS = "no_access"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    UNSAFE_LOCATION = "unsafe_location"
    DAMAGED = "damaged"
    WRONG_ADDRESS = "wrong_address"
    BUSINESS_CLOSED = "business_closed"


class AttemptIn(_Position):
    """The form fields of an attempt (a photo is a file beside them)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: AttemptReason
    at: PhoneTime
    client_event_id: ClientEventId
    note: Note | None = None


class AttemptedParcel(BaseModel):
    code: str
    attempts: int
    next: str = Field(description="retry (a later block) or merchant (attempts used up)")


class AttemptOut(BaseModel):
    block_id: int
    stop_id: int
    replayed: bool
    reason: AttemptReason
    proofs: list[ProofOut]
    parcels: list[AttemptedParcel]
    stop_status: StopStatus
    block_status: BlockStatus


class ReturnWhen(StrEnum):
    NOW = "now"
    NEXT_MORNING = "next_morning"


class ReturnPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: ReturnWhen = Field(
        description="now: drive back now; next_morning: bring them by 10:00 tomorrow"
    )


class ReturnPlanOut(BaseModel):
    block_id: int
    status: BlockStatus
    return_due_at: datetime
    reminder_at: datetime | None
    to_return: list[str]


class ReturnScanIn(_Position):
    code: TrackingCode
    at: PhoneTime
    client_event_id: ClientEventId


class StationReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: TrackingCode


class ReturnScanOut(BaseModel):
    code: str
    state: PackageState | None = Field(
        description="ready_for_pickup (another try) or returned_to_merchant; null for a "
        "shopper's return"
    )
    return_status: ReturnStatus | None = Field(
        default=None, description="A shopper's return a partner run brought back: received"
    )
    block_id: int
    block_status: BlockStatus
    left_to_return: list[str]
    replayed: bool


class AdjustmentOut(BaseModel):
    amount_cents: int
    reason: str
    created_at: datetime


class BlockEarnings(BaseModel):
    block_id: int
    date: date
    start: str
    starts_at: datetime
    ends_at: datetime
    status: BlockStatus
    hours: float = Field(description="The block's paid hours")
    miles: float = Field(description="The planned distance")
    pay_cents: int
    adjustments: list[AdjustmentOut]
    total_cents: int = Field(description="Pay and adjustments")
    vehicle_cost_cents: int = Field(description="Miles at the per-mile cost of a car")
    net_cents: int
    pay_per_hour_cents: int
    net_per_hour_cents: int


class EarningsOut(BaseModel):
    week: str = Field(description="ISO week, YYYY-Www")
    starts_on: date
    ends_on: date
    vehicle_cost_cents_per_mile: float
    blocks: list[BlockEarnings]
    hours: float
    miles: float
    pay_cents: int
    adjustments_cents: int
    total_cents: int
    vehicle_cost_cents: int
    net_cents: int
    pay_per_hour_cents: int
    net_per_hour_cents: int


class StandingEventOut(BaseModel):
    at: datetime
    kind: str = Field(
        description="completed, on_time_check_in, late_check_in, forfeit, no_show, "
        "failed_attempt or flagged_delivery"
    )
    points: int = Field(description="What it added to or took from the standing")
    counted: bool = Field(description="False: an excused day, or beyond what counts")
    excused: bool
    block_id: int | None
    detail: str


class TierOut(BaseModel):
    tier: Tier
    lowest: int = Field(description="The lowest standing of the tier")


class StandingOut(BaseModel):
    standing: int = Field(description="0 to 100; a new driver starts at the base")
    tier: Tier
    tiers: list[TierOut] = Field(description="Every tier with its threshold, best first")
    base: int
    since: datetime = Field(description="The events of the last four weeks count")
    points: dict[str, int] = Field(description="What each count added or took")
    counts: dict[str, int]
    events: list[StandingEventOut] = Field(description="Newest first")


class DoorMissReason(StrEnum):
    """Why a return was not collected at the door."""

    NOBODY_HOME = "nobody_home"
    NOT_READY = "not_ready"  # the shopper had not packed it
    REFUSED = "refused"  # the shopper changed their mind at the door


class DoorMissIn(_Position):
    reason: DoorMissReason
    at: PhoneTime
    client_event_id: ClientEventId


class DoorReturnOut(BaseModel):
    """What a door pickup stop did: a return collected, or the stop given up."""

    code: str | None = Field(description="The return collected; null when the stop failed")
    block_id: int
    block_status: BlockStatus
    stop_id: int
    stop_status: StopStatus
    again_from: date | None = Field(
        default=None, description="A failed stop: the day the return may be collected again"
    )
    left_here: list[str] = Field(description="Returns still to collect at this door")
    replayed: bool
