"""A planned day of the Chandler network with a partner store's manifest, and a staff member
of that store signed in: what the partner-store tests start from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import ManifestItem, Node, Package, PartnerManifest, Stop
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import place_order
from doorstep.partners import accounts
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.shop import local, open_shop

DAY = date(2026, 11, 25)  # a Wednesday: Maricopa Hardware is open 07:00-19:00
STORE = "PS-MARICOPA-HARDWARE"

__all__ = ["DAY", "STORE", "Store", "at", "busiest_store", "plan_day"]


def at(hour: int, minute: int = 0) -> datetime:
    """A moment of the service day, local time, as UTC."""
    return local(hour, minute, day=DAY.day)


def plan_day(session: Session, parcels: int = 4) -> None:
    """Station stock ordered to Maricopa (outside every service area, inside Maricopa
    Hardware's radius): the plan puts it on the store's manifest with a staff route."""
    shop = open_shop(session, kettle_stock=parcels)
    for number in range(parcels):
        body = OrderIn.model_validate(
            {
                "items": [{"sku": "KETTLE-1", "quantity": 1}],
                "destination": {
                    "lat": 33.06 + 0.004 * number,
                    "lng": -112.04,
                    "address": f"{100 + number} W Honeycutt Rd",
                },
                "speed": "next_day",
                "recipient": {
                    "name": f"Neighbour {number}",
                    "email": f"neighbour{number}@example.com",
                },
            }
        )
        place_order(session, shop.merchant_id, body, idempotency_key=None, now=local(9))
    plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(4, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
    )


def busiest_store(session: Session) -> tuple[Node, PartnerManifest]:
    """The partner store with the most parcels on its manifest of the day."""
    manifest = session.scalars(
        select(PartnerManifest)
        .join(ManifestItem, ManifestItem.manifest_id == PartnerManifest.id)
        .where(PartnerManifest.service_date == DAY)
        .group_by(PartnerManifest.id)
        .order_by(func.count().desc(), PartnerManifest.id)
    ).first()
    assert manifest is not None, "the plan made no partner manifest"
    return session.get_one(Node, manifest.partner_store_id), manifest


@dataclass
class Store:
    session: Session
    client: TestClient
    node: Node
    manifest: PartnerManifest
    token: str
    set_clock: Callable[[datetime], None]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/v1/store{path}", headers=self.headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(f"/v1/store{path}", json=json, headers=self.headers, **kwargs)

    def codes(self) -> list[str]:
        """The manifest's parcels, in the order of the staff route's stops."""
        rows = self.session.execute(
            select(Package.tracking_code)
            .join(ManifestItem, ManifestItem.package_id == Package.id)
            .where(ManifestItem.manifest_id == self.manifest.id)
            .order_by(Package.tracking_code)
        )
        return list(rows.scalars())

    def package(self, code: str) -> Package:
        self.session.expire_all()
        return self.session.scalars(select(Package).where(Package.tracking_code == code)).one()

    def stop_of(self, code: str) -> Stop:
        from doorstep.models import StopPackage

        package = self.package(code)
        return self.session.scalars(
            select(Stop)
            .join(StopPackage, StopPackage.stop_id == Stop.id)
            .where(StopPackage.package_id == package.id)
        ).one()


def open_store(session: Session, client: TestClient, email: str = "clerk@example.com") -> Store:
    node, manifest = busiest_store(session)
    invited = accounts.invite(session, node.code, email=email, name="Cleo Clerk", now=at(7))

    def set_clock(at: datetime) -> None:
        client.app.state.clock = lambda: at  # type: ignore[attr-defined]

    set_clock(at(8))
    return Store(session, client, node, manifest, invited.token, set_clock)
