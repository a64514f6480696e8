"""Returns over the API: the merchant lists its returns; a station (or any node's operator
tooling) receives one by its code, which puts its stock back on hand there."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from doorstep.api.deps import (
    DbSession,
    KeyNotAllowed,
    NotAuthenticated,
    Now,
    SecretKeyCaller,
)
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.merchants.service import InvalidApiKey
from doorstep.ops.policy import Action
from doorstep.tracking import returns
from doorstep.tracking.schemas import ReturnOut, ReturnReceivedOut, ReturnReceiveIn

router = APIRouter(prefix="/v1", tags=["returns"])


@router.get(
    "/returns",
    summary="The merchant's returns, newest first (the last 100)",
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)
def list_returns(caller: SecretKeyCaller, session: DbSession) -> list[ReturnOut]:
    return [returns.return_out(r) for r in returns.list_returns(session, caller.merchant_id)]


@router.post(
    "/returns/{code}/receive",
    summary="A return scanned in at a station or partner store: its stock is on hand again",
    dependencies=[Depends(operator_may(Action.RETURN_RECEIVE))],
    responses=error_responses(NotAuthenticated, returns.ReturnNotFound, returns.NodeNotFound),
)
def receive_return(
    code: str, body: ReturnReceiveIn, session: DbSession, now: Now
) -> ReturnReceivedOut:
    returned, node = returns.receive_return(
        session, code, node_code=body.node, actor="operator", now=now
    )
    assert returned.received_at is not None
    return ReturnReceivedOut(
        code=returned.public_id,
        status=returned.status,
        received_at=returned.received_at,
        node=node.code,
        restocked=returns.return_out(returned).items,
    )
