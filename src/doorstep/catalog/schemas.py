"""Shapes of catalog data: products and stock levels."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
Millimetres = Annotated[int, Field(gt=0, le=5_000)]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=300)]
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres
    weight_g: Annotated[int, Field(gt=0, le=500_000)]
    return_window_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None,
        description="Days after delivery the shopper may start a return from the tracking "
        "page; null: not returnable",
    )


class ProductOut(ProductIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    active: bool


class StockIn(BaseModel):
    """Set the on-hand count of a SKU at a node (absolute, not a delta)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku
    node: Annotated[str, Field(min_length=1, max_length=64, description="Node code")]
    on_hand: Annotated[int, Field(ge=0, le=10_000_000)]


class StockOut(BaseModel):
    sku: str
    node: str
    on_hand: int
    reserved: int
    available: int


class UpsertResult(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class CatalogImportResult(BaseModel):
    products: UpsertResult
    stock: UpsertResult
