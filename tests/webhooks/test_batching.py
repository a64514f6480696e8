"""One claim statement and one recording transaction for many deliveries: only the head of
each order's queue is claimed, a batch of outcomes moves each delivery on as one outcome at a
time would, and many orders' events reach a flaky receiver all, once each, in order."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.models import DeliveryStatus, OutboxEvent, WebhookAttempt, utcnow
from doorstep.orders.lifecycle import PackageState
from doorstep.webhooks import service
from doorstep.webhooks.service import AttemptOutcome
from tests.webhooks.conftest import (
    Receiver,
    advance,
    deliveries,
    make_endpoint,
    new_merchant,
    new_package,
    run_pass,
)

URL = "https://example.com/hooks"
STEPS = (PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED, PackageState.PICKED_UP)


def test_one_claim_takes_only_the_head_of_each_order(session: Session) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, URL)
    packages = [new_package(session, merchant) for _ in range(4)]
    for package in packages:
        for state in STEPS:
            advance(session, package, state)
    now = utcnow()
    assert service.fan_out(session, now=now) == 16

    first = service.claim_due(session, now=now, limit=50, per_endpoint=50)
    # Each order's first event, and nothing behind it while it is in flight.
    heads = {
        min(d.event_id for d in deliveries(session, endpoint) if d.ordering_key == key)
        for key in {f"order:{p.order_id}" for p in packages}
    }
    assert {due.event_id for due in first} == heads
    assert service.claim_due(session, now=now, limit=50, per_endpoint=50) == []

    # Recorded together: the next event of each order becomes the head.
    statuses = service.record_attempts(
        session,
        [AttemptOutcome(due.delivery_id, now, 5, status_code=200) for due in first],
        now=now,
    )
    assert set(statuses.values()) == {DeliveryStatus.SUCCEEDED}
    second = service.claim_due(session, now=now, limit=50, per_endpoint=50)
    assert len(second) == 4
    assert all(due.attempt == 1 for due in second)
    by_order = {d.id: d.ordering_key for d in deliveries(session, endpoint)}
    assert len({by_order[due.delivery_id] for due in second}) == 4


def test_a_batch_records_each_outcome_as_alone(session: Session) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, URL)
    ok, failing, gone = (new_package(session, merchant) for _ in range(3))
    advance(session, failing, PackageState.READY_FOR_PICKUP)  # waits behind the failure
    now = utcnow()
    service.fan_out(session, now=now)
    claimed = {
        due.event_id: due for due in service.claim_due(session, now=now, limit=10, per_endpoint=10)
    }
    assert len(claimed) == 3
    rows = {d.event_id: d for d in deliveries(session, endpoint)}
    ok_id, failing_id, gone_id = (
        next(e for e, d in rows.items() if d.ordering_key == f"order:{p.order_id}")
        for p in (ok, failing, gone)
    )
    later_id = max(e for e, d in rows.items() if d.ordering_key == f"order:{failing.order_id}")
    # The third delivery's row disappears before the record (its endpoint was deleted, say).
    session.delete(rows[gone_id])
    session.flush()

    statuses = service.record_attempts(
        session,
        [
            AttemptOutcome(claimed[ok_id].delivery_id, now, 12, status_code=200),
            AttemptOutcome(claimed[failing_id].delivery_id, now, 30, error="ReadTimeout"),
            AttemptOutcome(claimed[gone_id].delivery_id, now, 7, status_code=200),
        ],
        now=now,
    )

    assert statuses == {
        claimed[ok_id].delivery_id: DeliveryStatus.SUCCEEDED,
        claimed[failing_id].delivery_id: DeliveryStatus.PENDING,
        claimed[gone_id].delivery_id: None,
    }
    rows = {d.event_id: d for d in deliveries(session, endpoint)}
    assert (rows[ok_id].status, rows[ok_id].attempts, rows[ok_id].last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
    )
    failed = rows[failing_id]
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 1, "ReadTimeout")
    assert timedelta(seconds=4.5) <= failed.next_attempt_at - now <= timedelta(seconds=5.5)
    # The order's later event waits as long as the retry.
    assert rows[later_id].next_attempt_at == failed.next_attempt_at
    logged = session.scalars(select(WebhookAttempt.delivery_id)).all()
    assert sorted(logged) == sorted([rows[ok_id].id, failed.id])


def test_many_orders_reach_a_flaky_receiver_all_once_in_order(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    receiver = start_receiver(fail=1)  # every event fails once, then succeeds
    endpoint = make_endpoint(session, merchant, receiver.url)
    packages = [new_package(session, merchant) for _ in range(12)]
    for state in STEPS:
        for package in packages:
            advance(session, package, state)
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.merchant_id == merchant.merchant.id)
    ).all()
    assert len(events) == 48

    now = utcnow()
    for _ in range(40):
        run_pass(session_factory, now, concurrency=8)
        pending = [d for d in deliveries(session, endpoint) if d.status == "pending"]
        if not pending:
            break
        now = max(now, max(d.next_attempt_at for d in pending))
    assert {d.status for d in deliveries(session, endpoint)} == {DeliveryStatus.SUCCEEDED}

    # None lost, each acknowledged once, and each order's events acknowledged in event order.
    acknowledged = [r for r in receiver.requests if r.status == 200]
    ids = [r.headers["webhook-id"] for r in acknowledged]
    assert sorted(ids) == sorted(f"evt_{e.id}" for e in events)
    per_order: dict[str, list[int]] = defaultdict(list)
    for request in acknowledged:
        body = json.loads(request.body)
        per_order[body["data"]["package"]["order_id"]].append(
            int(request.headers["webhook-id"].removeprefix("evt_"))
        )
    assert len(per_order) == 12
    assert all(seq == sorted(seq) for seq in per_order.values())
