"""A pass claims deliveries ahead of its free slots: a slot that frees starts the next one at
once, without another transaction, within the endpoint's share; a stopping worker hands back
what it claimed and did not send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.models import DeliveryStatus, WebhookDelivery, utcnow
from doorstep.webhooks import service
from doorstep.webhooks.worker import DeliveryWorker, http_client
from tests.webhooks.conftest import (
    Receiver,
    deliveries,
    local_receivers,
    make_endpoint,
    new_merchant,
    new_package,
    run_pass,
)


def _queued(session: Session, session_factory: sessionmaker[Session], url: str, n: int) -> int:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, url)
    for _ in range(n):
        new_package(session, merchant)
    session.commit()
    with unit_of_work(session_factory) as work:
        service.fan_out(work, now=utcnow())
    return endpoint.id


def _claims_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    claim = service.claim_due

    def counting(*args: Any, **kwargs: Any) -> list[service.DueDelivery]:
        found = claim(*args, **kwargs)
        counted.append(len(found))
        return found

    monkeypatch.setattr(service, "claim_due", counting)
    return counted


def test_a_freed_slot_starts_a_delivery_claimed_ahead_without_another_claim(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = start_receiver(delay=0.05)
    endpoint_id = _queued(session, session_factory, receiver.url, 3)
    total = len(deliveries(session, endpoint_id))
    claims = _claims_counted(monkeypatch)

    async def one_claim() -> tuple[int, int]:
        async with http_client(local_receivers()) as client:
            # Two slots, one for this endpoint; so one in flight and one claimed ahead.
            worker = DeliveryWorker(session_factory, client, concurrency=2)
            started = worker.start_due(utcnow)
            assert len(started) == 1
            assert len(worker._sending) == 1
            waiting = len(worker._waiting)
            more = await started[0]
            assert more is not None
            assert len(more.tasks) == 1
            await asyncio.gather(*more.tasks)
            return waiting, len(receiver.requests)

    waiting, received = asyncio.run(one_claim())
    assert claims == [2]  # one transaction claimed both
    assert waiting == 1
    assert received == 2
    assert total >= 3
    assert receiver.most_at_once == 1  # the endpoint's share (half of two slots) held


def test_a_stopping_worker_hands_back_the_claims_it_did_not_send(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()
    endpoint_id = _queued(session, session_factory, receiver.url, 2)
    before = utcnow()

    async def stop_after_one_claim() -> None:
        async with http_client(local_receivers()) as client:
            worker = DeliveryWorker(session_factory, client, concurrency=2)
            started = worker.start_due(utcnow)
            worker.hold()  # as SIGTERM does: nothing more starts
            for task in started:
                more = await task
                assert more is not None
                assert more.tasks == []
            worker.finish()

    asyncio.run(stop_after_one_claim())

    rows = deliveries(session, endpoint_id)
    sent = [row for row in rows if row.status == DeliveryStatus.SUCCEEDED]
    handed_back = [row for row in rows if row.status == DeliveryStatus.PENDING]
    assert len(sent) == 1
    assert len(receiver.requests) == 1
    assert handed_back, "one delivery was claimed ahead and not sent"
    # Due again now, not when the two-minute lease would have run out; never attempted.
    for row in handed_back:
        assert row.attempts == 0
        assert row.next_attempt_at <= utcnow()
        assert row.next_attempt_at >= before

    report = run_pass(session_factory)
    assert report.failed == 0
    session.expire_all()
    statuses = set(
        session.scalars(
            select(WebhookDelivery.status).where(WebhookDelivery.endpoint_id == endpoint_id)
        )
    )
    assert statuses == {DeliveryStatus.SUCCEEDED}
    assert sorted(set(receiver.ids())) == sorted(receiver.ids())  # each event once
