"""The shapes of the carrier endpoints' requests and answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from doorstep.shipments.handover import HandoverStatus

Scan = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class HandoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    tracking_numbers: Annotated[
        list[Scan], Field(min_length=1, max_length=500, description="As scanned, one per parcel")
    ]
    location: Annotated[
        str | None, Field(max_length=100, description="Where the carrier took them")
    ] = None


class ScanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a `HandoverOutcome`

    scanned: str
    status: HandoverStatus
    goes: bool = Field(description="The parcel belongs on the carrier's truck")
    package: str | None = Field(description="Our tracking code, when the number is known")
    carrier: str | None
    detail: str


class HandoverOut(BaseModel):
    handed_over: int = Field(description="Shipments this request handed over")
    refused: int = Field(description="Scans whose parcel must stay (see each scan's detail)")
    scans: list[ScanOut]
