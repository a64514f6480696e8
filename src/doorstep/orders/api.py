"""Orders: create (idempotent), read, list, cancel, export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from doorstep.api.deps import (
    DbSession,
    KeyNotAllowed,
    Network,
    NotAuthenticated,
    Now,
    Promises,
    SecretKeyCaller,
    check_scope,
    get_settings_dep,
    identify,
    presented_key,
)
from doorstep.api.errors import error_responses
from doorstep.db import unit_of_work
from doorstep.merchants.service import InvalidApiKey
from doorstep.models import DeliverySpeed, OrderStatus
from doorstep.orders import service, views
from doorstep.orders.schemas import Moment, OrderIn, OrderOut, OrderPage
from doorstep.promise.service import PickupUnavailable, PreviewExpired, PreviewNotFound
from doorstep.settings import Settings

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
router = APIRouter(
    prefix="/v1",
    tags=["orders"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retries with the same key return the same order instead of a second one",
    ),
]


CreatedFrom = Annotated[
    Moment | None,
    Query(description="Orders created at or after (ISO 8601; without a time zone, UTC)"),
]
CreatedTo = Annotated[
    Moment | None, Query(description="Orders created before (ISO 8601; without a time zone, UTC)")
]


def _filters(
    status: OrderStatus | None,
    speed: DeliverySpeed | None,
    q: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> views.OrderFilter:
    return views.OrderFilter(status, speed, q, created_from, created_to)


# Checked for shape before the body is read; against the database in the transaction.
SecretKey = Annotated[HTTPAuthorizationCredentials, Depends(presented_key("*"))]


@router.post(
    "/orders",
    status_code=201,
    summary="Place an order from a preview option, or from a basket and a speed",
    responses=error_responses(
        service.IdempotencyKeyReused,
        service.OutOfStock,
        service.SpeedUnavailable,
        service.OutsideServiceArea,
        service.AddressMissing,
        service.OrderDiffersFromPreview,
        PreviewNotFound,
        PreviewExpired,
        PickupUnavailable,
    ),
)
async def create_order(
    body: OrderIn,
    request: Request,
    credentials: SecretKey,
    now: Now,
    network: Network,
    policy: Promises,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderOut:
    # Checkout's hot path: the key check, the order and the commit make one trip to the
    # thread pool, and the commit happens before the response is sent.
    def in_one_transaction() -> OrderOut:
        with unit_of_work(request.app.state.session_factory) as session:
            caller = check_scope(identify(session, credentials, request), "*")
            placed = service.place_order(
                session,
                caller.merchant_id,
                body,
                idempotency_key=idempotency_key,
                now=now,
                policy=policy,
                network=network,
                committed=request.app.state.committed_volume,
                savepoint=False,  # an error rolls the whole unit of work back
            )
            if placed.view_data is not None:
                return views.order_out(placed.order, placed.view_data, public_url=public_url)
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            order = service.get_order(session, caller.merchant_id, placed.order.public_id)
            return views.order_views(session, [order], public_url=public_url)[0]

    public_url = request.app.state.settings.public_url
    return await run_in_threadpool(in_one_transaction)


@router.get("/orders", summary="Orders, newest first, filtered and paged")
def list_orders(
    caller: SecretKeyCaller,
    session: DbSession,
    settings: SettingsDep,
    status: OrderStatus | None = None,
    speed: DeliverySpeed | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Search text")] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: str | None = None,
) -> OrderPage:
    where = _filters(status, speed, q, created_from, created_to)
    data, next_cursor = views.page_of_orders(
        session,
        caller.merchant_id,
        where,
        limit=limit,
        cursor=cursor,
        public_url=settings.public_url,
    )
    return OrderPage(data=data, next_cursor=next_cursor)


@router.get(
    "/orders.csv",
    summary="Export orders as CSV (same filters as the list)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_orders(
    caller: SecretKeyCaller,
    session: DbSession,
    settings: SettingsDep,
    status: OrderStatus | None = None,
    speed: DeliverySpeed | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
) -> StreamingResponse:
    where = _filters(status, speed, q, created_from, created_to)
    # Rendered inside the request's transaction: the stream then only sends bytes.
    body = "".join(
        views.csv_lines(
            views.iter_orders(session, caller.merchant_id, where, public_url=settings.public_url)
        )
    )
    return StreamingResponse(
        iter([body]),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get(
    "/orders/{order_id}",
    summary="One order with its packages",
    responses=error_responses(service.OrderNotFound),
)
def get_order(
    order_id: str, caller: SecretKeyCaller, session: DbSession, settings: SettingsDep
) -> OrderOut:
    order = service.get_order(session, caller.merchant_id, order_id)
    return views.order_views(session, [order], public_url=settings.public_url)[0]


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel before pickup; releases the reserved stock",
    responses=error_responses(service.OrderNotFound, service.OrderNotCancellable),
)
def cancel_order(
    order_id: str, caller: SecretKeyCaller, session: DbSession, now: Now, settings: SettingsDep
) -> OrderOut:
    order = service.cancel_order(session, caller.merchant_id, order_id, now=now)
    return views.order_views(session, [order], public_url=settings.public_url)[0]
