"""Seed a demo day through the real services: merchants, their catalogs, and orders.

Every order goes through `place_order` with a promise the network can keep, so what the demo
shows (reservations, packages per channel, events) is what production would do. Deterministic
for a seed. Each address has a street line, and the city, state and ZIP code of the ZIP whose
centroid is nearest its point (the hosted checkout's ZIP table), so a carrier can label it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.catalog import service as catalog
from doorstep.catalog.schemas import ProductIn, StockIn
from doorstep.errors import DomainError
from doorstep.geo import postal_codes
from doorstep.merchants import service as merchants
from doorstep.models import Merchant, Node, NodeKind, Package, ServiceArea
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import place_order
from doorstep.promise.network import load_snapshot
from doorstep.promise.rules import PromisePolicy

STREETS = (
    "Chandler Blvd",
    "Ray Rd",
    "Warner Rd",
    "Elliot Rd",
    "Alma School Rd",
    "Dobson Rd",
    "Arizona Ave",
    "McQueen Rd",
    "Gilbert Rd",
    "Cooper Rd",
    "Val Vista Dr",
    "Queen Creek Rd",
    "Ocotillo Rd",
    "Riggs Rd",
    "Germann Rd",
    "Pecos Rd",
    "Ellsworth Rd",
    "Hunt Hwy",
)
NAMES = (
    "Ana Ruiz",
    "Ben Okafor",
    "Chloe Nguyen",
    "Dev Patel",
    "Emma Schultz",
    "Felipe Soto",
    "Grace Kim",
    "Hiro Tanaka",
    "Isla Brown",
    "Jamal Carter",
    "Kira Novak",
    "Liam Walsh",
)

# (merchant, the stores it owns, its products: sku, name, L, W, H mm, weight g)
MERCHANTS: tuple[
    tuple[str, tuple[str, ...], tuple[tuple[str, str, int, int, int, int], ...]], ...
] = (
    (
        "Copper Pot Kitchenware",
        ("MCFC-KITCHEN",),
        (
            ("PAN-28", "28 cm skillet", 500, 300, 80, 1800),
            ("KETTLE-1", "Stovetop kettle", 250, 200, 250, 1200),
            ("KNIFE-SET", "Knife set", 400, 150, 60, 900),
        ),
    ),
    (
        "Trailhead Outdoor Supply",
        ("MCFC-OUTDOOR",),
        (
            ("TENT-2P", "Two-person tent", 550, 200, 200, 2600),
            ("BOTTLE-1L", "Insulated bottle", 90, 90, 280, 450),
        ),
    ),
    (
        "Paper Lantern Books",
        ("MCFC-BOOKS",),
        (
            ("BOOK-HC", "Hardcover novel", 240, 160, 40, 700),
            ("BOOK-PB", "Paperback", 200, 130, 25, 300),
        ),
    ),
    ("Stride Sneakers", ("MCFC-SNEAKERS",), (("RUN-42", "Running shoes", 330, 220, 120, 900),)),
    ("Cactus Toy Co.", ("MCFC-TOYS",), (("BLOCKS-100", "Building blocks", 350, 250, 100, 1100),)),
    (
        "Downtown Chandler Bike Works",
        ("LS-DOWNTOWN-BIKES",),
        (
            ("TUBE-700", "Inner tube 700c", 150, 100, 50, 150),
            ("HELMET-M", "Helmet, medium", 300, 230, 180, 350),
        ),
    ),
    (
        "Ocotillo Pet Supply",
        ("LS-OCOTILLO-PETS",),
        (("KIBBLE-5", "Dog food 5 lb", 350, 250, 90, 2300),),
    ),
)
WAREHOUSE = "WTE1"
SPEEDS = ("same_day", "next_day", "two_day")


@dataclass
class SeedSummary:
    merchants: dict[str, dict[str, str]] = field(default_factory=dict)  # name → keys
    orders: int = 0
    replayed: int = 0  # placed by an earlier run with the same date and seed
    packages_by_channel: Counter[str] = field(default_factory=Counter)
    orders_by_speed: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


def seed_demo_day(
    session: Session,
    *,
    orders: int,
    order_time: datetime,
    seed: int = 1,
    console_password: str | None = "doorstep-demo",
    policy: PromisePolicy | None = None,
) -> SeedSummary:
    """Create the demo merchants (once) and ``orders`` orders placed at ``order_time``.
    ``console_password`` None: no console users (hashing their passwords is most of the
    time a small seed takes)."""
    rng = random.Random(seed)
    summary = SeedSummary()
    merchant_ids = _merchants(session, summary, console_password)
    snapshot = load_snapshot(session)
    areas = list(session.scalars(select(ServiceArea).order_by(ServiceArea.code)))
    partners = list(
        session.scalars(select(Node).where(Node.kind == NodeKind.PARTNER_STORE).order_by(Node.code))
    )
    speeds = ("same_day", "same_day", "next_day", "next_day", "two_day")  # what shoppers pick
    for number in range(orders):
        merchant_name, _, products = rng.choice(MERCHANTS)
        basket = rng.sample(products, rng.randint(1, min(2, len(products))))
        lat, lng = _address_point(rng, areas, partners)
        wanted = rng.choice(speeds)
        zip_code = postal_codes.nearest(lat, lng)
        request = {
            "items": [{"sku": p[0], "quantity": rng.randint(1, 2)} for p in basket],
            "destination": {
                "lat": lat,
                "lng": lng,
                "address": f"{rng.randint(100, 4999)} {rng.choice(STREETS)}",
                # One order in six goes to an apartment.
                "address_line2": f"Apt {number % 40 + 101}" if number % 6 == 5 else None,
                "city": zip_code.city,
                "state": zip_code.state,
                "postal_code": zip_code.code,
            },
            "recipient": {"name": rng.choice(NAMES)},
            "merchant_reference": f"DEMO-{number + 1:05d}",
        }
        # Like a shopper: the speed they want, else the next slower one offered.
        placed, refusal = None, ""
        for speed in SPEEDS[SPEEDS.index(wanted) :]:
            savepoint = session.begin_nested()
            try:
                placed = place_order(
                    session,
                    merchant_ids[merchant_name],
                    OrderIn.model_validate({**request, "speed": speed}),
                    idempotency_key=f"demo-{order_time:%Y%m%d}-{seed}-{number}",
                    now=order_time,
                    policy=policy,
                    network=snapshot,
                )
            except DomainError as refused:
                savepoint.rollback()
                refusal = refused.code
                continue
            savepoint.commit()
            break
        if placed is None:
            summary.refused[refusal] += 1
            continue
        summary.orders += 1
        summary.replayed += placed.replayed
        summary.orders_by_speed[placed.order.speed.value] += 1
    for (channel,) in session.execute(select(Package.channel)):
        summary.packages_by_channel[channel.value if channel else "none"] += 1
    return summary


def _merchants(session: Session, summary: SeedSummary, password: str | None) -> dict[str, int]:
    ids: dict[str, int] = {}
    for name, stores, products in MERCHANTS:
        existing = session.scalar(select(Merchant).where(Merchant.name == name))
        if existing is not None:
            ids[name] = existing.id
            continue
        created = merchants.create_merchant(session, name, store_codes=stores)
        slug = name.lower().split()[0].replace(".", "")
        if password is not None:
            merchants.create_console_user(
                session, created.merchant, f"{slug}@example.com", password
            )
        ids[name] = created.merchant.id
        summary.merchants[name] = {
            "console_email": f"{slug}@example.com",
            "secret_key": created.secret_key.plaintext,
            "publishable_key": created.publishable_key.plaintext,
        }
        catalog.upsert_products(
            session,
            created.merchant.id,
            [
                ProductIn(
                    sku=sku,
                    name=title,
                    length_mm=length,
                    width_mm=width,
                    height_mm=height,
                    weight_g=weight,
                )
                for sku, title, length, width, height, weight in products
            ],
        )
        catalog.set_stock(
            session,
            created.merchant.id,
            [
                StockIn(sku=sku, node=node, on_hand=500)
                for sku, *_ in products
                for node in (*stores, WAREHOUSE)
            ],
        )
    return ids


def _address_point(
    rng: random.Random, areas: list[ServiceArea], partners: list[Node]
) -> tuple[float, float]:
    # Four in five inside a station's service area, the rest near a partner store.
    if partners and rng.random() < 0.2:
        store = rng.choice(partners)
        return store.lat + rng.uniform(-0.08, 0.08), store.lng + rng.uniform(-0.08, 0.08)
    area = rng.choice(areas)
    return rng.uniform(area.min_lat, area.max_lat), rng.uniform(area.min_lng, area.max_lng)


def morning_of(day: datetime | None, tz: str = "America/Phoenix") -> datetime:
    """9:00 local on ``day`` (default: today there), when the demo's orders come in."""
    zone = ZoneInfo(tz)
    local_day = (day or datetime.now(zone)).astimezone(zone).date()
    return datetime.combine(local_day, time(9, 0), tzinfo=zone)
