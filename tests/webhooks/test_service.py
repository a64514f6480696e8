"""The queue without HTTP: fan-out, filters, claiming, leases, pausing, URL rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from doorstep.models import WebhookAttempt, utcnow
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Environment
from doorstep.webhooks import service
from doorstep.webhooks.service import AttemptOutcome, InvalidWebhookUrl
from tests.webhooks.conftest import (
    advance,
    deliveries,
    make_endpoint,
    new_merchant,
    new_package,
)

URL = "https://example.com/hooks"


def test_fan_out_queues_each_matching_event_once(session: Session) -> None:
    merchant = new_merchant(session)
    stranger = new_merchant(session, "Someone Else")
    everything = make_endpoint(session, merchant, URL)
    ready_only = make_endpoint(session, merchant, URL, ["package.ready_for_pickup"])
    package = new_package(session, merchant)
    advance(session, package, PackageState.READY_FOR_PICKUP)
    new_package(session, stranger)  # another merchant's event reaches neither endpoint

    assert service.fan_out(session) == 3
    assert service.fan_out(session) == 0
    assert len(deliveries(session, everything)) == 2
    [ready] = deliveries(session, ready_only)
    assert ready.ordering_key == f"order:{package.order_id}"
    assert everything.last_event_id == ready_only.last_event_id


def test_new_endpoint_hears_only_events_after_it(session: Session) -> None:
    merchant = new_merchant(session)
    new_package(session, merchant)
    endpoint = make_endpoint(session, merchant, URL)
    assert service.fan_out(session) == 0
    new_package(session, merchant)
    assert service.fan_out(session) == 1
    assert len(deliveries(session, endpoint)) == 1


def test_paused_endpoint_catches_up_when_resumed(session: Session) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, URL)
    service.update_endpoint(
        session, merchant.merchant.id, endpoint.id, environment=Environment.TEST, active=False
    )
    new_package(session, merchant)
    assert service.fan_out(session) == 0
    service.update_endpoint(
        session, merchant.merchant.id, endpoint.id, environment=Environment.TEST, active=True
    )
    assert service.fan_out(session) == 1


def test_fan_out_in_batches_loses_nothing(session: Session) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, URL)
    for _ in range(5):
        new_package(session, merchant)
    assert [service.fan_out(session, batch=2) for _ in range(4)] == [2, 2, 1, 0]
    assert len({d.event_id for d in deliveries(session, endpoint)}) == 5


def test_a_claim_is_leased_and_comes_back_if_never_recorded(session: Session) -> None:
    merchant = new_merchant(session)
    make_endpoint(session, merchant, URL)
    new_package(session, merchant)
    now = utcnow()
    service.fan_out(session, now=now)
    [claimed] = service.claim_due(session, now=now, limit=10)
    assert claimed.attempt == 1
    # The worker "crashed" before recording: nothing is due until the lease runs out ...
    assert service.claim_due(session, now=now + timedelta(seconds=30), limit=10) == []
    # ... then the same event is claimed again (at-least-once).
    [again] = service.claim_due(session, now=now + service.DEFAULT_POLICY.lease, limit=10)
    assert (again.delivery_id, again.event_id, again.attempt) == (
        claimed.delivery_id,
        claimed.event_id,
        1,
    )


def test_one_endpoint_cannot_take_every_slot(session: Session) -> None:
    merchant = new_merchant(session)
    busy = make_endpoint(session, merchant, URL)
    quiet_merchant = new_merchant(session, "Quiet")
    quiet = make_endpoint(session, quiet_merchant, URL)
    for _ in range(4):
        new_package(session, merchant)
    new_package(session, quiet_merchant)
    now = utcnow()
    service.fan_out(session, now=now)
    claimed = service.claim_due(session, now=now, limit=3, per_endpoint=2, in_flight={busy.id: 1})
    assert sorted(c.endpoint_id for c in claimed) == [busy.id, quiet.id]


def test_recording_for_a_deleted_endpoint_is_a_no_op(session: Session) -> None:
    merchant = new_merchant(session)
    endpoint = make_endpoint(session, merchant, URL)
    new_package(session, merchant)
    now = utcnow()
    service.fan_out(session, now=now)
    [claimed] = service.claim_due(session, now=now, limit=1)
    service.delete_endpoint(session, merchant.merchant.id, endpoint.id)
    outcome = AttemptOutcome(claimed.delivery_id, now, 12, status_code=200)
    assert service.record_attempt(session, outcome, now=now) is None
    assert session.query(WebhookAttempt).count() == 0


def test_production_accepts_https_only() -> None:
    assert service.validate_url(URL, Environment.PRODUCTION) == URL
    assert service.validate_url("http://localhost:8080/x", Environment.DEVELOPMENT)
    with pytest.raises(InvalidWebhookUrl):
        service.validate_url("http://example.com/hooks", Environment.PRODUCTION)


def test_event_types_are_normalised() -> None:
    assert service.validate_event_types(["package.delivered", "*"]) == ["*"]
    assert service.validate_event_types(["order.created", "package.lost", "order.created"]) == [
        "order.created",
        "package.lost",
    ]
    assert {f"package.{s.value}" for s in PackageState} <= service.EVENT_TYPES
