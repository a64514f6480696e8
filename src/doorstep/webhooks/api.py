"""A merchant's webhook endpoints, their delivery log, and manual redelivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from doorstep.api.deps import (
    DbSession,
    KeyNotAllowed,
    NotAuthenticated,
    Now,
    RowId,
    SecretKeyCaller,
    get_settings_dep,
)
from doorstep.api.errors import error_responses
from doorstep.merchants.service import InvalidApiKey
from doorstep.models import DeliveryStatus
from doorstep.settings import Settings
from doorstep.webhooks import service
from doorstep.webhooks.addresses import AddressPolicy
from doorstep.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointUpdate,
    SecretRotated,
    SecretRotation,
)
from doorstep.webhooks.service import (
    DeliveryPending,
    DeliveryRecord,
    InvalidWebhookUrl,
    UnknownEventType,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookUrlNotPublic,
)
from doorstep.webhooks.signing import message_id

router = APIRouter(
    prefix="/v1",
    tags=["webhooks"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)

AppSettings = Annotated[Settings, Depends(get_settings_dep)]


async def _addresses(request: Request) -> AddressPolicy:
    policy: AddressPolicy = request.app.state.webhook_addresses
    return policy


# Where an endpoint's URL may point: public addresses, and the operator's allow-list.
Addresses = Annotated[AddressPolicy, Depends(_addresses)]


@router.post(
    "/webhook-endpoints",
    status_code=201,
    summary="Register an endpoint; the signing secret is shown once",
    responses=error_responses(InvalidWebhookUrl, WebhookUrlNotPublic, UnknownEventType),
)
def create_endpoint(
    body: EndpointIn,
    caller: SecretKeyCaller,
    session: DbSession,
    settings: AppSettings,
    addresses: Addresses,
) -> EndpointCreated:
    endpoint = service.create_endpoint(
        session,
        caller.merchant_id,
        body.url,
        body.event_types,
        environment=settings.environment,
        addresses=addresses,
    )
    return EndpointCreated(
        **EndpointOut.model_validate(endpoint).model_dump(), signing_secret=endpoint.signing_secret
    )


@router.get("/webhook-endpoints", summary="The merchant's endpoints, without their secrets")
def list_endpoints(caller: SecretKeyCaller, session: DbSession) -> list[EndpointOut]:
    return [
        EndpointOut.model_validate(e) for e in service.list_endpoints(session, caller.merchant_id)
    ]


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    summary="One endpoint",
    responses=error_responses(WebhookEndpointNotFound),
)
def get_endpoint(endpoint_id: RowId, caller: SecretKeyCaller, session: DbSession) -> EndpointOut:
    return EndpointOut.model_validate(
        service.get_endpoint(session, caller.merchant_id, endpoint_id)
    )


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    summary="Change the URL or event types, pause or resume",
    responses=error_responses(
        WebhookEndpointNotFound, InvalidWebhookUrl, WebhookUrlNotPublic, UnknownEventType
    ),
)
def update_endpoint(
    endpoint_id: RowId,
    body: EndpointUpdate,
    caller: SecretKeyCaller,
    session: DbSession,
    settings: AppSettings,
    addresses: Addresses,
) -> EndpointOut:
    endpoint = service.update_endpoint(
        session,
        caller.merchant_id,
        endpoint_id,
        environment=settings.environment,
        addresses=addresses,
        url=body.url,
        event_types=body.event_types,
        active=body.active,
    )
    return EndpointOut.model_validate(endpoint)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    summary="A new signing secret, shown once; the old one keeps signing for a while",
    responses=error_responses(WebhookEndpointNotFound),
)
def rotate_secret(
    endpoint_id: RowId,
    caller: SecretKeyCaller,
    session: DbSession,
    now: Now,
    body: SecretRotation | None = None,
) -> SecretRotated:
    rotation = body or SecretRotation()
    endpoint = service.rotate_secret(
        session,
        caller.merchant_id,
        endpoint_id,
        keep_previous_for=timedelta(hours=rotation.keep_previous_hours),
        now=now,
    )
    return SecretRotated(
        **EndpointOut.model_validate(endpoint).model_dump(),
        signing_secret=endpoint.signing_secret,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
    )


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    summary="Delete an endpoint with its queue and log",
    responses=error_responses(WebhookEndpointNotFound),
)
def delete_endpoint(endpoint_id: RowId, caller: SecretKeyCaller, session: DbSession) -> Response:
    service.delete_endpoint(session, caller.merchant_id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    summary="The delivery log: deliveries with their attempts, newest first",
    responses=error_responses(WebhookEndpointNotFound),
)
def list_deliveries(
    endpoint_id: RowId,
    caller: SecretKeyCaller,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[RowId | None, Query(description="next_cursor of the previous page")] = None,
) -> DeliveryPage:
    records = service.list_deliveries(
        session, caller.merchant_id, endpoint_id, limit=limit, before=before
    )
    return DeliveryPage(
        items=[_delivery_out(r) for r in records],
        next_cursor=records[-1].delivery.id if len(records) == limit else None,
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a finished delivery again (with a fresh retry schedule)",
    responses=error_responses(WebhookDeliveryNotFound, DeliveryPending),
)
def redeliver(delivery_id: RowId, caller: SecretKeyCaller, session: DbSession) -> DeliveryOut:
    return _delivery_out(service.redeliver(session, caller.merchant_id, delivery_id))


def _delivery_out(record: DeliveryRecord) -> DeliveryOut:
    d = record.delivery
    return DeliveryOut(
        id=d.id,
        endpoint_id=d.endpoint_id,
        webhook_id=message_id(d.event_id),
        event_type=record.event_type,
        ordering_key=d.ordering_key,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.PENDING else None,
        last_attempt_at=d.last_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        attempt_log=[AttemptOut.model_validate(a) for a in record.attempts],
    )
