"""A merchant with products and stock on the example network, for checkout tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from doorstep.catalog import service as catalog
from doorstep.catalog.schemas import ProductIn, StockIn
from doorstep.merchants import service as merchants
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES

PHOENIX = ZoneInfo("America/Phoenix")
DOWNTOWN_CHANDLER = {"lat": 33.3035, "lng": -111.8410, "address": "1 E Chicago St, Chandler"}
QUEEN_CREEK = {"lat": 33.2490, "lng": -111.6300, "address": "Queen Creek, AZ"}
NORTH_PHOENIX = {"lat": 33.6400, "lng": -112.0500, "address": "North Phoenix, AZ"}


def local(hour: int, minute: int = 0, day: int = 24) -> datetime:
    """A moment on 2026-11-<day> in Chandler (a Tuesday for day 24), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=PHOENIX).astimezone(UTC)


@dataclass
class Shop:
    merchant_id: int
    secret_key: str
    publishable_key: str

    def headers(self, publishable: bool = False) -> dict[str, str]:
        key = self.publishable_key if publishable else self.secret_key
        return {"Authorization": f"Bearer {key}"}


def open_shop(session: Session, *, pan_stock: int = 20, kettle_stock: int = 5) -> Shop:
    """Copper Pot Kitchenware: a pan in its mall store, a kettle only in the warehouse."""
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    created = merchants.create_merchant(
        session, "Copper Pot Kitchenware", store_codes=["MCFC-KITCHEN"]
    )
    merchant_id = created.merchant.id
    catalog.upsert_products(
        session,
        merchant_id,
        [
            ProductIn(
                sku="PAN-28",
                name="28 cm skillet",
                length_mm=500,
                width_mm=300,
                height_mm=80,
                weight_g=1800,
            ),
            ProductIn(
                sku="KETTLE-1",
                name="Kettle",
                length_mm=250,
                width_mm=200,
                height_mm=250,
                weight_g=1200,
            ),
            ProductIn(
                sku="ANVIL",
                name="Blacksmith anvil",
                length_mm=600,
                width_mm=300,
                height_mm=300,
                weight_g=45_000,
            ),
        ],
    )
    catalog.set_stock(
        session,
        merchant_id,
        [
            StockIn(sku="PAN-28", node="MCFC-KITCHEN", on_hand=pan_stock),
            StockIn(sku="KETTLE-1", node="WTE1", on_hand=kettle_stock),
            StockIn(sku="ANVIL", node="WTE1", on_hand=3),
        ],
    )
    return Shop(merchant_id, created.secret_key.plaintext, created.publishable_key.plaintext)
