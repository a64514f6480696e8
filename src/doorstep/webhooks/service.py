"""Webhook endpoints, the delivery queue built from the outbox, and the delivery log.

The queue is the ``webhook_deliveries`` table: `fan_out` turns new outbox events into one row
per (endpoint, event); `claim_due` picks the rows to attempt now; `record_attempts` writes the
attempts' outcomes. Every function works in the caller's transaction and only flushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
import structlog
from sqlalchemy import (
    URL,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Environment
from doorstep.webhooks.addresses import AddressNotPublic, AddressPolicy
from doorstep.webhooks.signing import new_secret

log = structlog.get_logger(__name__)

ALL_EVENTS = "*"
EVENT_TYPES: frozenset[str] = frozenset(
    {f"package.{state.value}" for state in PackageState}
    | {"order.created", "order.cancelled"}
    # The shopper's side (doorstep.tracking): a promise that slipped, a return's steps.
    | {"package.delayed", "return.requested", "return.received"}
    # A return left at a partner store's counter, then in the car of the run back.
    | {"return.dropped_off", "return.collected"}
    # A return collected from the shopper's door: planned on a block, nobody home.
    | {"return.collection_planned", "return.collection_failed"}
)
_TEXT_LIMIT = 500  # the log's text columns are VARCHAR(500)
#: Public addresses only, resolved by the operating system: the default of every check.
PUBLIC_ONLY = AddressPolicy()
# The queue's hot paths (claim, record, fan-out) are Core statements on the tables: many rows
# a statement, no identity map or unit of work per row.
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_ENDPOINTS = cast(Table, WebhookEndpoint.__table__)


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class InvalidWebhookUrl(InvalidInput):
    code = "invalid_webhook_url"


class WebhookUrlNotPublic(InvalidInput):
    code = "webhook_url_not_public"


class UnknownEventType(InvalidInput):
    code = "unknown_event_type"


class DeliveryPending(DomainError):
    status = 409
    code = "delivery_pending"


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after a failed attempt, and when to give up.

    ``delays[n]`` follows failed attempt n+1; after ``len(delays) + 1`` attempts the delivery
    is ``failed``. Jitter spreads retries so a receiver coming back up is not hit by all of
    them in the same second.
    """

    delays: tuple[timedelta, ...] = (
        timedelta(seconds=5),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=3),
        timedelta(hours=6),
        timedelta(hours=12),
    )
    jitter: float = 0.1
    # How long a claimed delivery is reserved for its attempt; longer than the HTTP timeout,
    # so it only runs out when the worker died between claiming and recording.
    lease: timedelta = timedelta(minutes=2)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempts: int) -> timedelta:
        base = self.delays[min(attempts, len(self.delays)) - 1]
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)


DEFAULT_POLICY = RetryPolicy()


# ---- endpoints -------------------------------------------------------------------------------


def validate_url(url: str, environment: Environment) -> str:
    url = url.strip()
    parts = urlsplit(url)
    allowed = ("https",) if environment is Environment.PRODUCTION else ("http", "https")
    if parts.scheme not in allowed or not parts.hostname:
        raise InvalidWebhookUrl(
            f"'{url}' is not an absolute {' or '.join(allowed)} URL", field="url"
        )
    if parts.username or parts.password:
        raise InvalidWebhookUrl("put no credentials in the URL; verify signatures", field="url")
    try:
        _ = parts.port  # reading it checks it
    except ValueError:
        raise InvalidWebhookUrl(f"'{url}' has no valid port", field="url") from None
    return url


def check_public(url: str, policy: AddressPolicy) -> None:
    """Refuse a URL whose host is, or resolves to, an address webhooks may not reach.

    A name that does not resolve (yet) is accepted: there is nothing to refuse, and every
    delivery checks the address it connects to anyway.
    """
    parts = urlsplit(url)
    assert parts.hostname is not None  # validate_url saw to it
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        policy.addresses(parts.hostname, port)
    except AddressNotPublic as exc:
        raise WebhookUrlNotPublic(str(exc), field="url") from None
    except (OSError, UnicodeError):
        pass


def validate_event_types(event_types: Sequence[str]) -> list[str]:
    if ALL_EVENTS in event_types:
        return [ALL_EVENTS]
    unknown = sorted(set(event_types) - EVENT_TYPES)
    if unknown:
        raise UnknownEventType(
            f"unknown event types: {', '.join(unknown)}",
            field="event_types",
            known=sorted(EVENT_TYPES),
        )
    return sorted(set(event_types))


def create_endpoint(
    session: Session,
    merchant_id: int,
    url: str,
    event_types: Sequence[str],
    *,
    environment: Environment,
    addresses: AddressPolicy = PUBLIC_ONLY,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret; it hears events written from now on, not the past.

    ``addresses``: where the URL may point (public addresses only unless the operator's
    allow-list says otherwise)."""
    checked = validate_url(url, environment)
    check_public(checked, addresses)
    endpoint = WebhookEndpoint(
        merchant_id=merchant_id,
        url=checked,
        event_types=validate_event_types(event_types),
        signing_secret=new_secret(),
        active=True,
        last_event_id=session.scalar(select(func.max(OutboxEvent.id))) or 0,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session, merchant_id: int) -> Sequence[WebhookEndpoint]:
    return session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.merchant_id == merchant_id)
        .order_by(WebhookEndpoint.id)
    ).all()


def get_endpoint(session: Session, merchant_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    # Another merchant's endpoint is "not found": its existence is not ours to reveal.
    if endpoint is None or endpoint.merchant_id != merchant_id:
        raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id}", endpoint_id=endpoint_id)
    return endpoint


def update_endpoint(
    session: Session,
    merchant_id: int,
    endpoint_id: int,
    *,
    environment: Environment,
    addresses: AddressPolicy = PUBLIC_ONLY,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given. Pausing keeps the endpoint's place in the stream, so resuming
    delivers the events written while it was paused."""
    endpoint = get_endpoint(session, merchant_id, endpoint_id)
    if url is not None:
        checked = validate_url(url, environment)
        check_public(checked, addresses)
        endpoint.url = checked
    if event_types is not None:
        endpoint.event_types = validate_event_types(event_types)
    if active is not None:
        endpoint.active = active
    session.flush()
    return endpoint


#: How long a rotated-out secret may stay valid at most.
MAX_PREVIOUS_SECRET_HOURS = 7 * 24


def rotate_secret(
    session: Session,
    merchant_id: int,
    endpoint_id: int,
    *,
    keep_previous_for: timedelta,
    now: datetime,
) -> WebhookEndpoint:
    """A fresh signing secret. Until ``now + keep_previous_for`` every attempt is signed with
    the old secret as well, so the receiver can deploy the new one without a gap; zero ends
    the old secret at once (a leaked secret)."""
    if not timedelta(0) <= keep_previous_for <= timedelta(hours=MAX_PREVIOUS_SECRET_HOURS):
        raise InvalidInput(
            f"keep the previous secret between 0 and {MAX_PREVIOUS_SECRET_HOURS} hours",
            field="keep_previous_hours",
        )
    endpoint = get_endpoint(session, merchant_id, endpoint_id)
    if keep_previous_for > timedelta(0):
        endpoint.previous_signing_secret = endpoint.signing_secret
        endpoint.previous_secret_expires_at = now + keep_previous_for
    else:
        endpoint.previous_signing_secret = None
        endpoint.previous_secret_expires_at = None
    endpoint.signing_secret = new_secret()
    session.flush()
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The secrets an attempt at ``now`` is signed with: the current one first."""
    return _secrets(
        endpoint.signing_secret,
        endpoint.previous_signing_secret,
        endpoint.previous_secret_expires_at,
        now,
    )


def _secrets(
    current: str, previous: str | None, expires: datetime | None, now: datetime
) -> tuple[str, ...]:
    if previous is not None and expires is not None and now < expires:
        return (current, previous)
    return (current,)


def delete_endpoint(session: Session, merchant_id: int, endpoint_id: int) -> None:
    """Remove the endpoint with its queue and log (the tables cascade)."""
    endpoint = get_endpoint(session, merchant_id, endpoint_id)
    session.delete(endpoint)
    session.flush()


# ---- the queue -------------------------------------------------------------------------------


def fan_out(session: Session, *, now: datetime | None = None, batch: int = 1000) -> int:
    """Queue a delivery per new matching outbox event for every active endpoint.

    Returns how many deliveries were queued. Each endpoint's ``last_event_id`` moves past the
    events it has seen, in the same transaction as the rows it queued, so an event is queued
    once per endpoint, never twice and never not at all.
    """
    wait_for_outbox_writers(session)
    now = now or utcnow()
    newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
    endpoints = session.execute(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.merchant_id,
            WebhookEndpoint.event_types,
            WebhookEndpoint.last_event_id,
        )
        .where(WebhookEndpoint.active, WebhookEndpoint.last_event_id < newest)
        .order_by(WebhookEndpoint.id)
    ).all()
    queued = 0
    for endpoint_id, merchant_id, event_types, last_event_id in endpoints:
        events = (
            select(OutboxEvent.id, OutboxEvent.ordering_key)
            .where(
                OutboxEvent.id > last_event_id,
                OutboxEvent.id <= newest,
                OutboxEvent.merchant_id == merchant_id,
            )
            .order_by(OutboxEvent.id)
            .limit(batch)
        )
        if ALL_EVENTS not in event_types:
            events = events.where(OutboxEvent.event_type.in_(event_types))
        picked = events.subquery()
        # One INSERT … SELECT per endpoint: the events never travel through Python.
        inserted = (
            session.execute(
                insert(WebhookDelivery)
                .from_select(
                    [
                        "endpoint_id",
                        "event_id",
                        "ordering_key",
                        "status",
                        "next_attempt_at",
                        "created_at",
                    ],
                    select(
                        literal(endpoint_id),
                        picked.c.id,
                        picked.c.ordering_key,
                        literal(DeliveryStatus.PENDING, _DELIVERIES.c.status.type),
                        literal(now, _DELIVERIES.c.next_attempt_at.type),
                        literal(now, _DELIVERIES.c.created_at.type),
                    ),
                )
                .returning(WebhookDelivery.event_id)
            )
            .scalars()
            .all()
        )
        # A full batch stops at its last event; the rest waits for the next pass.
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(last_event_id=max(inserted) if len(inserted) == batch else newest)
        )
        queued += len(inserted)
    session.flush()
    return queued


#: The channel the outbox's trigger notifies on PostgreSQL (migration 0014).
OUTBOX_CHANNEL = "doorstep_outbox"
#: How often SQLite, which has no NOTIFY, is asked for new events.
SQLITE_OUTBOX_POLL_S = 0.05


async def watch_outbox(
    sessions: sessionmaker[Session], on_new: Callable[[], None], stop: asyncio.Event
) -> None:
    """Call ``on_new()`` whenever new outbox events are committed, until ``stop`` is set.

    PostgreSQL: ``LISTEN doorstep_outbox`` on a connection of its own (the writing
    transaction's trigger notifies as it commits). SQLite: the newest event id, read every
    50 ms (a cheap index look-up). A lost connection is logged and opened again; the
    runner's own polls go on meanwhile, so nothing waits longer than a poll.
    """
    engine = sessions.kw["bind"]
    while not stop.is_set():
        try:
            if engine.dialect.name == "postgresql":
                await _listen(engine.url, on_new, stop)
            else:
                await _poll(sessions, on_new, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("outbox_watch_failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


async def _listen(url: URL, on_new: Callable[[], None], stop: asyncio.Event) -> None:
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        await connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        on_new()  # what was written before we listened
        while not stop.is_set():
            # A bounded wait, so a stop is noticed without a notification.
            async for _ in connection.notifies(timeout=1.0):
                on_new()


async def _poll(
    sessions: sessionmaker[Session], on_new: Callable[[], None], stop: asyncio.Event
) -> None:
    seen = -1
    while not stop.is_set():
        with sessions() as session:
            newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
        if newest != seen:
            seen = newest
            on_new()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SQLITE_OUTBOX_POLL_S)


def wait_for_outbox_writers(session: Session) -> None:
    # PostgreSQL hands out ids before commit, so event 9 can become visible after event 10:
    # moving a cursor past 10 would skip 9 for good. SHARE mode waits for every transaction
    # that has written to the outbox and holds new writers back until we commit (a few ms),
    # so every id below the newest one we read is already visible. SQLite needs nothing:
    # writers are serialised (BEGIN IMMEDIATE) and commit in id order.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE outbox_events IN SHARE MODE"))


@dataclass(frozen=True)
class DueDelivery:
    """Everything one attempt needs, read in the claiming transaction."""

    delivery_id: int
    endpoint_id: int
    url: str
    signing_secret: str
    event_id: int
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]
    attempt: int  # 1 for the first attempt
    also_signing_secrets: tuple[str, ...] = ()  # a rotated-out secret still valid


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    in_flight: Mapping[int, int] | None = None,
    per_endpoint: int = 2,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[DueDelivery]:
    """Reserve up to ``limit`` due deliveries, oldest first, for one attempt each.

    A delivery waits while an earlier event with the same ordering key is still pending for
    its endpoint, so a receiver sees an order's events in order even across retries; other
    keys go on. An endpoint gets at most ``per_endpoint`` attempts at a time, counting
    ``in_flight`` (attempts running per endpoint id), so a slow receiver cannot take every
    slot. Claiming moves ``next_attempt_at`` a lease ahead: if the worker dies before
    recording the outcome, the delivery comes due again (at-least-once, never lost).

    The claim is one UPDATE … RETURNING (then one read of what the attempts need): the
    oldest due deliveries of active endpoints (a window of the "due" index a few times what
    is wanted, so the claim costs the window, not the length of the queue), of those the
    heads of their order's queue (no earlier event of the order pending: an index look-up
    each), ranked per endpoint after what it has in flight, the endpoints with the fewest
    attempts running first.
    """
    if limit < 1:
        return []
    busy = {endpoint: count for endpoint, count in (in_flight or {}).items() if count}
    d = _DELIVERIES
    due_ok = and_(d.c.status == DeliveryStatus.PENDING, d.c.next_attempt_at <= now)
    window = (
        select(
            d.c.id,
            d.c.endpoint_id,
            d.c.ordering_key,
            d.c.event_id,
            d.c.next_attempt_at,
        )
        .join(_ENDPOINTS, _ENDPOINTS.c.id == d.c.endpoint_id)
        .where(due_ok, _ENDPOINTS.c.active)
        # The index's own order, so the scan stops at the window (ties are taken as they come:
        # an order's sequence is kept by the heads below, not by this order).
        .order_by(d.c.next_attempt_at)
        .limit(max(200, 4 * (limit + per_endpoint * len(busy))))
        .subquery("due_window")
    )
    # "No earlier event of its order pending" as the order's lowest pending event id: an
    # index look-up in the ordering index, which a planner short of statistics still picks.
    earlier = d.alias("earlier")
    first_pending = (
        select(func.min(earlier.c.event_id))
        .where(
            earlier.c.endpoint_id == window.c.endpoint_id,
            earlier.c.ordering_key == window.c.ordering_key,
            earlier.c.status == DeliveryStatus.PENDING,
        )
        .scalar_subquery()
    )
    head = or_(window.c.ordering_key.is_(None), window.c.event_id == first_pending)
    running = case(busy, value=window.c.endpoint_id, else_=0) if busy else literal(0)
    rank = func.row_number().over(
        partition_by=window.c.endpoint_id, order_by=(window.c.next_attempt_at, window.c.id)
    )
    heads = (
        select(
            window.c.id,
            window.c.next_attempt_at,
            (rank + running).label("rank"),
        )
        .where(head)
        .subquery("heads")
    )
    chosen = (
        select(heads.c.id, heads.c.next_attempt_at)
        .where(heads.c.rank <= per_endpoint)
        .order_by(heads.c.rank, heads.c.next_attempt_at, heads.c.id)
        .limit(limit)
        # Computed once: without it a planner short of statistics (a queue that grew in the
        # last minute) may rank the window again for every row it updates.
        .cte("chosen")
        .prefix_with("MATERIALIZED")
    )
    # Lock the chosen rows, skipping one another worker is claiming at this moment
    # (PostgreSQL; SQLite's write lock already serialises claimers), and keep only those still
    # as they were ranked: one claimed since has a new next_attempt_at (a lease), and so has
    # one recorded since (`record_attempts` moves every row it records). The check is
    # made against the ranked values, not the clock, so the rows are read by primary key (a
    # planner short of statistics would otherwise scan the "due" index for each), and
    # PostgreSQL makes it again on the row's latest version when another worker has just
    # committed a change to it.
    free = (
        select(d.c.id)
        .select_from(chosen.join(d, d.c.id == chosen.c.id))
        .where(d.c.next_attempt_at == chosen.c.next_attempt_at)
        .with_for_update(of=d, skip_locked=True)
        .cte("free")
        .prefix_with("MATERIALIZED")
    )
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run often, and after five runs PostgreSQL may switch
        # to a generic plan, made without the parameters' values: for this claim such a plan
        # can walk the whole "due" index and the whole queue instead of the window, a cost
        # that grows with the queue (a few thousand deliveries in a burst of orders).
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    claimed = session.execute(
        update(d)
        .where(d.c.id.in_(select(free.c.id)))
        .values(next_attempt_at=now + policy.lease)
        .returning(d.c.id, d.c.endpoint_id, d.c.event_id, d.c.attempts)
    ).all()
    if not claimed:
        return []
    e, o = _ENDPOINTS, OutboxEvent.__table__
    endpoints = {
        row.id: row
        for row in session.execute(
            select(
                e.c.id,
                e.c.url,
                e.c.signing_secret,
                e.c.previous_signing_secret,
                e.c.previous_secret_expires_at,
            ).where(e.c.id.in_({row.endpoint_id for row in claimed}))
        )
    }
    events = {
        row.id: row
        for row in session.execute(
            select(o.c.id, o.c.event_type, o.c.created_at, o.c.payload).where(
                o.c.id.in_([row.event_id for row in claimed])
            )
        )
    }
    result = []
    for delivery_id, endpoint_id, event_id, attempts in sorted(claimed):
        endpoint, event = endpoints[endpoint_id], events[event_id]
        secrets = _secrets(
            endpoint.signing_secret,
            endpoint.previous_signing_secret,
            endpoint.previous_secret_expires_at,
            now,
        )
        result.append(
            DueDelivery(
                delivery_id=delivery_id,
                endpoint_id=endpoint_id,
                url=endpoint.url,
                signing_secret=secrets[0],
                also_signing_secrets=secrets[1:],
                event_id=event_id,
                event_type=event.event_type,
                occurred_at=event.created_at,
                payload=event.payload,
                attempt=attempts + 1,
            )
        )
    return result


@dataclass(frozen=True)
class AttemptOutcome:
    """What one HTTP attempt gave: a status code, or an error when no response came back."""

    delivery_id: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def release_claims(session: Session, delivery_ids: Sequence[int], *, now: datetime) -> int:
    """Hand back claimed deliveries that were never attempted (a stopping worker's, claimed
    ahead and still waiting for a slot): due again at ``now`` instead of when their lease
    runs out. Only rows still under a lease are moved; returns how many."""
    if not delivery_ids:
        return 0
    d = _DELIVERIES
    result = session.execute(
        update(d)
        .where(
            d.c.id.in_(delivery_ids),
            d.c.status == DeliveryStatus.PENDING,
            d.c.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_attempts(
    session: Session,
    outcomes: Sequence[AttemptOutcome],
    *,
    now: datetime,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> dict[int, DeliveryStatus | None]:
    """Log the attempts and move each delivery on: succeeded, retried later, or failed.

    A handful of statements whatever the number of outcomes (the worker records every
    attempt that ended since its last write together). Returns each delivery's new status,
    None for a delivery that is gone (its endpoint was deleted meanwhile).
    """
    if not outcomes:
        return {}
    d = _DELIVERIES
    current = {
        row.id: row
        for row in session.execute(
            select(d.c.id, d.c.attempts, d.c.endpoint_id, d.c.ordering_key, d.c.event_id)
            .where(d.c.id.in_({outcome.delivery_id for outcome in outcomes}))
            .with_for_update()
        )
    }
    statuses: dict[int, DeliveryStatus | None] = {}
    attempts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    held_back: list[tuple[Any, datetime]] = []
    tried: Counter[int] = Counter()
    for outcome in outcomes:
        row = current.get(outcome.delivery_id)
        if row is None:
            statuses[outcome.delivery_id] = None
            continue
        tried[row.id] += 1
        count = row.attempts + tried[row.id]
        # A finished delivery's next_attempt_at means nothing more, but moving it tells a
        # concurrent claim that the row changed (see `claim_due`).
        next_attempt_at = now
        if outcome.succeeded:
            status = DeliveryStatus.SUCCEEDED
        elif count >= policy.max_attempts:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
            next_attempt_at = now + policy.delay_after(count)
            if row.ordering_key is not None:
                held_back.append((row, next_attempt_at))
        statuses[row.id] = status
        error = _clip(outcome.error)
        attempts.append(
            {
                "delivery_id": row.id,
                "attempted_at": outcome.attempted_at,
                "status_code": outcome.status_code,
                "duration_ms": outcome.duration_ms,
                "error": error,
                "response_excerpt": _clip(outcome.response_excerpt),
            }
        )
        changes.append(
            {
                "b_id": row.id,
                "b_status": status,
                "b_attempts": count,
                "b_next": next_attempt_at,
                "b_at": outcome.attempted_at,
                "b_code": outcome.status_code,
                "b_error": error,
            }
        )
    if not changes:
        return statuses
    session.execute(insert(cast(Table, WebhookAttempt.__table__)), attempts)
    session.execute(
        update(d)
        .where(d.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status", type_=d.c.status.type),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next", type_=d.c.next_attempt_at.type),
            last_attempt_at=bindparam("b_at", type_=d.c.last_attempt_at.type),
            last_status_code=bindparam("b_code"),
            last_error=bindparam("b_error"),
        ),
        changes,
    )
    for row, next_attempt_at in held_back:
        # The order's later events cannot go before this one: they wait as long.
        session.execute(
            update(d)
            .where(
                d.c.endpoint_id == row.endpoint_id,
                d.c.ordering_key == row.ordering_key,
                d.c.status == DeliveryStatus.PENDING,
                d.c.event_id > row.event_id,
                d.c.next_attempt_at < next_attempt_at,
            )
            .values(next_attempt_at=next_attempt_at)
        )
    return statuses


def record_attempt(
    session: Session,
    outcome: AttemptOutcome,
    *,
    now: datetime,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> WebhookDelivery | None:
    """Log one attempt (`record_attempts`); the delivery as it now is, None when it is gone."""
    if record_attempts(session, [outcome], now=now, policy=policy)[outcome.delivery_id] is None:
        return None
    return session.get(WebhookDelivery, outcome.delivery_id, populate_existing=True)


def _clip(value: str | None) -> str | None:
    return None if value is None else value[:_TEXT_LIMIT]


# ---- the log and redelivery ------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]


def list_deliveries(
    session: Session,
    merchant_id: int,
    endpoint_id: int,
    *,
    limit: int = 50,
    before: int | None = None,
) -> list[DeliveryRecord]:
    """An endpoint's deliveries, newest first, each with its attempts (newest first)."""
    get_endpoint(session, merchant_id, endpoint_id)
    query = (
        select(WebhookDelivery, OutboxEvent.event_type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = session.execute(query).all()
    by_delivery: dict[int, list[WebhookAttempt]] = {delivery.id: [] for delivery, _ in rows}
    if by_delivery:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(by_delivery))
            .order_by(WebhookAttempt.id.desc())
        ):
            by_delivery[attempt.delivery_id].append(attempt)
    return [DeliveryRecord(d, event_type, by_delivery[d.id]) for d, event_type in rows]


def get_delivery(session: Session, merchant_id: int, delivery_id: int) -> DeliveryRecord:
    row = session.execute(
        select(WebhookDelivery, WebhookEndpoint.merchant_id, OutboxEvent.event_type)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
    ).first()
    if row is None or row[1] != merchant_id:
        raise WebhookDeliveryNotFound(f"no webhook delivery {delivery_id}", delivery_id=delivery_id)
    delivery, _, event_type = row
    attempts = session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.id.desc())
    ).all()
    return DeliveryRecord(delivery, event_type, list(attempts))


def redeliver(
    session: Session, merchant_id: int, delivery_id: int, *, now: datetime | None = None
) -> DeliveryRecord:
    """Queue a finished delivery (failed or succeeded) again, with a fresh retry schedule.

    The event keeps its ``webhook-id``, so a receiver that already has it can tell.
    """
    record = get_delivery(session, merchant_id, delivery_id)
    delivery = record.delivery
    if delivery.status is DeliveryStatus.PENDING:
        raise DeliveryPending(
            "this delivery is still queued; it is attempted again on its own",
            delivery_id=delivery_id,
            next_attempt_at=delivery.next_attempt_at.isoformat(),
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    session.flush()
    return record
