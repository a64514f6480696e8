"""A driver's offers and blocks: list, accept, decline, the blocks held, forfeits, and the
position the app reports (instant offers go to drivers nearby)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import TypeAdapter

from doorstep.access.service import NotSignedIn
from doorstep.api.deps import DbSession, Now, RowId, get_settings_dep
from doorstep.api.errors import error_responses
from doorstep.drivers import accounts, eligibility, held, offers
from doorstep.drivers.api.deps import CurrentDriver
from doorstep.drivers.offer_schemas import (
    AcceptOut,
    ForfeitOut,
    HeldBlockOut,
    OfferOut,
    PositionIn,
)
from doorstep.drivers.policy import OfferPolicy
from doorstep.models import OfferStatus
from doorstep.settings import Settings

router = APIRouter(
    prefix="/v1/driver",
    tags=["drivers"],
    responses=error_responses(NotSignedIn, accounts.DriverDeactivated),
)


async def _policy(settings: Annotated[Settings, Depends(get_settings_dep)]) -> OfferPolicy:
    return OfferPolicy.from_settings(settings)


Policy = Annotated[OfferPolicy, Depends(_policy)]


# A listing carries up to a few hundred offers: the service's views are written as JSON in one
# pass, straight from their dataclasses (FastAPI would validate the list into OfferOut models
# and encode it twice; that was a tenth of the request). `OfferView` has OfferOut's fields in
# OfferOut's order, so the JSON is the same: tests/drivers/test_offers.py compares them.
OFFER_LIST_JSON = TypeAdapter(list[offers.OfferView])


@router.get(
    "/offers",
    summary="Every open block you may take, as your offers, by start",
    response_model=list[OfferOut],
)
def list_offers(driver: CurrentDriver, session: DbSession, now: Now, policy: Policy) -> Response:
    views = offers.list_offers(session, driver, now=now, policy=policy)
    return Response(OFFER_LIST_JSON.dump_json(views), media_type="application/json")


@router.get(
    "/offers/{offer_id}",
    summary="One of your offers in any state, with the fairness key of its last round",
    responses=error_responses(offers.OfferNotFound),
)
def get_offer(
    offer_id: RowId, driver: CurrentDriver, session: DbSession, policy: Policy
) -> OfferOut:
    return OfferOut.model_validate(offers.get_offer(session, driver, offer_id, policy=policy))


@router.post(
    "/offers/{offer_id}/accept",
    summary="Accept: the block at once (first come, instant), or interest until the round "
    "closes (202)",
    responses={
        202: {"model": AcceptOut, "description": "Interest recorded; the round's close decides"},
        **error_responses(
            offers.OfferNotFound,
            offers.BlockAlreadyTaken,
            offers.OfferExpired,
            offers.OfferWithdrawn,
            offers.OfferForfeited,
            eligibility.DriverPaused,
            eligibility.OtherStation,
            eligibility.VehicleTooSmall,
            eligibility.OutsideAvailability,
            eligibility.OverlappingBlock,
        ),
    },
)
def accept_offer(
    offer_id: RowId,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    policy: Policy,
    response: Response,
) -> AcceptOut:
    accepted = offers.accept_offer(session, driver, offer_id, now=now, policy=policy)
    if accepted.status is OfferStatus.INTERESTED:
        response.status_code = 202
    return AcceptOut.model_validate(accepted)


@router.post(
    "/offers/{offer_id}/decline",
    status_code=204,
    summary="Hide an offer (and withdraw interest in it)",
    responses=error_responses(offers.OfferNotFound, offers.OfferAlreadyAccepted),
)
def decline_offer(offer_id: RowId, driver: CurrentDriver, session: DbSession, now: Now) -> Response:
    offers.decline_offer(session, driver, offer_id, now=now)
    return Response(status_code=204)


@router.post("/position", status_code=204, summary="Where the app is now (every 30 s)")
def report_position(
    body: PositionIn, driver: CurrentDriver, session: DbSession, now: Now
) -> Response:
    offers.update_position(session, driver, body.lat, body.lng, now=now)
    return Response(status_code=204)


@router.get("/blocks", summary="The blocks you hold (accepted, under way, returning), by start")
def list_blocks(driver: CurrentDriver, session: DbSession, policy: Policy) -> list[HeldBlockOut]:
    return [
        HeldBlockOut.model_validate(b) for b in held.held_blocks(session, driver, policy=policy)
    ]


@router.post(
    "/blocks/{block_id}/forfeit",
    summary="Give a block back, up to the cut-off before its start",
    responses=error_responses(held.BlockNotFound, held.ForfeitTooLate, held.BlockNotForfeitable),
)
def forfeit_block(
    block_id: RowId, driver: CurrentDriver, session: DbSession, now: Now, policy: Policy
) -> ForfeitOut:
    forfeited = held.forfeit_block(session, driver, block_id, now=now, policy=policy)
    return ForfeitOut.model_validate(forfeited)
