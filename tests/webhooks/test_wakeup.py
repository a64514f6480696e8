"""The worker delivers as soon as events are committed, not at its next poll: woken by the
outbox (PostgreSQL NOTIFY from the writing transaction; a 50 ms look on SQLite), and by each
attempt's end for the order's next event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import Engine

from doorstep.db import session_factory, unit_of_work
from doorstep.jobs import Registry, Runner
from doorstep.orders.lifecycle import PackageState
from doorstep.webhooks.worker import DeliveryWorker, http_client
from tests.webhooks.conftest import (
    Receiver,
    advance,
    local_receivers,
    make_endpoint,
    new_merchant,
    new_package,
)

POLL_S = 30.0  # the runner's poll: far longer than the test may take


def test_events_go_out_at_once_and_in_order(
    committed_engine: Engine, start_receiver: Callable[..., Receiver]
) -> None:
    sessions = session_factory(committed_engine)
    receiver = start_receiver(delay=0.03)
    with unit_of_work(sessions) as session:
        merchant = new_merchant(session)
        make_endpoint(session, merchant, receiver.url)

    def write_an_order_s_events() -> None:
        with unit_of_work(sessions) as session:
            package = new_package(session, merchant)
            advance(session, package, PackageState.READY_FOR_PICKUP)
            advance(session, package, PackageState.ASSIGNED)

    async def scenario() -> float:
        stop = asyncio.Event()
        async with http_client(local_receivers()) as client:
            worker = DeliveryWorker(sessions, client, concurrency=10)
            registry = Registry()
            worker.register(registry)
            running = asyncio.create_task(
                Runner(sessions, registry).run_forever(stop, interval=POLL_S)
            )
            await asyncio.sleep(0.5)  # the first pass has run; the next poll is 30 s away
            started = time.monotonic()
            await asyncio.to_thread(write_an_order_s_events)
            while len(receiver.requests) < 3 and time.monotonic() - started < 10:
                await asyncio.sleep(0.01)
            elapsed = time.monotonic() - started
            stop.set()
            await running
        return elapsed

    elapsed = asyncio.run(scenario())
    types = [r.body.split(b'"type":"')[1].split(b'"')[0].decode() for r in receiver.requests]
    assert types == ["package.created", "package.ready_for_pickup", "package.assigned"]
    assert elapsed < 5, elapsed  # woken each time, never waiting for the 30 s poll
