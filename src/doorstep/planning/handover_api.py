"""Operator endpoint: the counter hands labelled parcels over to their carrier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from doorstep.api.deps import DbSession, NotAuthenticated, Now, require_operator
from doorstep.api.errors import error_responses
from doorstep.planning.handover import HandoverStatus, hand_over

router = APIRouter(
    prefix="/v1/carrier",
    tags=["carrier"],
    dependencies=[Depends(require_operator)],
    responses=error_responses(NotAuthenticated),
)

Scan = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class HandoverRequest(BaseModel):
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


@router.post(
    "/handovers",
    summary="Hand labelled parcels over to their carrier (one answer per scan)",
)
def create_handover(body: HandoverRequest, session: DbSession, now: Now) -> HandoverOut:
    # Every scan is answered in the response; the request's commit, before the answer leaves,
    # records those handed over together with their package events.
    outcomes = hand_over(session, body.tracking_numbers, at=now, location=body.location)
    return HandoverOut(
        handed_over=sum(o.status is HandoverStatus.HANDED_OVER for o in outcomes),
        refused=sum(not o.goes for o in outcomes),
        scans=[ScanOut.model_validate(o) for o in outcomes],
    )
