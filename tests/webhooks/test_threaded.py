"""With sessions on an engine (``doorstep worker``), each pass's transaction runs in a thread
of its own while the requests in flight go on: every event still arrives once, each order's
in order, and an endpoint never has more requests in flight than its share."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Engine, select

from doorstep.db import session_factory, unit_of_work
from doorstep.models import DeliveryStatus, OutboxEvent, WebhookDelivery
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

STEPS = (PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED, PackageState.PICKED_UP)


def test_a_pass_in_its_thread_delivers_all_once_in_order_within_the_endpoint_s_share(
    committed_engine: Engine, start_receiver: Callable[..., Receiver]
) -> None:
    sessions = session_factory(committed_engine)
    receiver = start_receiver(delay=0.02)
    with unit_of_work(sessions) as session:
        merchant = new_merchant(session)
        make_endpoint(session, merchant, receiver.url)
        packages = [new_package(session, merchant) for _ in range(12)]
        for state in STEPS:
            for package in packages:
                advance(session, package, state)

    async def deliver() -> DeliveryWorker:
        async with http_client(local_receivers()) as client:
            worker = DeliveryWorker(sessions, client, concurrency=8)
            assert worker._threaded
            await worker.run_once()
            return worker

    worker = asyncio.run(deliver())

    assert (worker.report.succeeded, worker.report.failed) == (48, 0)
    with sessions() as session:
        events = session.scalars(select(OutboxEvent.id)).all()
        statuses = set(session.scalars(select(WebhookDelivery.status)))
    assert statuses == {DeliveryStatus.SUCCEEDED}
    assert sorted(receiver.ids()) == sorted(f"evt_{e}" for e in events)  # each once
    per_order: dict[str, list[int]] = defaultdict(list)
    for request in receiver.requests:
        order = json.loads(request.body)["data"]["package"]["order_id"]
        per_order[order].append(int(request.headers["webhook-id"][4:]))
    assert all(ids == sorted(ids) for ids in per_order.values())
    # One endpoint: half of the 8 slots, however the answers and the records interleave.
    assert 1 < receiver.most_at_once <= 4
