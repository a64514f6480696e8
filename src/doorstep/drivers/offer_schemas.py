"""The shapes of offers, held blocks, forfeits and the app's position reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import BlockStatus, OfferMode, OfferStatus


class StartOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str = Field(description="station, mall, mall_store or local_store")
    address: str | None
    lat: float
    lng: float


class ArrivalSlotOut(BaseModel):
    """When to arrive at the start: staggered, so drivers don't queue at the door."""

    model_config = ConfigDict(from_attributes=True)

    opens_at: datetime
    closes_at: datetime


class BlockTermsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    block_id: int
    start: StartOut = Field(description="Where the block starts: a station, a store or a mall")
    starts_at: datetime
    ends_at: datetime
    hours: float
    arrival_slot: ArrivalSlotOut | None
    pay_cents: int
    pay_per_hour_cents: int
    stop_count: int
    package_count: int
    estimated_distance_m: int
    estimated_miles: float
    vehicle_cost_cents: int = Field(
        description="The estimated miles at the network's cost per mile of a car"
    )
    net_pay_per_hour_cents: int = Field(description="Pay less the vehicle cost, per hour")
    pay_raised_from_cents: int | None = Field(
        default=None,
        description="What the block paid before its pay was raised (nobody had taken it as "
        "its start neared); null if never raised",
    )


class OfferOut(BlockTermsOut):
    id: int = Field(description="The offer's id (stable: accept and decline take it)")
    status: OfferStatus = Field(description="offered or interested in the list; any on its own")
    mode: OfferMode
    round: int | None = Field(description="The round on now (rounds mode only)")
    round_closes_at: datetime | None
    expires_at: datetime = Field(description="Until when it can be accepted")
    fairness: dict[str, Any] | None = Field(
        description="The key of the last round this offer was in: hours already booked that "
        "week, standing, the draw, its rank among the interested drivers, and whether it won"
    )


class AcceptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    offer_id: int
    block_id: int
    status: Literal["accepted", "interested"] = Field(
        description="accepted: the block is yours; interested: the round's close decides"
    )
    mode: OfferMode
    round: int | None
    round_closes_at: datetime | None = Field(description="When the round is decided")
    arrival_slot: ArrivalSlotOut | None = Field(description="When to be at the start (accepted)")


class HeldBlockOut(BlockTermsOut):
    status: BlockStatus
    accepted_at: datetime | None
    forfeit_until: datetime = Field(description="The last moment the block can be given back")


class ForfeitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    block_id: int
    forfeited_at: datetime
    mode: OfferMode = Field(description="How the block is on offer again")
    round: int | None
    round_closes_at: datetime | None


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = None
