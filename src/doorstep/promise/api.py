"""The delivery-preview endpoint: the promise for a basket and an address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from doorstep.api.deps import (
    KeyNotAllowed,
    Network,
    NotAuthenticated,
    Now,
    Promises,
    check_scope,
    identify,
    presented_key,
)
from doorstep.api.errors import error_responses
from doorstep.db import unit_of_work
from doorstep.merchants.service import InvalidApiKey
from doorstep.promise import service
from doorstep.promise.schemas import PreviewIn, PreviewOut

router = APIRouter(
    prefix="/v1",
    tags=["delivery promise"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)


# Checked for shape before the body is read; against the database in the transaction.
PreviewKey = Annotated[HTTPAuthorizationCredentials, Depends(presented_key("previews:create"))]


@router.post(
    "/delivery-previews",
    status_code=201,
    summary="The delivery options for a basket and a destination, held for 10 minutes",
    responses=error_responses(service.UnknownSku, service.BasketTooLarge),
)
async def create_delivery_preview(
    body: PreviewIn,
    request: Request,
    credentials: PreviewKey,
    now: Now,
    network: Network,
    policy: Promises,
) -> PreviewOut:
    # The widget's hot path: the key check, the promise and the commit make one trip to the
    # thread pool instead of one per dependency.
    def in_one_transaction() -> PreviewOut:
        with unit_of_work(request.app.state.session_factory) as session:
            caller = check_scope(identify(session, credentials, request), "previews:create")
            return service.create_preview(
                session,
                caller.merchant_id,
                body,
                now=now,
                policy=policy,
                network=network,
                committed=request.app.state.committed_volume,
            )

    return await run_in_threadpool(in_one_transaction)
