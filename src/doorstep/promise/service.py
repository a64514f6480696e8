"""Loading what the promise rules need from the database, and keeping the preview."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, text
from sqlalchemy.orm import Session, selectinload

from doorstep.errors import DomainError, InvalidInput
from doorstep.models import (
    DeliveryPreview,
    InventoryLevel,
    PartnerStore,
    Product,
)
from doorstep.promise import rules
from doorstep.promise.capacity import CommittedVolumeCache, committed_volume
from doorstep.promise.network import NetworkSnapshot, load_snapshot, place_of
from doorstep.promise.schemas import (
    BasketItem,
    Destination,
    FulfilmentOut,
    OptionOut,
    PickupStoreOut,
    PreviewIn,
    PreviewOut,
    UnavailableOut,
)

PREVIEW_TTL = timedelta(minutes=10)
# The largest box a gig driver's car takes: a compact car's boot with the seats up.
MAX_PACKAGE_VOLUME_CM3 = 350_000
MAX_PACKAGE_WEIGHT_G = 30_000


class UnknownSku(InvalidInput):
    code = "unknown_sku"


class BasketTooLarge(InvalidInput):
    code = "basket_too_large"


class PickupUnavailable(DomainError):
    """A counter pick-up the store can no longer keep: it closed that day, its day is full,
    or it was not offered for this address."""

    status = 409
    code = "pickup_unavailable"


class PreviewNotFound(DomainError):
    status = 404
    code = "preview_not_found"


class PreviewExpired(DomainError):
    status = 410
    code = "preview_expired"


def create_preview(
    session: Session,
    merchant_id: int,
    request: PreviewIn,
    *,
    now: datetime,
    policy: rules.PromisePolicy | None = None,
    network: NetworkSnapshot | None = None,
    committed: CommittedVolumeCache | None = None,
) -> PreviewOut:
    """Assess the basket for the destination and keep the answer for ``PREVIEW_TTL``."""
    if session.get_bind().dialect.name == "postgresql":
        # A preview is a ten-minute cache, not a commitment: losing the last few to a crash
        # costs a shopper one reload, so its commit need not wait for the disk.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    assessment, _ = assess_basket(
        session,
        merchant_id,
        request.items,
        request.destination,
        now=now,
        policy=policy,
        network=network,
        committed=committed,
    )
    options = [_option_out(option, now) for option in assessment.options]
    unavailable = [
        UnavailableOut(speed=u.speed, reason=u.reason, detail=u.detail)
        for u in assessment.unavailable
    ]
    public_id = f"dp_{secrets.token_urlsafe(16)}"
    expires_at = now + PREVIEW_TTL
    # A Core insert: the preview is written once and read back by id, never changed, so the
    # ORM's identity map and flush would be pure overhead on the shopper's request.
    session.connection().execute(
        insert(DeliveryPreview).values(
            public_id=public_id,
            merchant_id=merchant_id,
            created_at=now,
            expires_at=expires_at,
            items=[item.model_dump() for item in request.items],
            destination=request.destination.model_dump(),
            options=[_stored_option(option) for option in assessment.options],
            unavailable=[u.model_dump(mode="json") for u in unavailable],
        )
    )
    return PreviewOut(
        id=public_id,
        expires_at=expires_at,
        destination=request.destination,
        items=request.items,
        options=options,
        unavailable=unavailable,
    )


def check_counter(session: Session, store_id: int, day: date, *, now: datetime) -> None:
    """`PickupUnavailable` unless the partner store can still keep parcels on ``day``: it is
    active, open that day, and its committed parcels are below its daily capacity."""
    store = session.scalar(
        select(PartnerStore)
        .where(PartnerStore.node_id == store_id)
        .options(selectinload(PartnerStore.closed_days), selectinload(PartnerStore.node))
    )
    if store is None or not store.node.active:
        raise PickupUnavailable(
            "that partner store no longer keeps parcels; ask for a new preview", field="option_id"
        )
    coverage = rules.PartnerCoverage(
        place=place_of(store.node),
        distance_m=0.0,
        opening_hours=store.opening_hours,
        closed_days=frozenset(closed.day for closed in store.closed_days),
    )
    if coverage.closing_time(day) is None:
        raise PickupUnavailable(
            f"{store.node.name} is closed {day:%a %d %b}; ask for a new preview",
            field="option_id",
            store=store.node.code,
        )
    capacity = store.node.daily_capacity
    used = committed_volume(session, now.date(), [store_id]).get((store_id, day), 0)
    if capacity is not None and used >= capacity:
        raise PickupUnavailable(
            f"{store.node.name} is full for {day:%a %d %b}; ask for a new preview",
            field="option_id",
            store=store.node.code,
        )


def find_preview(session: Session, merchant_id: int, public_id: str) -> DeliveryPreview | None:
    """A merchant's preview, even after it expired (its basket and destination make a fresh
    quote)."""
    return session.scalar(
        select(DeliveryPreview).where(
            DeliveryPreview.public_id == public_id, DeliveryPreview.merchant_id == merchant_id
        )
    )


def load_preview(
    session: Session, merchant_id: int, public_id: str, *, now: datetime
) -> DeliveryPreview:
    preview = find_preview(session, merchant_id, public_id)
    if preview is None:
        raise PreviewNotFound(f"no delivery preview '{public_id}'", field="preview_id")
    if preview.expires_at <= now:
        raise PreviewExpired(
            f"the delivery preview expired at {preview.expires_at.isoformat()}; ask for a new one",
            field="preview_id",
        )
    return preview


@dataclass(frozen=True)
class BasketProduct:
    """The columns of a product the promise needs (no ORM object: this is the hot path)."""

    id: int
    sku: str
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int

    @property
    def volume_cm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm // 1000


_products_c = Product.__table__.c
_inventory_c = InventoryLevel.__table__.c
_PRODUCT_COLUMNS = (
    _products_c.id,
    _products_c.sku,
    _products_c.length_mm,
    _products_c.width_mm,
    _products_c.height_mm,
    _products_c.weight_g,
)


def _of_basket(statement: Select[Any]) -> Select[Any]:
    """``statement`` kept to the merchant's active products of the basket's SKUs (bound at
    execution: `_basket`)."""
    return statement.where(
        _products_c.merchant_id == bindparam("merchant_id"),
        _products_c.sku.in_(bindparam("skus", expanding=True)),
        _products_c.active.is_(True),
    )


def _basket(merchant_id: int, items: Sequence[BasketItem]) -> dict[str, Any]:
    return {"merchant_id": merchant_id, "skus": [item.sku for item in items]}


# The basket's products and every node's free stock of them, in one round trip; built once
# (its cache key too), as every preview and order runs it.
_BASKET_STOCK = _of_basket(
    select(
        *_PRODUCT_COLUMNS,
        _inventory_c.node_id,
        (_inventory_c.on_hand - _inventory_c.reserved).label("available"),
    ).outerjoin_from(
        Product.__table__, InventoryLevel.__table__, _inventory_c.product_id == _products_c.id
    )
)
_BASKET_PRODUCTS = _of_basket(select(*_PRODUCT_COLUMNS))


def assess_basket(
    session: Session,
    merchant_id: int,
    items: Sequence[BasketItem],
    destination: Destination,
    *,
    now: datetime,
    policy: rules.PromisePolicy | None = None,
    network: NetworkSnapshot | None = None,
    committed: CommittedVolumeCache | None = None,
) -> tuple[rules.Assessment, dict[str, BasketProduct]]:
    """The assessment of a basket for a destination (``network``: a snapshot to reuse;
    ``committed``: the process's recent count of committed volume, instead of a fresh one)."""
    network = network or load_snapshot(session)
    products, stock = _basket_stock(session, merchant_id, items)
    _check_size(items, products)
    lines = _lines(items, products, stock, network)
    station = network.station_for(destination.lat, destination.lng)
    partners = network.partners_for(destination.lat, destination.lng)
    used = _used_capacity(session, station, partners, now, committed)
    assessment = rules.assess(
        now=now,
        destination=(destination.lat, destination.lng),
        lines=lines,
        station=station,
        partners=partners,
        used_capacity=used,
        policy=policy or rules.PromisePolicy(),
    )
    return assessment, products


def _basket_stock(
    session: Session, merchant_id: int, items: Sequence[BasketItem]
) -> tuple[dict[str, BasketProduct], dict[int, list[tuple[int, int]]]]:
    """The basket's products by SKU, and (node id, free units) per product id."""
    products: dict[str, BasketProduct] = {}
    stock: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = session.connection().execute(_BASKET_STOCK, _basket(merchant_id, items))
    for product_id, sku, length, width, height, weight, node_id, available in rows:
        if sku not in products:
            products[sku] = BasketProduct(product_id, sku, length, width, height, weight)
        if node_id is not None:
            stock[product_id].append((node_id, available))
    _check_known(items, products)
    return products, stock


def basket_products(
    session: Session, merchant_id: int, items: Sequence[BasketItem]
) -> dict[str, BasketProduct]:
    """The basket's products by SKU (`UnknownSku` for one the merchant doesn't sell)."""
    rows = session.connection().execute(_BASKET_PRODUCTS, _basket(merchant_id, items))
    products = {row.sku: BasketProduct(*row) for row in rows}
    _check_known(items, products)
    return products


def _check_known(items: Sequence[BasketItem], products: Mapping[str, BasketProduct]) -> None:
    for index, item in enumerate(items):
        if item.sku not in products:
            raise UnknownSku(f"no product with SKU '{item.sku}'", field=f"items[{index}].sku")


def _check_size(items: Sequence[BasketItem], products: dict[str, BasketProduct]) -> None:
    for index, item in enumerate(items):
        product = products[item.sku]
        volume = product.volume_cm3
        if volume * item.quantity > MAX_PACKAGE_VOLUME_CM3 or (
            product.weight_g * item.quantity > MAX_PACKAGE_WEIGHT_G
        ):
            raise BasketTooLarge(
                f"{item.quantity} × '{item.sku}' ({volume * item.quantity / 1000:.0f} l, "
                f"{product.weight_g * item.quantity / 1000:.1f} kg) is more than a car takes "
                f"({MAX_PACKAGE_VOLUME_CM3 // 1000} l, {MAX_PACKAGE_WEIGHT_G // 1000} kg)",
                field=f"items[{index}].quantity",
            )


def _lines(
    items: Sequence[BasketItem],
    products: dict[str, BasketProduct],
    stock: dict[int, list[tuple[int, int]]],
    network: NetworkSnapshot,
) -> list[rules.Line]:
    lines = []
    for item in items:
        product = products[item.sku]
        candidates = tuple(
            place
            for node_id, available in stock[product.id]
            # None: an inactive node.
            if available >= item.quantity and (place := network.places.get(node_id)) is not None
        )
        lines.append(
            rules.Line(
                sku=item.sku,
                quantity=item.quantity,
                unit_volume_cm3=product.volume_cm3,
                unit_weight_g=product.weight_g,
                candidates=candidates,
            )
        )
    return lines


def _used_capacity(
    session: Session,
    station: rules.Place | None,
    partners: Sequence[rules.PartnerCoverage],
    now: datetime,
    committed: CommittedVolumeCache | None,
) -> Mapping[tuple[int, date], int]:
    node_ids = [p.place.id for p in partners] + ([station.id] if station else [])
    if not node_ids:
        return {}
    # The API's per-process count covers every node; without one, count just these nodes.
    if committed is not None:
        return committed.get(session, now.date())
    return committed_volume(session, now.date(), node_ids)


def _option_out(option: rules.Option, now: datetime) -> OptionOut:
    tz = option.legs[0].serving.tz if option.legs[0].serving else option.legs[0].place.tz
    store = option.pickup
    return OptionOut(
        id=option.id,
        kind="delivery" if store is None else "pickup",
        speed=option.speed,
        label=(
            rules.label(option.speed, option.promised_by, tz)
            if store is None
            else rules.pickup_label(option.promised_by, tz, now)
        ),
        promised_by=option.promised_by,
        pickup=None if store is None else _pickup_store_out(store, option.promised_by),
        fee_cents=option.fee_cents,
        channel=option.channel,
        fulfilment=[
            FulfilmentOut(
                node=leg.place.code,
                node_name=leg.place.name,
                channel=leg.channel,
                delivered_by=leg.serving.code if leg.serving else None,
                skus=list(leg.skus),
            )
            for leg in option.legs
        ],
    )


def _pickup_store_out(store: rules.PartnerCoverage, ready_by: datetime) -> PickupStoreOut:
    return PickupStoreOut(
        code=store.place.code,
        name=store.place.name,
        address=store.address,
        lat=store.place.lat,
        lng=store.place.lng,
        distance_m=round(store.distance_m),
        opening_hours={day: list(hours) for day, hours in store.opening_hours.items()},
        hours=rules.hours_text(store.opening_hours),
        ready_by=ready_by,
    )


def _stored_option(option: rules.Option) -> dict[str, Any]:
    """What an order needs later to keep exactly this promise."""
    return {
        "id": option.id,
        "speed": option.speed.value,
        "pickup_node_id": option.pickup.place.id if option.pickup else None,
        # What the hosted checkout shows of the store, as the shopper was told it.
        "pickup_store": (
            {
                "code": option.pickup.place.code,
                "name": option.pickup.place.name,
                "address": option.pickup.address,
                "hours": rules.hours_text(option.pickup.opening_hours),
            }
            if option.pickup
            else None
        ),
        "promised_by": option.promised_by.isoformat(),
        "fee_cents": option.fee_cents,
        "legs": [
            {
                "node_id": leg.place.id,
                "channel": leg.channel.value,
                "serving_node_id": leg.serving.id if leg.serving else None,
                "service_date": leg.service_date.isoformat(),
                "promised_by": leg.promised_by.isoformat(),
                "skus": list(leg.skus),
            }
            for leg in option.legs
        ],
    }
