"""The worker against real HTTP receivers on 127.0.0.1: signatures, retries, ordering."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from doorstep.models import DeliveryStatus, Merchant, Order, OutboxEvent, WebhookAttempt, utcnow
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Environment
from doorstep.webhooks import service
from doorstep.webhooks.signing import new_secret
from tests.shop import DOWNTOWN_CHANDLER, local, open_shop
from tests.webhooks.conftest import (
    Receiver,
    advance,
    deliveries,
    events_of,
    local_receivers,
    make_endpoint,
    new_merchant,
    new_package,
    run_pass,
)


def test_signature_verifies_with_standard_webhooks(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    receiver = start_receiver()
    endpoint = make_endpoint(session, merchant, receiver.url)
    package = new_package(session, merchant)
    event = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert event is not None

    report = run_pass(session_factory)

    assert (report.queued, report.succeeded) == (1, 1)
    [request] = receiver.requests
    assert request.headers["webhook-id"] == f"evt_{event.id}"
    assert request.headers["content-type"] == "application/json"
    message = Webhook(endpoint.signing_secret).verify(request.body, request.headers)
    assert message["type"] == "package.created"
    assert message["data"]["package"]["tracking_code"] == package.tracking_code
    assert message["timestamp"] == event.created_at.isoformat()
    # A tampered body or another secret does not verify.
    tampered = request.body.replace(b"package.created", b"package.delivered")
    for secret, body in ((endpoint.signing_secret, tampered), (new_secret(), request.body)):
        try:
            Webhook(secret).verify(body, request.headers)
        except Exception:
            continue
        raise AssertionError("a bad signature verified")
    [delivery] = deliveries(session, endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


def test_receiver_failing_twice_gets_the_event_on_the_third_try(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    receiver = start_receiver(fail=2)
    endpoint = make_endpoint(session, merchant, receiver.url)
    new_package(session, merchant)
    t0 = utcnow()

    run_pass(session_factory, t0)
    [delivery] = deliveries(session, endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    # First retry after ~5 s (±10 % jitter); not before.
    assert timedelta(seconds=4.5) <= delivery.next_attempt_at - t0 <= timedelta(seconds=5.5)
    assert run_pass(session_factory, t0 + timedelta(seconds=4)).attempted == 0

    run_pass(session_factory, delivery.next_attempt_at)
    [delivery] = deliveries(session, endpoint)
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    t1 = delivery.last_attempt_at
    assert t1 is not None
    # Second retry after ~30 s.
    assert delivery.next_attempt_at - t0 >= timedelta(seconds=27)

    report = run_pass(session_factory, delivery.next_attempt_at)
    assert report.succeeded == 1
    [delivery] = deliveries(session, endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    # Every attempt carries the same webhook-id and a valid signature.
    assert len(set(receiver.ids())) == 1
    for request in receiver.requests:
        Webhook(endpoint.signing_secret).verify(request.body, request.headers)
    log = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id))
    assert [a.status_code for a in log] == [500, 500, 200]


def test_order_of_events_per_order_is_preserved_across_retries(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    receiver = start_receiver(fail=1)  # every event fails once, then succeeds
    endpoint = make_endpoint(session, merchant, receiver.url)
    first = new_package(session, merchant)
    advance(session, first, PackageState.READY_FOR_PICKUP)
    advance(session, first, PackageState.ASSIGNED)
    other = new_package(session, merchant)
    order_a = session.get_one(Order, first.order_id)
    order_b = session.get_one(Order, other.order_id)
    a_ids = [f"evt_{e.id}" for e in events_of(session, order_a)]
    [b_id] = [f"evt_{e.id}" for e in events_of(session, order_b)]
    assert len(a_ids) == 3
    now = utcnow()

    # Pass 1: the first event of each order is tried (and fails); the later events of order A
    # wait behind it.
    run_pass(session_factory, now)
    assert sorted(receiver.ids()) == sorted([a_ids[0], b_id])

    # Keep passing time until everything is delivered.
    for _ in range(10):
        pending = [d for d in deliveries(session, endpoint) if d.status == "pending"]
        if not pending:
            break
        run_pass(session_factory, max(d.next_attempt_at for d in pending))
    assert {d.status for d in deliveries(session, endpoint)} == {DeliveryStatus.SUCCEEDED}

    # Order A's events reached the receiver in order: each one only after the one before it
    # was acknowledged (with a retry each time).
    a_requests = [r for r in receiver.requests if r.headers["webhook-id"] in a_ids]
    assert [(r.headers["webhook-id"], r.status) for r in a_requests] == [
        (a_ids[0], 500),
        (a_ids[0], 200),
        (a_ids[1], 500),
        (a_ids[1], 200),
        (a_ids[2], 500),
        (a_ids[2], 200),
    ]
    types = [json.loads(r.body)["type"] for r in a_requests if r.status == 200]
    assert types == ["package.created", "package.ready_for_pickup", "package.assigned"]
    # Order B was not held back by order A's retries.
    b_success = next(
        r for r in receiver.requests if r.headers["webhook-id"] == b_id and r.status == 200
    )
    a_last = a_requests[-1]
    assert b_success.at < a_last.at


def test_slow_receiver_does_not_delay_another_endpoint(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    slow_merchant = new_merchant(session, "Slow Goods")
    fast_merchant = new_merchant(session, "Fast Goods")
    slow_delay = 2.0
    slow = start_receiver(delay=slow_delay)
    fast = start_receiver()
    slow_endpoint = make_endpoint(session, slow_merchant, slow.url)
    fast_endpoint = make_endpoint(session, fast_merchant, fast.url)
    new_package(session, slow_merchant)
    for _ in range(3):
        new_package(session, fast_merchant)

    # Two slots: the slow receiver holds one for 2 s, the other slot delivers the rest.
    report = run_pass(session_factory, concurrency=2)

    assert report.succeeded == 4
    [slow_delivery] = deliveries(session, slow_endpoint)
    fast_ids = [d.id for d in deliveries(session, fast_endpoint)]
    # Relative to the slow receiver, not to a fixed second: on a loaded machine the fast
    # deliveries may take over a second, but waiting behind the slow one would take its delay.
    assert report.finished[slow_delivery.id] >= slow_delay
    assert max(report.finished[i] for i in fast_ids) < report.finished[slow_delivery.id]
    assert len(fast.requests) == 3
    assert all(r.at < slow.requests[0].at + slow_delay for r in fast.requests)


def test_dead_receiver_is_retried_then_failed_then_redelivered(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
    dead_url: str,
) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, dead_url)
    package = new_package(session, merchant)
    policy = service.DEFAULT_POLICY
    now = started = utcnow()
    run_pass(session_factory, now)
    for _ in range(policy.max_attempts - 1):
        [delivery] = deliveries(session, endpoint)
        assert delivery.status == "pending"
        now = delivery.next_attempt_at
        run_pass(session_factory, now)

    [delivery] = deliveries(session, endpoint)
    assert (delivery.status, delivery.attempts) == ("failed", policy.max_attempts)
    assert delivery.last_status_code is None
    assert "ConnectError" in (delivery.last_error or "")
    # The retries spread over about 22 hours (5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h).
    assert timedelta(hours=19) < now - started < timedelta(hours=25)
    assert run_pass(session_factory, now + timedelta(days=7)).attempted == 0

    # A failed delivery no longer holds back the order's next event.
    receiver = start_receiver()
    service.update_endpoint(
        session,
        merchant.merchant.id,
        endpoint.id,
        environment=Environment.TEST,
        addresses=local_receivers(),
        url=receiver.url,
    )
    advance(session, package, PackageState.READY_FOR_PICKUP)
    run_pass(session_factory, now)
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["package.ready_for_pickup"]

    service.redeliver(session, merchant.merchant.id, delivery.id, now=now)
    run_pass(session_factory, now)
    [redelivered, _] = deliveries(session, endpoint)
    assert (redelivered.status, redelivered.attempts) == ("succeeded", 1)
    assert receiver.ids()[-1] == f"evt_{redelivered.event_id}"
    attempts = session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
    ).all()
    assert len(attempts) == policy.max_attempts + 1


def test_a_new_order_reaches_the_receiver_before_its_packages(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    # Regression: the order's own event was written after its packages', so a receiver got
    # package.created before order.created for the same order.
    shop = open_shop(session)
    receiver = start_receiver()
    merchant = session.get_one(Merchant, shop.merchant_id)
    service.create_endpoint(
        session,
        merchant.id,
        receiver.url,
        ["*"],
        environment=Environment.TEST,
        addresses=local_receivers(),
    )
    session.commit()
    client.app.state.clock = lambda: local(10)  # type: ignore[attr-defined]
    response = client.post(
        "/v1/orders",
        json={
            "items": [{"sku": "PAN-28", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 1}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "same_day",
            "recipient": {"name": "Ana Ruiz", "phone": "+1 480 555 0101"},
        },
        headers=shop.headers(),
    )
    assert response.status_code == 201, response.json()

    for _ in range(5):  # each pass delivers the next event of the order
        run_pass(session_factory)
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert types == ["order.created", "package.created", "package.created"]
