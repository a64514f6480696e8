"""Placing, reading and cancelling orders.

Placing an order is one transaction: the order row (whose unique idempotency key makes a
concurrent duplicate stop here, before anything is reserved), the stock reservations (each an
atomic conditional UPDATE, so stock is never oversold however many orders race), the packages
with their first events, and the ``order.created`` outbox event.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.geo import postal_codes
from doorstep.models import (
    Channel,
    CounterChoice,
    DeliverySpeed,
    InventoryLevel,
    Node,
    Order,
    OrderLine,
    OrderStatus,
    OutboxEvent,
    Product,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.schemas import OrderIn
from doorstep.orders.transitions import insert_new_packages, transition_package
from doorstep.promise import service as promise
from doorstep.promise.capacity import CommittedVolumeCache
from doorstep.promise.network import NetworkSnapshot
from doorstep.promise.rules import PromisePolicy
from doorstep.promise.schemas import BasketItem, Destination

CANCELLABLE = frozenset(
    {PackageState.CREATED, PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED}
)


class IdempotencyKeyReused(DomainError):
    status = 409
    code = "idempotency_key_reused"


class OutOfStock(DomainError):
    status = 409
    code = "out_of_stock"


class SpeedUnavailable(DomainError):
    status = 409
    code = "speed_unavailable"


class OutsideServiceArea(InvalidInput):
    code = "outside_service_area"


class OrderNotFound(NotFound):
    code = "order_not_found"


class OrderNotCancellable(DomainError):
    status = 409
    code = "order_not_cancellable"


class AddressMissing(InvalidInput):
    code = "address_missing"


class OrderDiffersFromPreview(DomainError):
    """An order naming a preview asked for another basket, place or speed than the preview's:
    its promise was made for those, and holds for nothing else."""

    status = 409
    code = "order_differs_from_preview"


# How far an order's point may be from its preview's: float noise, not another address.
_SAME_POINT_DEGREES = 1e-6


@dataclass(frozen=True)
class Leg:
    """One fulfilling node's share of the order: becomes one package."""

    node_id: int
    channel: Channel
    serving_node_id: int | None
    service_date: date
    promised_by: datetime
    skus: tuple[str, ...]
    counter: bool = False  # kept at the serving partner store's counter for the shopper


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool  # True when an earlier request with the same idempotency key made it
    # For a new order: its lines and packages are loaded, and these are the node codes and
    # SKUs its view needs, so answering the request costs no further query.
    view_data: dict[str, Any] | None = None


def fingerprint(body: OrderIn) -> str:
    """What a retry must repeat: the request without the fields left at their defaults.

    Leaving defaults out means a field added to the API later (with a default) does not
    change the fingerprint of a retry sent by a client that does not know it.
    """
    return _digest(body.model_dump(mode="json", exclude_defaults=True))


def _earlier_fingerprints(body: OrderIn) -> set[str]:
    """Fingerprints an order placed by an earlier release may carry for this request."""
    return {_digest(body.model_dump(mode="json"))}  # until 2026-11: every field, defaults too


def _digest(canonical: dict[str, Any]) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def place_order(
    session: Session,
    merchant_id: int,
    body: OrderIn,
    *,
    idempotency_key: str | None,
    now: datetime,
    policy: PromisePolicy | None = None,
    network: NetworkSnapshot | None = None,
    committed: CommittedVolumeCache | None = None,
    savepoint: bool = True,
) -> PlacedOrder:
    """Place an order (``network``, ``committed``: the API's caches, see `assess_basket`).

    A refused order (out of stock, ...) writes nothing: its writes are undone by a savepoint,
    so the caller's transaction can go on. A caller that rolls back its whole transaction on
    any error anyway (the API's unit of work) passes ``savepoint=False`` and saves the two
    round trips.
    """
    digest = fingerprint(body)
    # Almost every key is new, so the key is not looked up first: the order insert below finds
    # a retry (its unique index). A retry whose promise no longer holds (stock sold since, the
    # preview expired) must still get its order back, so a refusal looks for it here.
    try:
        items, destination, speed, fee, legs, preview_id, products = _resolve_promise(
            session, merchant_id, body, now, policy, network, committed
        )
    except DomainError:
        earlier = (
            None
            if idempotency_key is None
            else _by_idempotency_key(session, merchant_id, idempotency_key)
        )
        if earlier is None:
            raise
        return PlacedOrder(_same_request(earlier, body, digest), replayed=True)
    if not destination.address:
        raise AddressMissing(
            "the destination needs an address for the driver", field="destination.address"
        )
    values = {
        "public_id": f"ord_{secrets.token_urlsafe(12)}",
        "merchant_id": merchant_id,
        "status": OrderStatus.CONFIRMED,
        "speed": speed,
        "promised_by": max(leg.promised_by for leg in legs),
        "fee_cents": fee,
        "merchant_reference": body.merchant_reference,
        "payment_reference": body.payment_reference,
        "recipient_name": body.recipient.name,
        "recipient_phone": body.recipient.phone,
        "recipient_email": body.recipient.email,
        "dest_address": destination.address,
        "dest_postal_code": destination.postal_code,
        # The structured parts come only with the request's own destination (a preview has none).
        "dest_address_line2": body.destination.address_line2 if body.destination else None,
        "dest_city": body.destination.city if body.destination else None,
        "dest_state": body.destination.state if body.destination else None,
        "dest_country": body.destination.country if body.destination else "US",
        "dest_lat": destination.lat,
        "dest_lng": destination.lng,
        "delivery_instructions": body.delivery_instructions,
        "idempotency_key": idempotency_key,
        "request_fingerprint": digest,
        "preview_public_id": preview_id,
        "created_at": now,
        "updated_at": now,
    }
    undo = session.begin_nested() if savepoint else None
    # The unique (merchant, idempotency key) index decides a race between two retries of the
    # same request here, before either has reserved anything: the loser inserts nothing (on
    # PostgreSQL it waits for the winner's commit) and answers with the winner's order.
    order = session.scalars(_insert_if_new_key(session), [values]).one_or_none()
    if order is None:
        if undo is not None:
            undo.rollback()
        earlier = _by_idempotency_key(session, merchant_id, idempotency_key or "")
        if earlier is None:
            raise RuntimeError("an order insert without an Idempotency-Key conflicted")
        return PlacedOrder(_same_request(earlier, body, digest), replayed=True)
    try:
        _reserve_and_pack(session, order, items, legs, now, products, network)
    except BaseException:
        if undo is not None:
            undo.rollback()
        raise
    if undo is not None:
        undo.commit()
    node_ids = {leg.node_id for leg in legs} | {
        leg.serving_node_id for leg in legs if leg.serving_node_id is not None
    }
    view_data = {
        "node_codes": _node_codes(session, node_ids, network),
        "skus": {product.id: sku for sku, product in products.items()},
        "collect_at": {
            package.id: package.serving_node_id
            for leg, package in zip(legs, order.packages, strict=True)
            if leg.counter and package.serving_node_id is not None
        },
    }
    return PlacedOrder(order, replayed=False, view_data=view_data)


def _resolve_promise(
    session: Session,
    merchant_id: int,
    body: OrderIn,
    now: datetime,
    policy: PromisePolicy | None,
    network: NetworkSnapshot | None,
    committed: CommittedVolumeCache | None,
) -> tuple[
    list[BasketItem],
    Destination,
    DeliverySpeed,
    int,
    list[Leg],
    str | None,
    dict[str, promise.BasketProduct],
]:
    if body.preview_id is not None and body.option_id is not None:
        preview = promise.load_preview(session, merchant_id, body.preview_id, now=now)
        wanted = str(body.option_id)  # a speed's value, or pickup:<store code>
        option = next((o for o in preview.options if o["id"] == wanted), None)
        if option is None and not isinstance(body.option_id, DeliverySpeed):
            raise promise.PickupUnavailable(
                f"the preview offered no {wanted} option: that store does not keep parcels "
                "for this address; ask for a new preview",
                field="option_id",
            )
        if option is None:
            reason = next((u for u in preview.unavailable if u["speed"] == wanted), None)
            why = f": {reason['detail']}" if reason else ""
            raise SpeedUnavailable(
                f"the preview offered no {wanted} option{why}", field="option_id"
            )
        counter_at = option.get("pickup_node_id")
        items = [BasketItem.model_validate(i) for i in preview.items]
        destination = _same_place_as_preview(
            body, Destination.model_validate(preview.destination), preview.public_id
        )
        legs = [
            Leg(
                node_id=leg["node_id"],
                channel=Channel(leg["channel"]),
                serving_node_id=leg["serving_node_id"],
                service_date=date.fromisoformat(leg["service_date"]),
                promised_by=datetime.fromisoformat(leg["promised_by"]),
                skus=tuple(leg["skus"]),
                counter=counter_at is not None,
            )
            for leg in option["legs"]
        ]
        if counter_at is not None:
            # The store's day may have filled (or closed) since the preview: check it again.
            promise.check_counter(session, counter_at, legs[0].service_date, now=now)
        products = promise.basket_products(session, merchant_id, items)
        return (
            items,
            destination,
            DeliverySpeed(option["speed"]),
            option["fee_cents"],
            legs,
            preview.public_id,
            products,
        )
    assert body.items is not None and body.destination is not None and body.speed is not None
    assessment, products = promise.assess_basket(
        session,
        merchant_id,
        body.items,
        body.destination,
        now=now,
        policy=policy,
        network=network,
        committed=committed,
    )
    # A speed is delivery to the door: a pick-up option of the same speed is not it.
    chosen = next(
        (o for o in assessment.options if o.speed is body.speed and o.pickup is None), None
    )
    if chosen is None:
        refusal = next(u for u in assessment.unavailable if u.speed is body.speed)
        error = {"out_of_stock": OutOfStock, "outside_service_area": OutsideServiceArea}.get(
            refusal.reason, SpeedUnavailable
        )
        raise error(refusal.detail, field="speed", reason=refusal.reason)
    legs = [
        Leg(
            node_id=leg.place.id,
            channel=leg.channel,
            serving_node_id=leg.serving.id if leg.serving else None,
            service_date=leg.service_date,
            promised_by=leg.promised_by,
            skus=leg.skus,
        )
        for leg in chosen.legs
    ]
    return list(body.items), body.destination, body.speed, chosen.fee_cents, legs, None, products


def _same_place_as_preview(body: OrderIn, quoted: Destination, preview_id: str) -> Destination:
    """The destination of an order placed from a preview: the preview's point, with the
    street address the order adds. (The basket and speed are the preview's: the order cannot
    name others.) A point or postal code the order repeats must be the preview's."""
    given = body.destination
    if given is None:
        return quoted
    for field, asked, promised in (("lat", given.lat, quoted.lat), ("lng", given.lng, quoted.lng)):
        if not math.isclose(asked, promised, rel_tol=0, abs_tol=_SAME_POINT_DEGREES):
            raise OrderDiffersFromPreview(
                f"destination.{field} is not the preview's: preview {preview_id} promised "
                "delivery to another place; ask for a preview of this one",
                field=f"destination.{field}",
                preview_id=preview_id,
            )
    if (
        given.postal_code
        and quoted.postal_code
        and (_postal_code(given.postal_code) != _postal_code(quoted.postal_code))
    ):
        raise OrderDiffersFromPreview(
            f"destination.postal_code is not the preview's ({quoted.postal_code}); ask for a "
            "preview of this address",
            field="destination.postal_code",
            preview_id=preview_id,
        )
    return given.model_copy(
        update={
            "lat": quoted.lat,
            "lng": quoted.lng,
            "address": given.address or quoted.address,
            "postal_code": given.postal_code or quoted.postal_code,
        }
    )


def _postal_code(code: str) -> str:
    return postal_codes.normalise(code) or code.replace(" ", "").upper()


# The dialects with INSERT ... ON CONFLICT, which placing an order relies on.
_INSERTS_WITH_ON_CONFLICT: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


# Built once per dialect (their cache keys too): every order runs one.
_INSERTS_IF_NEW_KEY = {
    dialect: make_insert(Order)
    .on_conflict_do_nothing(index_elements=["merchant_id", "idempotency_key"])
    .returning(Order)
    for dialect, make_insert in _INSERTS_WITH_ON_CONFLICT.items()
}
_NEW_LINES = insert(OrderLine).returning(OrderLine, sort_by_parameter_order=True)


def _insert_if_new_key(session: Session) -> Any:
    """``INSERT INTO orders ... ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
    RETURNING …``."""
    dialect = session.get_bind().dialect.name
    statement = _INSERTS_IF_NEW_KEY.get(dialect)
    if statement is None:
        raise RuntimeError(f"orders need ON CONFLICT, which {dialect} lacks here")
    return statement


_inventory = InventoryLevel.__table__.c
_quantity: BindParameter[int] = bindparam("b_quantity", type_=Integer)
# Reserve only while enough is free: the row lock and the check in one statement make
# concurrent orders for the last units queue up instead of overselling.
_RESERVE = (
    update(InventoryLevel)
    .where(
        _inventory.product_id == bindparam("b_product_id"),
        _inventory.node_id == bindparam("b_node_id"),
        _inventory.on_hand - _inventory.reserved >= _quantity,
    )
    .values(reserved=_inventory.reserved + _quantity, updated_at=bindparam("b_now"))
)


def _reserve_and_pack(
    session: Session,
    order: Order,
    items: Sequence[BasketItem],
    legs: Sequence[Leg],
    now: datetime,
    products: Mapping[str, promise.BasketProduct],
    network: NetworkSnapshot | None,
) -> None:
    quantities = {item.sku: item.quantity for item in items}
    # Same order of rows in every transaction, so two baskets never deadlock each other.
    wanted = sorted(
        (products[sku].id, leg.node_id, quantities[sku], sku) for leg in legs for sku in leg.skus
    )
    connection = session.connection()
    for product_id, node_id, quantity, sku in wanted:
        reserved = connection.execute(
            _RESERVE,
            {
                "b_product_id": product_id,
                "b_node_id": node_id,
                "b_quantity": quantity,
                "b_now": now,
            },
        )
        if reserved.rowcount != 1:
            code = _node_codes(session, {node_id}, network)[node_id]
            raise OutOfStock(
                f"not enough '{sku}' left at {code} for {quantity}",
                field="items",
                sku=sku,
                node=code,
            )
    packages = insert_new_packages(
        session,
        [
            _package_for(order, leg, [(products[s], quantities[s]) for s in leg.skus])
            for leg in legs
        ],
        order,
        actor=f"merchant:{order.merchant_id}",
        at=now,
        # One statement for every outbox row of the new order: the order's own event, then
        # the packages' (order.created before package.created, as receivers expect).
        first_outbox=[order_event_values(order, "order.created", now)],
    )
    lines = list(
        session.scalars(
            _NEW_LINES,
            [
                {
                    "order_id": order.id,
                    "product_id": products[sku].id,
                    "node_id": leg.node_id,
                    "package_id": package.id,
                    "quantity": quantities[sku],
                }
                for leg, package in zip(legs, packages, strict=True)
                for sku in leg.skus
            ],
        )
    )
    # The new order's collections are exactly these: mark them loaded, so its view needs no
    # query (the relationships refuse lazy loads).
    counters = [
        {
            "package_id": package.id,
            "partner_store_id": leg.serving_node_id,
            "chosen_in": "checkout",
            "chosen_at": now,
        }
        for leg, package in zip(legs, packages, strict=True)
        if leg.counter
    ]
    if counters:
        session.execute(insert(CounterChoice), counters)
    set_committed_value(order, "packages", packages)
    set_committed_value(order, "lines", lines)


def _node_codes(
    session: Session, node_ids: set[int], network: NetworkSnapshot | None
) -> dict[int, str]:
    if network is not None and all(node_id in network.places for node_id in node_ids):
        return {node_id: network.places[node_id].code for node_id in node_ids}
    return dict(session.execute(select(Node.id, Node.code).where(Node.id.in_(node_ids))).all())


def _package_for(
    order: Order, leg: Leg, contents: list[tuple[promise.BasketProduct, int]]
) -> dict[str, Any]:
    # One box around everything: as long and wide as the largest item, tall enough to hold
    # the total volume. A planner needs volume and weight, not a packing plan.
    length = max(p.length_mm for p, _ in contents)
    width = max(p.width_mm for p, _ in contents)
    volume = sum(p.length_mm * p.width_mm * p.height_mm * q for p, q in contents)
    return {
        "tracking_code": secrets.token_urlsafe(16),
        "order_id": order.id,
        "origin_node_id": leg.node_id,
        "channel": leg.channel,
        "serving_node_id": leg.serving_node_id,
        "service_date": leg.service_date,
        "length_mm": length,
        "width_mm": width,
        "height_mm": max(1, math.ceil(volume / (length * width))),
        "weight_g": sum(p.weight_g * q for p, q in contents),
        "promised_by": leg.promised_by,
        "created_at": order.created_at,
        "updated_at": order.created_at,
    }


def emit_order_event(session: Session, order: Order, event_type: str, now: datetime) -> None:
    # Inserted at once (an ORM bulk insert), so it lands after every event written before it.
    session.execute(insert(OutboxEvent), [order_event_values(order, event_type, now)])


def order_event_values(order: Order, event_type: str, now: datetime) -> dict[str, Any]:
    """The outbox row of an order-level event."""
    return {
        "event_type": event_type,
        "aggregate_type": "order",
        "aggregate_id": order.id,
        "merchant_id": order.merchant_id,
        "ordering_key": f"order:{order.id}",
        "payload": {
            "order": {
                "id": order.public_id,
                "status": order.status.value,
                "speed": order.speed.value,
                "promised_by": order.promised_by.isoformat(),
                "merchant_reference": order.merchant_reference,
            },
            "occurred_at": now.isoformat(),
        },
        "created_at": now,
    }


_orders = Order.__table__.c
_ORDER_BY_KEY = select(_orders.id).where(
    _orders.merchant_id == bindparam("merchant_id"),
    _orders.idempotency_key == bindparam("key"),
)


def _by_idempotency_key(session: Session, merchant_id: int, key: str) -> Order | None:
    # Ask for the id alone, and load the order only when there is one.
    order_id = session.connection().scalar(_ORDER_BY_KEY, {"merchant_id": merchant_id, "key": key})
    return None if order_id is None else session.get(Order, order_id)


def _same_request(order: Order, body: OrderIn, digest: str) -> Order:
    if order.request_fingerprint != digest and (
        order.request_fingerprint not in _earlier_fingerprints(body)
    ):
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key per order",
            field="Idempotency-Key",
            order_id=order.public_id,
        )
    return order


def get_order(session: Session, merchant_id: int, public_id: str, *, lock: bool = False) -> Order:
    """The order with its lines and packages; ``lock``: its row locked for this transaction,
    and everything read fresh (after whoever held the lock committed)."""
    statement = (
        select(Order)
        .where(Order.merchant_id == merchant_id, Order.public_id == public_id)
        .options(*ORDER_LOADS)
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(statement)
    if order is None:
        raise OrderNotFound(f"no order '{public_id}'", order_id=public_id)
    return order


ORDER_LOADS = (selectinload(Order.lines), selectinload(Order.packages))


def cancel_order(session: Session, merchant_id: int, public_id: str, *, now: datetime) -> Order:
    """Cancel before pickup: every package is cancelled and its stock released.

    Cancels of one order queue on its row (``FOR UPDATE``; SQLite has one writer anyway): each
    reads the order after the one before it committed, so a retry finds it cancelled and
    answers with it, rather than racing the first one's package updates."""
    order = get_order(session, merchant_id, public_id, lock=True)
    if order.status is OrderStatus.CANCELLED:
        return order  # cancelling twice is not an error: the client may be retrying
    blocking = [p for p in order.packages if p.state not in CANCELLABLE]
    if blocking:
        states = ", ".join(sorted({p.state.value for p in blocking}))
        raise OrderNotCancellable(
            f"the order can't be cancelled: packages are already {states}", order_id=public_id
        )
    for package in order.packages:
        transition_package(
            session,
            package,
            PackageState.CANCELLED,
            actor=f"merchant:{merchant_id}",
            reason="order_cancelled",
            at=now,
        )
    for line in sorted(order.lines, key=lambda line: (line.product_id, line.node_id)):
        session.execute(
            update(InventoryLevel)
            .where(
                InventoryLevel.product_id == line.product_id, InventoryLevel.node_id == line.node_id
            )
            .values(reserved=InventoryLevel.reserved - line.quantity)
            .execution_options(synchronize_session=False)
        )
    order.status = OrderStatus.CANCELLED
    order.updated_at = now
    session.flush()
    emit_order_event(session, order, "order.cancelled", now)
    return order


def order_view_data(session: Session, orders: Sequence[Order]) -> dict[str, Any]:
    """Codes and SKUs the views need, fetched once for a page of orders."""
    node_ids = {line.node_id for o in orders for line in o.lines}
    node_ids |= {p.serving_node_id for o in orders for p in o.packages if p.serving_node_id}
    node_ids |= {p.origin_node_id for o in orders for p in o.packages}
    product_ids = {line.product_id for o in orders for line in o.lines}
    # .all(): a list of (id, code) rows. dict(result) itself would take the Result for a
    # mapping, since it has .keys().
    skus: dict[int, str] = dict(
        session.execute(
            select(Product.id, Product.sku).where(Product.id.in_(sorted(product_ids)))
        ).all()
    )
    package_ids = sorted(p.id for o in orders for p in o.packages)
    collect_at: dict[int, int] = (
        dict(
            session.execute(
                select(CounterChoice.package_id, CounterChoice.partner_store_id).where(
                    CounterChoice.package_id.in_(package_ids)
                )
            ).all()
        )
        if package_ids
        else {}
    )
    node_ids |= set(collect_at.values())
    codes: dict[int, str] = dict(
        session.execute(select(Node.id, Node.code).where(Node.id.in_(sorted(node_ids)))).all()
    )
    return {"node_codes": codes, "skus": skus, "collect_at": collect_at}
