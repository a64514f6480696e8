"""The delivery-preview endpoint: the promise for a basket and an address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep.api.deps import (
    Caller,
    DbSession,
    KeyNotAllowed,
    Network,
    NotAuthenticated,
    Now,
    requires,
)
from doorstep.api.errors import error_responses
from doorstep.merchants.service import InvalidApiKey
from doorstep.promise import service
from doorstep.promise.schemas import PreviewIn, PreviewOut

router = APIRouter(
    prefix="/v1",
    tags=["delivery promise"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)


@router.post(
    "/delivery-previews",
    status_code=201,
    summary="The delivery options for a basket and a destination, held for 10 minutes",
    responses=error_responses(service.UnknownSku, service.BasketTooLarge),
)
def create_delivery_preview(
    body: PreviewIn,
    caller: Annotated[Caller, Depends(requires("previews:create"))],
    session: DbSession,
    now: Now,
    network: Network,
) -> PreviewOut:
    return service.create_preview(session, caller.merchant_id, body, now=now, network=network)
