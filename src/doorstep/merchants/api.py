"""A merchant's own account and its API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request

from doorstep.api.deps import DbSession, KeyNotAllowed, NotAuthenticated, RowId, SecretKeyCaller
from doorstep.api.errors import error_responses
from doorstep.merchants import service
from doorstep.merchants.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, MerchantOut
from doorstep.merchants.service import InvalidApiKey
from doorstep.models import Merchant

router = APIRouter(
    prefix="/v1",
    tags=["merchant account"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)


@router.get("/merchant", summary="The merchant that owns the calling key")
def get_merchant(caller: SecretKeyCaller, session: DbSession) -> MerchantOut:
    return MerchantOut.model_validate(session.get_one(Merchant, caller.merchant_id))


@router.get("/api-keys", summary="Every key of the merchant, without their secrets")
def list_api_keys(caller: SecretKeyCaller, session: DbSession) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_keys(session, caller.merchant_id)]


@router.post("/api-keys", status_code=201, summary="Issue a new key (shown once)")
def create_api_key(body: ApiKeyIn, caller: SecretKeyCaller, session: DbSession) -> ApiKeyCreated:
    merchant = session.get_one(Merchant, caller.merchant_id)
    new = service.create_key(session, merchant, body.kind, label=body.label)
    return ApiKeyCreated(**ApiKeyOut.model_validate(new.api_key).model_dump(), key=new.plaintext)


@router.post(
    "/api-keys/{key_id}/revoke",
    summary="Revoke a key at once",
    responses=error_responses(service.ApiKeyNotFound),
)
def revoke_api_key(
    key_id: RowId, caller: SecretKeyCaller, session: DbSession, request: Request
) -> ApiKeyOut:
    revoked = service.revoke_key(session, caller.merchant_id, key_id)
    # This process stops trusting the key at once; others within their cache's few seconds.
    request.app.state.key_cache.forget(revoked.prefix)
    return ApiKeyOut.model_validate(revoked)
