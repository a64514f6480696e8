"""kill -9 of the webhook worker mid-delivery: no event lost, duplicates only for attempts
that were in flight (the documented at-least-once).

A local receiver answers each POST after 50 ms. The worker (``doorstep worker``, a
subprocess) delivers the outbox of a hundred orders to it and gets SIGKILL once about a third
has arrived. An attempt in flight then holds its lease: the test moves the leases' end to now,
as the two minutes passing would, and starts the worker again. Every event must reach the
receiver; an event may arrive twice only if its attempt was in flight at the kill.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from doorstep.db import session_factory, unit_of_work
from doorstep.models import DeliverySpeed, DeliveryStatus, OutboxEvent, WebhookDelivery, utcnow
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.promise.schemas import BasketItem
from doorstep.settings import Environment
from doorstep.webhooks import service as webhooks
from doorstep.webhooks.addresses import AddressPolicy
from tests.crash.processes import Process, environment, running
from tests.shop import DOWNTOWN_CHANDLER, open_shop
from tests.webhooks.conftest import Receiver, _handler

pytestmark = [pytest.mark.crash, pytest.mark.timeout(300)]

ORDERS = 100
CONCURRENCY = 10


def _seed(engine: Engine, url: str) -> int:
    """A merchant with an endpoint at ``url`` and ORDERS orders; the number of events."""
    with unit_of_work(session_factory(engine)) as session:
        shop = open_shop(session, pan_stock=10_000, kettle_stock=10_000)
        webhooks.create_endpoint(
            session,
            shop.merchant_id,
            url,
            ["*"],
            environment=Environment.TEST,
            addresses=AddressPolicy.allowing(["127.0.0.1"]),
        )
        now = utcnow()
        for number in range(ORDERS):
            orders.place_order(
                session,
                shop.merchant_id,
                OrderIn(
                    items=[
                        BasketItem(sku="PAN-28", quantity=1),
                        BasketItem(sku="KETTLE-1", quantity=1),
                    ],
                    destination=OrderDestination(**DOWNTOWN_CHANDLER),
                    speed=DeliverySpeed.TWO_DAY,
                    recipient=Recipient(name=f"Customer {number}"),
                ),
                idempotency_key=None,
                now=now,
            )
        return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def _worker(url: str, log: Path) -> Process:
    env = environment(url, DOORSTEP_WEBHOOK_ALLOW_PRIVATE="127.0.0.1")
    args = ["worker", "--interval", "0.2", "--concurrency", str(CONCURRENCY)]
    return Process(args, env, log)


def _wait(condition: object, seconds: float, what: str, worker: Process) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {seconds} s:\n{worker.output()}")


def test_no_event_lost_when_the_worker_is_killed(committed_engine: Engine, tmp_path: Path) -> None:
    receiver = Receiver(delay=0.05)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        events = _seed(committed_engine, receiver.url)
        database = committed_engine.url.render_as_string(hide_password=False)
        log = tmp_path / "worker.log"

        worker = _worker(database, log)
        with running(worker):
            _wait(lambda: len(receiver.requests) >= events // 3, 60, "a third", worker)
            worker.kill()
        received_at_kill = len(receiver.requests)
        in_flight = _expire_leases(committed_engine)

        restarted = _worker(database, log)
        with running(restarted):
            _wait(lambda: _all_delivered(committed_engine), 90, "every delivery", restarted)
    finally:
        server.shutdown()
        server.server_close()

    counts = Counter(receiver.ids())
    expected = {f"evt_{event_id}" for event_id in _event_ids(committed_engine)}
    lost = expected - set(counts)
    duplicates = {msg_id: n for msg_id, n in counts.items() if n > 1}
    print(
        f"\nkill -9 of the worker: {len(expected)} events, received {len(counts)} distinct "
        f"({received_at_kill} requests before the kill), lost {len(lost)}, "
        f"duplicates {sum(n - 1 for n in duplicates.values())} "
        f"(attempts in flight at the kill: {len(in_flight)})"
    )
    assert len(expected) == events
    assert lost == set()
    # Only an attempt cut off by the kill may have reached the receiver before its outcome
    # was recorded; it is sent again after its lease.
    assert set(duplicates) <= {f"evt_{event_id}" for event_id in in_flight}
    assert all(n == 2 for n in duplicates.values())


def _expire_leases(engine: Engine) -> set[int]:
    """The events whose attempt was in flight at the kill (claimed, never recorded); their
    leases end now, as if their two minutes had passed."""
    now = utcnow()
    with unit_of_work(session_factory(engine)) as session:
        leased = WebhookDelivery.next_attempt_at > now + timedelta(seconds=30)
        pending = WebhookDelivery.status == DeliveryStatus.PENDING
        in_flight = set(session.scalars(select(WebhookDelivery.event_id).where(pending, leased)))
        session.execute(update(WebhookDelivery).where(pending, leased).values(next_attempt_at=now))
    assert len(in_flight) <= CONCURRENCY
    return in_flight


def _all_delivered(engine: Engine) -> bool:
    with unit_of_work(session_factory(engine)) as session:
        statuses = Counter(session.scalars(select(WebhookDelivery.status)))
    return bool(statuses) and set(statuses) == {DeliveryStatus.SUCCEEDED}


def _event_ids(engine: Engine) -> list[int]:
    with unit_of_work(session_factory(engine)) as session:
        return list(session.scalars(select(OutboxEvent.id)))
