"""Orders under real concurrency: many transactions at once on a database of their own."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import Engine, func, select

from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.models import InventoryLevel, Order, OutboxEvent
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import cancel_order, place_order
from doorstep.promise.schemas import BasketItem
from tests.shop import DOWNTOWN_CHANDLER, local, open_shop

CLIENTS = 200
STOCK = 50


def _body(reference: str) -> OrderIn:
    return OrderIn.model_validate(
        {
            "items": [{"sku": "PAN-28", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "same_day",
            "recipient": {"name": "Racer"},
            "merchant_reference": reference,
        }
    )


def test_200_concurrent_orders_for_50_in_stock(committed_engine: Engine) -> None:
    factory = session_factory(committed_engine)
    with unit_of_work(factory) as session:
        shop = open_shop(session, pan_stock=STOCK)
    start = Barrier(32)

    def attempt(number: int) -> str:
        if number < 32:
            start.wait()  # the first wave leaves together
        try:
            with unit_of_work(factory) as session:
                place_order(
                    session,
                    shop.merchant_id,
                    _body(f"R-{number}"),
                    idempotency_key=None,
                    now=local(10),
                )
        except DomainError as exc:
            return exc.code
        return "placed"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = Counter(pool.map(attempt, range(CLIENTS)))

    assert outcomes == {"placed": STOCK, "out_of_stock": CLIENTS - STOCK}
    with unit_of_work(factory) as session:
        level = session.scalars(select(InventoryLevel).where(InventoryLevel.reserved > 0)).one()
        assert (level.on_hand, level.reserved) == (STOCK, STOCK)
        assert session.scalar(select(func.count()).select_from(Order)) == STOCK
        created = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "order.created")
        )
        assert created == STOCK


def test_concurrent_retries_with_one_key_make_one_order(committed_engine: Engine) -> None:
    factory = session_factory(committed_engine)
    with unit_of_work(factory) as session:
        shop = open_shop(session, pan_stock=STOCK)
    retries = 16
    start = Barrier(retries)

    def attempt(_: int) -> tuple[str, bool]:
        start.wait()
        with unit_of_work(factory) as session:
            placed = place_order(
                session,
                shop.merchant_id,
                _body("same"),
                idempotency_key="checkout-7",
                now=local(10),
            )
            return placed.order.public_id, placed.replayed

    with ThreadPoolExecutor(max_workers=retries) as pool:
        results = list(pool.map(attempt, range(retries)))

    assert len({order_id for order_id, _ in results}) == 1
    assert sum(1 for _, replayed in results if not replayed) == 1
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.sum(InventoryLevel.reserved))) == 1


def test_20_concurrent_cancels_of_one_order_answer_cleanly(committed_engine: Engine) -> None:
    factory = session_factory(committed_engine)
    with unit_of_work(factory) as session:
        shop = open_shop(session, pan_stock=STOCK)
        body = _body("cancel-me").model_copy(
            update={"items": [BasketItem(sku="PAN-28", quantity=3)]}
        )
        order_id = place_order(
            session, shop.merchant_id, body, idempotency_key=None, now=local(10)
        ).order.public_id
    clients = 20
    start = Barrier(clients)

    def cancel(_: int) -> str:
        start.wait()
        try:
            with unit_of_work(factory) as session:
                order = cancel_order(session, shop.merchant_id, order_id, now=local(10, 5))
                return order.status.value
        except DomainError as exc:
            return exc.code
        except Exception as exc:  # what the API would answer with a 500
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = Counter(pool.map(cancel, range(clients)))

    assert outcomes == {"cancelled": clients}
    with unit_of_work(factory) as session:
        level = session.scalars(select(InventoryLevel).where(InventoryLevel.on_hand == STOCK)).one()
        assert level.reserved == 0  # released once: 3 - 3
        cancelled = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "order.cancelled")
        )
        assert cancelled == 1
