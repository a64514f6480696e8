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

from doorstep.drivers.policy import OfferPolicy
from doorstep.models import (
    CounterParcel,
    ManifestItem,
    Node,
    Package,
    PartnerManifest,
    Stop,
    StopKind,
)
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import place_order
from doorstep.partners import accounts, counter
from doorstep.planning.core import CostModel
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.drivers.road import TINY_JPEG
from tests.shop import local, open_shop

DAY = date(2026, 11, 25)  # a Wednesday: Maricopa Hardware is open 07:00-19:00
#: The middle mile bought by the drop, as the store-flow days assume (see `plan_dch1`).
CONTRACTED_DROPS = CostModel(middle_mile_cost_per_drop_cents=1800)
STORE = "PS-MARICOPA-HARDWARE"

__all__ = [
    "DAY",
    "STORE",
    "Store",
    "at",
    "busiest_store",
    "door",
    "held",
    "neighbours",
    "open_store",
    "plan_day",
    "plan_dch1",
    "scanned_in",
]


def at(hour: int, minute: int = 0) -> datetime:
    """A moment of the service day, local time, as UTC."""
    return local(hour, minute, day=DAY.day)


def plan_day(
    session: Session,
    parcels: int = 4,
    *,
    offers: OfferPolicy | None = None,
    morning_run: str = "block",
    now: datetime | None = None,
) -> None:
    """Station stock ordered to Maricopa (outside every service area, inside Maricopa
    Hardware's radius): the plan puts it on the store's manifest with a staff route."""
    shop = open_shop(session, kettle_stock=parcels)
    neighbours(session, shop.merchant_id, parcels)
    plan_dch1(session, offers=offers, morning_run=morning_run, now=now)


def plan_dch1(
    session: Session,
    *,
    offers: OfferPolicy | None = None,
    morning_run: str = "block",
    now: datetime | None = None,
) -> None:
    """DCH1's wave of the service day planned (seed 1, four drivers). The middle mile is
    bought at a contracted price per drop, so a handful of parcels make a batch worth the
    drop (priced by its detour on the run, a van to Maricopa for four parcels would cost more
    than the carrier: tests/planning/test_drops.py)."""
    plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(4, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        offers=offers,
        morning_run=morning_run,
        now=now,
        costs=CONTRACTED_DROPS,
    )


def neighbours(session: Session, merchant_id: int, parcels: int) -> None:
    """Next-day orders of a kettle each to Maricopa, a few hundred metres apart: outside every
    service area, inside Maricopa Hardware's radius."""
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
        place_order(session, merchant_id, body, idempotency_key=None, now=local(9))


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
            .where(StopPackage.package_id == package.id, Stop.kind == StopKind.DELIVERY)
        ).one()


def open_store(session: Session, client: TestClient, email: str = "clerk@example.com") -> Store:
    node, manifest = busiest_store(session)
    invited = accounts.invite(session, node.code, email=email, name="Cleo Clerk", now=at(7))

    def set_clock(at: datetime) -> None:
        client.app.state.clock = lambda: at  # type: ignore[attr-defined]

    set_clock(at(8))
    return Store(session, client, node, manifest, invited.token, set_clock)


def door(store: Store, code: str, action: str, **fields: str) -> object:
    """The staff route's ``action`` (deliver, attempt) at the door of parcel ``code``, with a
    photo, as the store's phone posts it."""
    stop = store.stop_of(code)
    stop_lat, stop_lng = stop.lat, stop.lng
    data = {
        "client_event_id": f"evt-{action}-{code[:10]}",
        "at": at(10).isoformat(),
        "lat": str(stop_lat),
        "lng": str(stop_lng),
        "accuracy_m": "8",
        **fields,
    }
    files = {"photo": ("door.jpg", TINY_JPEG, "image/jpeg")}
    return store.post(f"/route/stops/{stop.id}/{action}", data=data, files=files)


def scanned_in(store: Store, missing: int = 0) -> list[str]:
    """The manifest scanned in, the first ``missing`` parcels reported missing."""
    codes = store.codes()
    for code in codes[missing:]:
        assert store.post("/manifest/scans", json={"code": code}).status_code == 200
    if missing:
        store.post("/manifest/missing", json={"codes": codes[:missing]})
    return codes


def held(store: Store, session: Session) -> tuple[str, counter.Pickup]:
    """The first parcel of the staff route kept at the counter (no access): its label code
    and what its shopper shows."""
    scanned_in(store)
    route = store.get("/route").json()
    code = route["stops"][0]["parcels"][0]["code"]
    assert door(store, code, "attempt", reason="no_access").status_code == 200  # type: ignore[attr-defined]
    row = session.get_one(CounterParcel, store.package(code).id)
    settings = store.client.app.state.settings  # type: ignore[attr-defined]
    return code, counter.pickup_of(row, secret_key=settings.secret_key)
