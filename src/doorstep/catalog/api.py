"""Catalog endpoints: bulk upsert of products and stock, by JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from doorstep.api.deps import DbSession, KeyNotAllowed, NotAuthenticated, SecretKeyCaller
from doorstep.api.errors import error_responses
from doorstep.catalog import service
from doorstep.catalog.schemas import (
    CatalogImportResult,
    ProductIn,
    ProductOut,
    StockIn,
    StockOut,
    UpsertResult,
)
from doorstep.merchants.service import InvalidApiKey

router = APIRouter(
    prefix="/v1",
    tags=["catalog"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)


@router.put("/products", summary="Create or update products by SKU (up to 10,000)")
def put_products(
    items: list[ProductIn], caller: SecretKeyCaller, session: DbSession
) -> UpsertResult:
    return service.upsert_products(session, caller.merchant_id, items)


@router.get("/products", summary="Products, optionally one SKU")
def get_products(
    caller: SecretKeyCaller,
    session: DbSession,
    sku: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_sku: str | None = Query(default=None, description="Cursor: the last SKU of a page"),
) -> list[ProductOut]:
    products = service.list_products(
        session, caller.merchant_id, sku=sku, after_sku=after_sku, limit=limit
    )
    return [ProductOut.model_validate(p) for p in products]


@router.put(
    "/inventory",
    summary="Set on-hand stock per SKU and node (absolute counts)",
    responses=error_responses(
        service.UnknownSku, service.NodeNotStockable, service.StockBelowReserved
    ),
)
def put_inventory(
    items: list[StockIn], caller: SecretKeyCaller, session: DbSession
) -> UpsertResult:
    return service.set_stock(session, caller.merchant_id, items)


@router.get("/inventory", summary="Stock per SKU and node, with what is reserved")
def get_inventory(
    caller: SecretKeyCaller,
    session: DbSession,
    sku: str | None = None,
    node: str | None = None,
) -> list[StockOut]:
    return service.list_stock(session, caller.merchant_id, sku, node)


@router.post(
    "/catalog/import",
    summary="Upsert products and stock from CSV",
    responses=error_responses(service.CatalogFileInvalid, service.StockBelowReserved),
)
def import_catalog(
    caller: SecretKeyCaller,
    session: DbSession,
    body: Annotated[
        str,
        Body(
            media_type="text/csv",
            description="sku,name,length_mm,width_mm,height_mm,weight_g,node,on_hand",
        ),
    ],
) -> CatalogImportResult:
    return service.import_catalog_csv(session, caller.merchant_id, body)
