"""Operator endpoint: the counter hands labelled parcels over to their carrier."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from doorstep.api.deps import DbSession, NotAuthenticated, Now
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.ops.policy import Action, ActionNotAllowed
from doorstep.shipments.handover import HandoverStatus, hand_over
from doorstep.shipments.schemas import HandoverOut, HandoverRequest, ScanOut

router = APIRouter(
    prefix="/v1/carrier",
    tags=["carrier"],
    dependencies=[Depends(operator_may(Action.CARRIER_HANDOVER))],
    responses=error_responses(NotAuthenticated, ActionNotAllowed),
)


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
