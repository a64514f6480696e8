"""What the partner-store API takes and answers (``/v1/store/…``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doorstep.drivers.road_schemas import (
    Accuracy,
    ClientEventId,
    Latitude,
    Longitude,
    NavLinks,
    PhoneTime,
)
from doorstep.drivers.schemas import CodeSent as CodeSent
from doorstep.drivers.schemas import SignInCodeIn as SignInCodeIn
from doorstep.drivers.schemas import SignInIn as SignInIn
from doorstep.models import BlockStatus
from doorstep.network.schemas import WEEKDAYS, parse_opening_hours
from doorstep.orders.lifecycle import PackageState

Code = Annotated[str, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenOut(BaseModel):
    token: str
    staff_id: int
    store: str


class StaffOut(BaseModel):
    id: int
    name: str
    email: str


class StoreOut(BaseModel):
    """The store as its staff see it, with where its onboarding is."""

    code: str
    name: str
    address: str | None
    lat: float
    lng: float
    timezone: str
    opening_hours: dict[str, list[str]]
    closed_days: list[date]
    daily_capacity: int | None
    service_radius_m: int
    pay_per_package_cents: int
    location_checked_at: datetime | None
    onboarded_at: datetime | None
    staff: StaffOut


class LocationIn(_In):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(ge=0)] | None = None


class LocationOut(BaseModel):
    distance_m: int
    location_checked_at: datetime


class ProfileIn(_In):
    """The store's own settings (the operator sets the pay; the store accepts it)."""

    opening_hours: dict[str, list[str]] = Field(
        description='Weekly hours, local time: {"mon": ["08:00", "18:00"], …} or '
        '"mon-sat 08:00-18:00"; a day left out is closed'
    )
    closed_days: list[date] = Field(default_factory=list, description="Holidays and the like")
    daily_capacity: Annotated[int, Field(ge=1, le=2000)]
    service_radius_m: Annotated[int, Field(gt=0, le=16_093)] = Field(
        default=16_093, description="How far the staff deliver (10 miles at most, the default)"
    )
    accept_pay: bool = Field(
        default=False, description="The store accepts the pay per package the operator set"
    )

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours_from_text(cls, value: Any) -> Any:
        return parse_opening_hours(value) if isinstance(value, str) else value

    @field_validator("opening_hours")
    @classmethod
    def _hours_shape(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not value:
            raise ValueError("a store open no day of the week takes no parcels")
        for day, span in value.items():
            if day not in WEEKDAYS or len(span) != 2:
                raise ValueError(f"'{day}': expected a weekday and [open, close]")
            if time.fromisoformat(span[1]) <= time.fromisoformat(span[0]):
                raise ValueError(f"'{day}' closes before it opens")
        return value


# --- scan-in -------------------------------------------------------------------------------


class ManifestParcel(BaseModel):
    code: str
    recipient: str
    address: str
    state: PackageState
    outcome: Literal["scanned", "missing", "damaged"] | None
    scanned_at: datetime | None
    on_time: bool | None


class Compliance(BaseModel):
    """Of the parcels scanned in at this store (over the days asked), how many on time."""

    scanned: int
    on_time: int
    share: float | None  # on_time / scanned; None before any scan


class ManifestOut(BaseModel):
    store: str
    service_date: date
    status: str
    run_due_at: datetime | None  # when the morning run is planned to drop the batch
    dropped_at: datetime | None
    scan_deadline_at: datetime | None
    scanned_in_at: datetime | None
    left_to_scan: int
    parcels: list[ManifestParcel]
    back_to_station: list[BackOut]
    compliance: Compliance


class BackOut(BaseModel):
    code: str
    reason: str
    added_at: datetime


class ScanIn(_In):
    code: Code


class ScanOut(BaseModel):
    code: str
    state: PackageState
    scanned_at: datetime
    on_time: bool
    replayed: bool
    left_to_scan: int
    for_counter: bool = Field(
        default=False,
        description="Its shopper collects it here: keep it at the counter (the shopper was "
        "sent the pick-up code), not for the staff route",
    )


class CodesIn(_In):
    codes: Annotated[list[Code], Field(min_length=1, max_length=500)]
    note: Annotated[str, Field(max_length=300)] | None = None


class ReportOut(BaseModel):
    reported: list[str]
    exceptions: list[int]
    left_to_scan: int


# --- the staff route -----------------------------------------------------------------------


class RouteParcel(BaseModel):
    code: str
    state: PackageState


class RouteStop(BaseModel):
    stop_id: int
    sequence: int
    address: str
    recipient: str
    instructions: str | None
    lat: float
    lng: float
    eta_at: datetime | None
    status: Literal["to_deliver", "delivered", "at_counter"]
    parcels: list[RouteParcel]
    navigation: NavLinks
    needs_photo: bool


class RouteOut(BaseModel):
    store: str
    service_date: date
    stops: list[RouteStop]
    distance_m: int
    duration_s: int
    started: bool = Field(
        description="The staff set off (POST /v1/store/route/start): every parcel still to "
        "deliver is out for delivery, its shopper told, with an ETA; false again when a parcel "
        "scanned in since waits to be sent"
    )


class StaffDoorIn(_In):
    """A door on the staff route, as the phone sends it (a form with the photo)."""

    # A form model sees the files too: ignore them rather than refuse them.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    client_event_id: Annotated[str, Field(min_length=8, max_length=80)]
    at: datetime
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lng: Annotated[float, Field(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, Field(ge=0)] | None = None
    note: Annotated[str, Field(max_length=500)] | None = None
    confirm_far: bool = False


class StaffAttemptIn(StaffDoorIn):
    reason: Literal["no_one_home", "no_access", "unsafe", "refused", "wrong_address", "other"]


class DoorOut(BaseModel):
    stop_id: int
    outcome: Literal["delivered", "at_counter"]
    replayed: bool
    codes: list[str]
    photo_key: str | None
    distance_m: int | None
    flagged: bool


# --- the counter ---------------------------------------------------------------------------


class CounterParcelOut(BaseModel):
    code: str
    recipient: str
    ready_at: datetime
    collect_by: datetime
    attempts: int
    locked: bool


class HandOverIn(_In):
    """By the shopper's six-digit code (with the parcel's label code), or by the barcode the
    shopper shows."""

    package: Code | None = None
    pickup_code: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None
    barcode: Code | None = None


class HandOverOut(BaseModel):
    code: str
    recipient: str
    state: PackageState
    handed_over_at: datetime
    how: Literal["code", "barcode"]


# --- the statement -------------------------------------------------------------------------


class StatementLine(BaseModel):
    day: date
    at: datetime
    code: str
    what: Literal["delivered", "handed_over"]
    pay_cents: int


class StatementOut(BaseModel):
    store: str
    start: date
    end: date
    lines: list[StatementLine]
    delivered: int
    handed_over: int
    total_cents: int


ManifestOut.model_rebuild()


class UnexpectedIn(_In):
    code: Code
    note: Annotated[str, Field(max_length=300)] | None = None


class DropOut(BaseModel):
    store: str
    service_date: date
    dropped_at: datetime
    scan_deadline_at: datetime


# --- the partner run: the driver's drop and what rides back ---------------------------------


class GoingBack(BaseModel):
    code: str = Field(description="A parcel's tracking code, or a shopper's return code")
    reason: str = Field(description="uncollected, damaged, unexpected, or return")
    since: datetime


class _Position(_In):
    """Where the driver's phone was (the drivers' own fields)."""

    lat: Latitude | None = None
    lng: Longitude | None = None
    accuracy_m: Accuracy | None = None


class RunDropIn(_Position):
    at: PhoneTime
    client_event_id: ClientEventId


class RunDropOut(BaseModel):
    block_id: int
    block_status: BlockStatus
    stop_id: int
    store: str
    dropped: list[str] = Field(description="The batch handed over (the clerk scans it in)")
    completed_at: datetime | None
    going_back: list[GoingBack] = Field(description="What still waits here for the run back")
    next_stop_id: int | None
    replayed: bool


class CollectIn(_Position):
    code: Code
    at: PhoneTime
    client_event_id: ClientEventId


class CollectOut(BaseModel):
    code: str
    state: PackageState | None = Field(description="picked_up; null for a shopper's return")
    block_id: int
    store: str
    left_here: list[GoingBack]
    replayed: bool


class CounterReturnIn(_In):
    code: Code


class CounterReturnOut(BaseModel):
    code: str
    store: str
    dropped_at: datetime
    replayed: bool
