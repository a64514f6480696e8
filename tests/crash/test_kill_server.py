"""kill -9 of the API server under order load: every order it acknowledged is there, whole.

Sixteen clients place orders as fast as the server takes them; once it has acknowledged
some, the server gets SIGKILL mid-load (requests in flight cut off), is started again, and
takes more orders. Then every acknowledged order (HTTP 201) must be in the database with its
lines, its packages, their stock reservations and its events: the request's one transaction
commits before the answer leaves, so an acknowledged order cannot be half there.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from doorstep.db import session_factory, unit_of_work
from doorstep.models import InventoryLevel, Order, OrderLine, OutboxEvent, Package
from tests.crash.processes import running, start_server
from tests.shop import DOWNTOWN_CHANDLER, open_shop

pytestmark = [pytest.mark.crash, pytest.mark.timeout(300)]

CLIENTS = 16
KILL_AFTER = 120  # acknowledged orders before the kill
MORE_AFTER_RESTART = 40


def _order_body(reference: str) -> dict[str, object]:
    return {
        "items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 2}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "two_day",
        "recipient": {"name": "Crash Test"},
        "merchant_reference": reference,
    }


async def _load(base: str, key: str, acknowledged: dict[str, str], until: int) -> Counter[str]:
    """Place orders from CLIENTS clients until ``until`` are acknowledged or the server dies."""
    outcomes: Counter[str] = Counter()
    stop = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            while not stop.is_set():
                reference = secrets.token_hex(8)
                headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": reference}
                try:
                    response = await http.post(
                        "/v1/orders", json=_order_body(reference), headers=headers
                    )
                except httpx.HTTPError:
                    outcomes["cut off"] += 1
                    stop.set()  # the server is gone
                    return
                outcomes[str(response.status_code)] += 1
                if response.status_code == 201:
                    acknowledged[reference] = response.json()["id"]
                    if len(acknowledged) >= until:
                        stop.set()
                else:
                    raise AssertionError(response.text)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return outcomes


def test_acknowledged_orders_survive_kill_9(committed_engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(session_factory(committed_engine)) as session:
        shop = open_shop(session, pan_stock=100_000, kettle_stock=100_000)
    url = committed_engine.url.render_as_string(hide_password=False)
    acknowledged: dict[str, str] = {}
    log = tmp_path / "server.log"

    server, base = start_server(url, log)
    with running(server):

        async def load_then_kill() -> Counter[str]:
            task = asyncio.create_task(_load(base, shop.secret_key, acknowledged, 10**9))
            while len(acknowledged) < KILL_AFTER and not task.done():
                await asyncio.sleep(0.01)
            server.kill()  # mid-load: every client has a request in flight
            return await task

        before = asyncio.run(load_then_kill())
    killed_at = len(acknowledged)
    assert killed_at >= KILL_AFTER, server.output()
    assert before["cut off"] >= 1  # requests were in flight when it died

    restarted, base = start_server(url, log)
    with running(restarted):
        after = asyncio.run(
            _load(base, shop.secret_key, acknowledged, killed_at + MORE_AFTER_RESTART)
        )
    assert after["cut off"] == 0

    found = _check_every_order(committed_engine, shop.merchant_id, acknowledged)
    print(
        f"\nkill -9 of the server: {len(acknowledged)} acknowledged ({killed_at} before the "
        f"kill), {found} found whole, lost {len(acknowledged) - found}; requests cut off "
        f"{before['cut off']}; orders in the database {_count_orders(committed_engine)}"
    )
    assert found == len(acknowledged)


def _count_orders(engine: Engine) -> int:
    with unit_of_work(session_factory(engine)) as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def _check_every_order(engine: Engine, merchant_id: int, acknowledged: dict[str, str]) -> int:
    """How many acknowledged orders are whole; asserts on the first that is not."""
    with unit_of_work(session_factory(engine)) as session:
        orders = {
            o.merchant_reference: o
            for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id))
        }
        lines = Counter(
            session.scalars(
                select(OrderLine.order_id).where(
                    OrderLine.order_id.in_([o.id for o in orders.values()])
                )
            )
        )
        packages = Counter(session.scalars(select(Package.order_id)))
        events: Counter[tuple[str | None, str]] = Counter(
            (key, kind)
            for key, kind in session.execute(
                select(OutboxEvent.ordering_key, OutboxEvent.event_type).where(
                    OutboxEvent.merchant_id == merchant_id
                )
            )
        )
        found = 0
        for reference, public_id in acknowledged.items():
            order = orders.get(reference)
            assert order is not None, f"acknowledged order {public_id} is lost"
            assert order.public_id == public_id
            assert lines[order.id] == 2, public_id
            assert packages[order.id] >= 1, public_id
            key = f"order:{order.id}"
            assert events[(key, "order.created")] == 1, public_id
            assert events[(key, "package.created")] == packages[order.id], public_id
            found += 1
        # Every order in the database (acknowledged or cut off before its answer) holds its
        # stock: the reservations add up to the lines, nothing more, nothing less.
        reserved = session.scalar(select(func.sum(InventoryLevel.reserved))) or 0
        ordered = session.scalar(select(func.sum(OrderLine.quantity))) or 0
        assert reserved == ordered == 3 * len(orders)
    return found
