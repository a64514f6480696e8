"""The shapes of the planning endpoints' requests and answers."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import CarrierShipmentStatus, PlanStatus, StopKind


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    station: Annotated[str, Field(description="Station code")]
    date: date
    drivers: Annotated[int, Field(ge=0, le=1000)] = 30
    mall_drivers: Annotated[int, Field(ge=0, le=1000)] = 6
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    seed: int = 1
    force: bool = False
    at: Annotated[
        time | None,
        Field(
            description="A same-day dispatch moment (station time, HH:MM): plan the orders "
            "placed by then and hold back the same-day parcels better sent with a later wave"
        ),
    ] = None


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a `plan_views.BlockView`

    id: int
    start: str
    starts_at: datetime
    ends_at: datetime
    stops: int
    packages: int
    distance_m: int
    pay_cents: int
    status: str


class ParcelOut(BaseModel):
    # Read straight from `plan_views`' dataclasses: the same fields, typed for the schema.
    model_config = ConfigDict(from_attributes=True)

    package: str = Field(description="Tracking code")
    recipient: str
    address: str


class StopOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    kind: StopKind
    site: str | None = Field(description="The store's code at a pickup")
    address: str
    lat: float
    lng: float
    planned_arrival_at: datetime | None
    service_s: int
    parcels: list[ParcelOut]
    trip: int = Field(description="Which of the block's trips (car loads) the stop is on")
    reload: bool = Field(
        description="Back at the station to load the next trip (a pickup with its own scans)"
    )


class TripOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a `plan_views.TripView`

    trip: int
    loaded_at: str = Field(description="Where the trip is loaded: the start, or the station")
    departs_at: datetime | None = Field(description="Planned departure with this load")
    stops: list[int] = Field(description="Sequences of its stops, the reload included")
    parcels: int = Field(description="Parcels delivered on this trip")


class BlockDetailOut(BlockOut):
    model_config = ConfigDict(from_attributes=True)  # read from a `plan_views.BlockDetail`

    itinerary: list[StopOut] = Field(description="The stops in driving order")
    trips: list[TripOut] = Field(
        description="Its car loads: one, or more when the driver comes back to reload"
    )


class ManifestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    store: str = Field(description="Partner store code")
    distance_m: int = Field(description="The staff route's estimated length")
    parcels: list[ParcelOut] = Field(description="In the staff route's order")


class CarrierShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    package: str
    service: str
    rate_cents: int = Field(description="The planner's estimate")
    label_cents: int | None = Field(description="What the label cost, once bought")
    carrier: str
    status: CarrierShipmentStatus
    tracking_number: str | None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a `plan_views.PlanView`

    id: int
    station: str
    date: date
    status: PlanStatus
    created_at: datetime
    new_plan: bool = Field(description="False when the wave had not changed since this plan")
    totals: dict[str, Any]
    unassigned: list[dict[str, Any]]
    held: list[dict[str, Any]] = Field(
        description="Same-day parcels held for a later wave (plans made at a dispatch moment)"
    )
    decisions: list[dict[str, Any]]
    blocks: list[BlockOut] = Field(
        description="Stops in order: GET /v1/plans/{plan_id}/blocks/{block_id}"
    )
    manifests: list[ManifestOut]
    carrier_shipments: list[CarrierShipmentOut]
