"""Retention deletes exactly the old log, the delivered events and the succeeded jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs import Registry, enqueue, queue, retention
from doorstep.models import (
    DeliveryStatus,
    Job,
    JobStatus,
    Merchant,
    OutboxEvent,
    Package,
    PackageEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.settings import Environment
from doorstep.webhooks import service
from tests.factories import make_merchant, make_order, make_package
from tests.jobs.conftest import EXACT, T0, run_once

NOW = T0
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)
DAYS = 30


def event(session: Session, merchant: Merchant | None, at: datetime) -> OutboxEvent:
    row = OutboxEvent(
        event_type="package.delivered",
        aggregate_type="package",
        aggregate_id=1,
        merchant_id=merchant.id if merchant else None,
        ordering_key="order:1",
        payload={},
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row


def endpoint(session: Session, merchant: Merchant, *, active: bool = True) -> WebhookEndpoint:
    row = WebhookEndpoint(
        merchant_id=merchant.id,
        url="https://shop.example.com/hooks",
        event_types=["*"],
        signing_secret="whsec_test",
        active=active,
        last_event_id=0,
    )
    session.add(row)
    session.flush()
    return row


def delivery(
    session: Session,
    to: WebhookEndpoint,
    of: OutboxEvent,
    status: DeliveryStatus,
    *attempts: datetime,
) -> WebhookDelivery:
    row = WebhookDelivery(
        endpoint_id=to.id,
        event_id=of.id,
        status=status,
        attempts=len(attempts),
        next_attempt_at=of.created_at,
        last_attempt_at=max(attempts) if attempts else None,
        created_at=of.created_at,
    )
    session.add(row)
    session.flush()
    for at in attempts:
        session.add(WebhookAttempt(delivery_id=row.id, attempted_at=at, duration_ms=12))
    session.flush()
    return row


def remaining(session: Session, model: type, ids: list[int]) -> list[int]:
    session.expire_all()
    column = model.id  # type: ignore[attr-defined]
    return sorted(session.scalars(select(column).where(column.in_(ids))))


def remaining_attempts(session: Session, of: WebhookDelivery) -> int:
    session.expire_all()
    count = select(func.count()).where(WebhookAttempt.delivery_id == of.id)
    return session.scalar(count.select_from(WebhookAttempt)) or 0


def test_retention_deletes_exactly_what_has_served_its_purpose(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    shop, paused_shop, quiet_shop = (make_merchant(session, name=n) for n in "ABC")
    hooks, lagging = endpoint(session, shop), endpoint(session, shop)
    paused = endpoint(session, paused_shop, active=False)
    delivered = event(session, shop, OLD)
    failed = event(session, shop, OLD)
    retrying = event(session, shop, OLD)
    redelivered = event(session, shop, OLD)
    recent = event(session, shop, RECENT)
    not_fanned_out = event(session, shop, OLD)
    before_pause = event(session, paused_shop, OLD)
    while_paused = event(session, paused_shop, OLD)
    unheard = event(session, quiet_shop, OLD)  # a merchant without endpoints
    internal = event(session, None, OLD)  # no merchant: never fanned out to webhooks
    # One endpoint has fanned out all of its shop's events, the other lags behind; the paused
    # endpoint hears the events after its cursor when it resumes.
    hooks.last_event_id = internal.id
    lagging.last_event_id = recent.id
    paused.last_event_id = before_pause.id
    session.flush()
    gone = [
        delivery(session, hooks, delivered, DeliveryStatus.SUCCEEDED, OLD),
        delivery(session, hooks, failed, DeliveryStatus.FAILED, OLD, OLD + timedelta(hours=1)),
    ]
    pending = delivery(session, hooks, retrying, DeliveryStatus.PENDING, OLD)
    again = delivery(session, hooks, redelivered, DeliveryStatus.SUCCEEDED, OLD, RECENT)
    fresh = delivery(session, hooks, recent, DeliveryStatus.SUCCEEDED, RECENT)

    kept = [pending, again, fresh]
    kept_ids, gone_ids = [d.id for d in kept], [d.id for d in gone]
    kept_events = [e.id for e in (retrying, redelivered, recent, not_fanned_out, while_paused)]
    gone_events = [e.id for e in (delivered, failed, before_pause, unheard, internal)]

    pruned = retention.prune(session_factory, now=NOW, days=DAYS)

    assert remaining(session, WebhookDelivery, gone_ids + kept_ids) == kept_ids
    # The log keeps what is younger than the retention period, even of a pending delivery.
    assert [remaining_attempts(session, d) for d in kept] == [0, 1, 1]
    assert remaining(session, OutboxEvent, kept_events + gone_events) == kept_events
    assert pruned.counts() == {
        "webhook_attempts": 5,
        "webhook_deliveries": 2,
        "outbox_events": 5,
        "jobs": 0,
    }
    # Nothing more to do, however often it runs.
    assert retention.prune(session_factory, now=NOW, days=DAYS).total == 0


def test_an_event_is_deleted_only_after_the_real_fan_out_has_passed_it(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    merchant = make_merchant(session)
    hooks = service.create_endpoint(
        session, merchant.id, "https://shop.example.com/hooks", ["*"], environment=Environment.TEST
    )
    package = make_package(session, order=make_order(session, merchant))
    transition_package(session, package, PackageState.READY_FOR_PICKUP, actor="test")
    assert service.fan_out(session, now=OLD) == 2
    session.execute(update(WebhookDelivery).values(status=DeliveryStatus.SUCCEEDED))
    transition_package(session, package, PackageState.ASSIGNED, actor="test")  # after fan-out
    session.execute(update(OutboxEvent).values(created_at=OLD))
    [first, second, third] = session.scalars(
        select(OutboxEvent.id)
        .where(OutboxEvent.merchant_id == merchant.id)
        .order_by(OutboxEvent.id)
    )
    assert hooks.last_event_id == second

    pruned = retention.prune(session_factory, now=NOW, days=DAYS)

    assert (pruned.webhook_deliveries, pruned.outbox_events) == (2, 2)
    assert remaining(session, OutboxEvent, [first, second, third]) == [third]
    # The next fan-out still finds it.
    assert service.fan_out(session, now=NOW) == 1


def test_a_package_s_timeline_is_never_deleted(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    package = make_package(session)
    transition_package(session, package, PackageState.READY_FOR_PICKUP, actor="test")
    session.execute(update(PackageEvent).values(occurred_at=OLD))
    session.execute(update(OutboxEvent).values(created_at=OLD))

    pruned = retention.prune(session_factory, now=NOW, days=DAYS)

    assert pruned.outbox_events == 2  # its merchant has no endpoint
    session.expire_all()
    timeline = session.scalars(
        select(PackageEvent.to_state).where(PackageEvent.package_id == package.id)
    ).all()
    assert timeline == [PackageState.CREATED, PackageState.READY_FOR_PICKUP]
    assert session.get(Package, package.id) is not None


def test_succeeded_jobs_go_failed_and_waiting_ones_stay(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    policies = {"mail.send": EXACT}
    ids = [enqueue(session, "mail.send", {"n": n}, run_at=OLD) for n in range(4)]
    old_done, recent_done, failed = queue.claim(
        session, policies=policies, now=OLD, limit=3, runner="r"
    )
    queue.complete(session, old_done, now=OLD)
    queue.complete(session, recent_done, now=RECENT)
    queue.fail(session, failed, "refused", now=OLD, policy=replace(EXACT, max_attempts=1))

    assert retention.prune(session_factory, now=NOW, days=DAYS).jobs == 1
    assert remaining(session, Job, ids) == ids[1:]
    statuses = session.scalars(select(Job.status).where(Job.id.in_(ids[1:])).order_by(Job.id))
    assert list(statuses) == [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.QUEUED]


def test_retention_deletes_in_batches(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    merchant = make_merchant(session)
    events = [event(session, merchant, OLD) for _ in range(5)]
    hooks = endpoint(session, merchant)
    hooks.last_event_id = events[-1].id
    for e in events:
        delivery(session, hooks, e, DeliveryStatus.SUCCEEDED, OLD)
    event_ids = [e.id for e in events]

    with unit_of_work(session_factory) as work:
        first = retention.prune_batch(work, now=NOW, days=DAYS, batch=2)
    # The events wait for their deliveries: the two deleted in this batch free two events.
    assert first.counts() == {
        "webhook_attempts": 2,
        "webhook_deliveries": 2,
        "outbox_events": 2,
        "jobs": 0,
    }
    rest = retention.prune(session_factory, now=NOW, days=DAYS, batch=2)
    assert (rest.webhook_deliveries, rest.outbox_events) == (3, 3)
    assert remaining(session, OutboxEvent, event_ids) == []


def test_retention_is_a_periodic_job(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    internal = event(session, None, OLD).id
    registry = Registry()
    retention.register(registry, days=DAYS, every=timedelta(minutes=1))

    report = run_once(session_factory, registry, NOW)

    pruned = report.periodic[retention.PERIODIC_NAME]
    assert isinstance(pruned, retention.Pruned)
    assert pruned.outbox_events == 1
    assert remaining(session, OutboxEvent, [internal]) == []
