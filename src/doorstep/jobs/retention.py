"""Retention: delete what has served its purpose once it is older than the retention period.

Deleted, oldest first and in batches (each batch one short transaction):

1. ``webhook_attempts`` (the delivery log) made before the cut-off;
2. finished ``webhook_deliveries`` (succeeded or failed) untouched since the cut-off; a
   pending one is never deleted;
3. ``outbox_events`` from before the cut-off that every webhook endpoint of their merchant has
   already fanned out (the event is at or below the endpoint's ``last_event_id``, active or
   paused: a paused endpoint delivers the events after its cursor when it resumes) and that
   no delivery refers to any more;
4. ``jobs`` that succeeded before the cut-off (their dedupe keys can then be used again).
   Failed jobs stay for an operator.

The order follows the foreign keys: a delivery refers to its event (``RESTRICT``) and an
attempt to its delivery (``CASCADE``), so attempts and deliveries go before the events they
point at. ``package_events``, each package's own timeline, is never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, text
from sqlalchemy.orm import Session, aliased, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs.registry import Registry
from doorstep.models import (
    DeliveryStatus,
    Job,
    JobStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

PERIODIC_NAME = "retention"
DEFAULT_BATCH = 1000


@dataclass
class Pruned:
    """Rows deleted, per table."""

    webhook_attempts: int = 0
    webhook_deliveries: int = 0
    outbox_events: int = 0
    jobs: int = 0

    def add(self, other: Pruned) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def prune_batch(
    session: Session, *, now: datetime, days: int, batch: int = DEFAULT_BATCH
) -> Pruned:
    """Delete up to ``batch`` rows of each table older than ``days`` days, in the caller's
    transaction."""
    cutoff = now - timedelta(days=days)
    pruned = Pruned()

    def old_attempt(attempt: Any) -> Conditions:
        return (attempt.attempted_at < cutoff,)

    def finished_delivery(delivery: Any) -> Conditions:
        return (
            delivery.status.in_([DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]),
            func.coalesce(delivery.last_attempt_at, delivery.created_at) < cutoff,
        )

    def delivered_event(event: Any) -> Conditions:
        endpoints = select(WebhookEndpoint.id).where(
            WebhookEndpoint.merchant_id == event.merchant_id
        )
        # Deliveries exist only for endpoints of the event's merchant, so they are found
        # through those endpoints by (endpoint, event), the deliveries' unique index.
        referred = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookEndpoint.merchant_id == event.merchant_id,
                WebhookDelivery.event_id == event.id,
            )
        )
        return (
            event.created_at < cutoff,
            ~exists(endpoints.where(WebhookEndpoint.last_event_id < event.id)),
            ~exists(referred),
        )

    def finished_job(job: Any) -> Conditions:
        return (job.status == JobStatus.SUCCEEDED, job.finished_at < cutoff)

    pruned.webhook_attempts = _delete(session, WebhookAttempt, old_attempt, batch)
    pruned.webhook_deliveries = _delete(session, WebhookDelivery, finished_delivery, batch)
    if session.get_bind().dialect.name == "postgresql":
        # Wait here for a fan-out in progress (it holds SHARE on the outbox until it commits),
        # so the DELETE, a statement of its own, sees the cursors and deliveries it wrote.
        session.execute(text("LOCK TABLE outbox_events IN ROW EXCLUSIVE MODE"))
    pruned.outbox_events = _delete(session, OutboxEvent, delivered_event, batch)
    pruned.jobs = _delete(session, Job, finished_job, batch)
    return pruned


Conditions = tuple[ColumnElement[bool], ...]


def _delete(
    session: Session, model: Any, conditions: Callable[[Any], Conditions], batch: int
) -> int:
    """``DELETE FROM t WHERE id IN (the oldest ``batch`` matching ids) AND <conditions>``.

    The conditions stand in the DELETE as well as in the subquery that picks the ids, so a
    row changed meanwhile (a delivery redelivered) is left alone."""
    picked = aliased(model)
    oldest = select(picked.id).where(*conditions(picked)).order_by(picked.id).limit(batch)
    result = session.execute(
        delete(model)
        .where(model.id.in_(oldest.scalar_subquery()), *conditions(model))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune(
    sessions: sessionmaker[Session], *, now: datetime, days: int, batch: int = DEFAULT_BATCH
) -> Pruned:
    """Delete everything retention allows, a batch per transaction, until nothing is left."""
    total = Pruned()
    while True:
        with unit_of_work(sessions) as session:
            pruned = prune_batch(session, now=now, days=days, batch=batch)
        total.add(pruned)
        if max(pruned.counts().values()) < batch:
            return total


def register(
    registry: Registry,
    *,
    days: int,
    every: timedelta = timedelta(minutes=1),
    batch: int = DEFAULT_BATCH,
) -> None:
    """Prune one batch every ``every`` (a thousand rows a table each minute by default: more
    than a busy day writes). ``doorstep jobs prune`` catches up after a long pause."""

    def run(session: Session, now: datetime) -> Pruned:
        return prune_batch(session, now=now, days=days, batch=batch)

    registry.every(PERIODIC_NAME, every, run)
