"""Webhook delivery as work of the job runner: the outbox fan-out as a periodic job on every
poll, the delivery queue as a lane (its own table, per-endpoint ordering and slots).

The HTTP requests run concurrently on the event loop, over one client (`sender.WebhookSender`:
connections kept alive per endpoint). Each pass of the runner (woken as attempts end) makes one
transaction for the deliveries: it records the outcomes of every attempt that ended since the
last pass, then claims due deliveries for the free slots and as many again, in one statement
(`service.claim_due`); those that do not fit yet start as slots free, without waiting for the
next pass. That transaction runs in a thread of its own, one at a time, so the
requests in flight go on while the database works (and the outcomes that arrive meanwhile
wait for the next one); with sessions bound to one connection (a test's transaction, which
two threads cannot share) it runs on the loop's thread.

A slot is a request in flight: it is free again when the answer is in. The order's next
event waits longer, until the outcome is committed: until then the delivery is pending under
its lease, the head of its order's queue, so no claim takes the event again or the one after
it. A crash before the record loses nothing: the lease runs out and the event is sent again
(at-least-once).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs import Clock, Registry, Runner, Started
from doorstep.models import DeliveryStatus, utcnow
from doorstep.settings import get_settings
from doorstep.webhooks import service
from doorstep.webhooks.addresses import AddressPolicy
from doorstep.webhooks.sender import WebhookSender
from doorstep.webhooks.service import AttemptOutcome, DueDelivery, RetryPolicy
from doorstep.webhooks.signing import event_body, message_id, sign

log = structlog.get_logger(__name__)

FAN_OUT = "webhooks.fan_out"
"""The periodic job that queues new outbox events; its result is how many it queued."""

#: The outbox is read at least this often even when no notification came.
FAN_OUT_AT_LEAST_EVERY_S = 1.0

#: A pass claims up to this many times the worker's slots (and an endpoint's share), so the
#: slots that free before the next pass have deliveries to start.
CLAIM_AHEAD = 2

Status = DeliveryStatus | None
"""A recorded attempt's delivery status; None when the delivery was gone (endpoint deleted)."""

HTTP_TIMEOUT_S = 10.0
USER_AGENT = "doorstep-webhooks/1"


def http_client(addresses: AddressPolicy | None = None) -> WebhookSender:
    """The client the worker uses (`sender.WebhookSender`): 10 s for a request, redirects not
    followed (a 3xx is a failure), connections only to the addresses ``addresses`` allows (by
    default public ones and the settings' ``DOORSTEP_WEBHOOK_ALLOW_PRIVATE``), each checked
    when it is opened, and no proxy."""
    if addresses is None:
        settings = get_settings()
        addresses = AddressPolicy.allowing(settings.webhook_private_allowances)
    return WebhookSender(addresses, timeout_s=HTTP_TIMEOUT_S, user_agent=USER_AGENT)


async def send(client: WebhookSender, due: DueDelivery) -> AttemptOutcome:
    """One signed POST; whatever happens is returned as the outcome, never raised."""
    started_at = utcnow()
    # Signed with the real clock: receivers refuse timestamps more than minutes off theirs.
    message = sign(
        due.signing_secret,
        message_id(due.event_id),
        event_body(due.event_type, due.occurred_at, due.payload),
        started_at,
        also=due.also_signing_secrets,
    )
    started = time.perf_counter()
    try:
        response = await client.post(due.url, content=message.body, headers=message.headers)
        excerpt = response.text[:500] or None
    # Anything that stops the request (timeout, refused, bad URL, bad TLS) is this attempt's
    # outcome; counting it as a failed attempt means the delivery ends `failed`, never loops.
    except Exception as exc:
        return AttemptOutcome(
            delivery_id=due.delivery_id,
            attempted_at=started_at,
            duration_ms=_elapsed_ms(started),
            error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        )
    return AttemptOutcome(
        delivery_id=due.delivery_id,
        attempted_at=started_at,
        duration_ms=_elapsed_ms(started),
        status_code=response.status_code,
        error=None if response.is_success else f"HTTP {response.status_code}",
        response_excerpt=excerpt,
    )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


@dataclass
class PassReport:
    """What one pass did; ``finished`` holds seconds from the pass's start per delivery."""

    queued: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    finished: dict[int, float] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.succeeded + self.retrying + self.failed


class DeliveryWorker:
    """Delivers the webhook queue. ``sessions`` opens the worker's own transactions.

    `register` plugs it into a runner (``doorstep worker``); `run_once` runs it alone. ``now``
    may be passed to `run_once` to drive the schedule (tests); attempts are still signed and
    logged with the real time. ``clock`` is the time `run_once` schedules by; under another
    runner, that runner's clock.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebhookSender,
        *,
        concurrency: int = 10,
        per_endpoint: int | None = None,
        policy: RetryPolicy = service.DEFAULT_POLICY,
        clock: Callable[[], datetime] = utcnow,
        on_attempt: Callable[[DueDelivery, AttemptOutcome, DeliveryStatus | None], None]
        | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.sessions = sessions
        self.client = client
        self.concurrency = concurrency
        # By default one endpoint may use half the slots: a slow one never starves the rest.
        self.per_endpoint = per_endpoint or max(1, concurrency // 2)
        self.policy = policy
        self.clock = clock
        self.on_attempt = on_attempt
        # What the attempts started since the last `run_once` did (or since the start).
        self.report = PassReport()
        self._started = time.perf_counter()
        # The requests in flight: the endpoint of each delivery. Its slot is free again when
        # the answer is in; the outcome then waits in ``_ended`` for the next transaction.
        self._sending: dict[int, int] = {}
        self._ended: list[_Ended] = []
        # Claimed ahead, waiting for a slot: a pass claims up to twice the slots, so a slot
        # that frees between passes starts the next delivery at once instead of waiting for
        # the next transaction (at hundreds of events a second, the pass is the bottleneck).
        # Each is the head of its order's queue under its lease, as one in flight is.
        self._waiting: deque[DueDelivery] = deque()
        self._holding = False
        # The record-and-claim transaction in its thread, while it runs (one at a time).
        self._pass: asyncio.Task[Started] | None = None
        self._threaded = isinstance(sessions.kw.get("bind"), Engine)
        # The last claim found less than it had slots for: nothing more is due until an
        # attempt ends (its order's next event) or the next poll (new events, time passing).
        self._idle = False
        self._outbox_changed = True
        self._next_fan_out = 0.0

    def register(self, registry: Registry) -> None:
        """Queue new outbox events as soon as they are committed (the runner is woken by
        `service.watch_outbox`; a poll every second at the latest), and deliver them as a
        lane."""
        registry.every(FAN_OUT, timedelta(0), self.fan_out)
        registry.lane(self)
        registry.listen(self.watch_outbox)

    async def watch_outbox(self, wake: Callable[[], None], stop: asyncio.Event) -> None:
        def new_events() -> None:
            self._outbox_changed = True
            wake()

        await service.watch_outbox(self.sessions, new_events, stop)

    async def run_once(self, now: datetime | None = None) -> PassReport:
        """Queue new events, attempt every delivery due at ``now``, wait for all of them."""
        self.report = report = PassReport()
        self._started = time.perf_counter()
        self._outbox_changed = True  # a pass of its own reads the outbox whatever it was told
        registry = Registry()
        self.register(registry)
        run = await Runner(self.sessions, registry, clock=self.clock).run_once(now)
        queued = run.periodic.get(FAN_OUT)
        report.queued = queued if isinstance(queued, int) else 0
        return report

    def polled(self) -> None:
        self._idle = False  # the fan-out has committed, and events may have come due

    def fan_out(self, session: Session, now: datetime) -> int:
        # Passes come as often as attempts end; the outbox is read (and briefly locked, see
        # service.fan_out) only when told of new events, or once a second in case a
        # notification was missed.
        if not self._outbox_changed and time.monotonic() < self._next_fan_out:
            return 0
        self._outbox_changed = False
        self._next_fan_out = time.monotonic() + FAN_OUT_AT_LEAST_EVERY_S
        return service.fan_out(session, now=now)

    def start_due(self, now: Clock) -> list[asyncio.Task[Any]]:
        """Record the attempts that ended since the last pass and claim due deliveries for
        the free slots and as many again to wait for a slot, in one transaction; start the
        attempts that fit.

        With its own thread, returns the transaction's task, which ends with the attempts it
        started (`Started`); a pass while it runs does nothing (what ends meanwhile waits for
        the next one, which the task's end wakes)."""
        if self._pass is not None:
            return []
        ended, self._ended = self._ended, []
        free = CLAIM_AHEAD * self.concurrency - len(self._sending) - len(self._waiting)
        if self._holding:
            free = 0
        if not ended and (free <= 0 or self._idle):
            return []
        in_flight = Counter(self._sending.values())
        in_flight.update(due.endpoint_id for due in self._waiting)
        if not self._threaded:
            try:
                statuses, claimed = self._record_and_claim(ended, free, in_flight, now)
            except Exception:
                _forget(ended)
                raise
            return list(self._start(ended, free, statuses, claimed).tasks)
        task = asyncio.create_task(self._in_thread(ended, free, in_flight, now))
        self._pass = task
        task.add_done_callback(self._pass_ended)
        return [task]

    async def _in_thread(
        self, ended: list[_Ended], free: int, in_flight: Counter[int], now: Clock
    ) -> Started:
        try:
            statuses, claimed = await asyncio.to_thread(
                self._record_and_claim, ended, free, in_flight, now
            )
        except Exception:
            # The runner's next pass tries again; these outcomes are lost with the transaction.
            log.exception("webhook_pass_failed")
            _forget(ended)
            self._idle = True  # tried again at the next poll, not at once
            return Started(())
        return self._start(ended, free, statuses, claimed)

    def _pass_ended(self, _: asyncio.Task[Started]) -> None:
        self._pass = None

    def _record_and_claim(
        self, ended: list[_Ended], free: int, in_flight: Counter[int], now: Clock
    ) -> tuple[dict[int, Status], list[DueDelivery]]:
        """The pass's transaction: touches no state of the worker (it may run in a thread)."""
        with unit_of_work(self.sessions) as session:
            statuses = service.record_attempts(
                session, [end.outcome for end in ended], now=now(), policy=self.policy
            )
            claimed = (
                service.claim_due(
                    session,
                    now=now(),
                    limit=free,
                    in_flight=in_flight,
                    per_endpoint=CLAIM_AHEAD * self.per_endpoint,
                    policy=self.policy,
                )
                if free > 0
                else []
            )
        return statuses, claimed

    def _start(
        self,
        ended: list[_Ended],
        free: int,
        statuses: dict[int, Status],
        claimed: Sequence[DueDelivery],
    ) -> Started:
        self._idle = len(claimed) < free
        for end in ended:
            self._report(end, statuses[end.due.delivery_id])
        self._waiting.extend(claimed)
        return Started(self._start_waiting())

    def _start_waiting(self) -> list[asyncio.Task[Started]]:
        """Start the waiting deliveries that fit the free slots (per endpoint too), in the
        order they were claimed."""
        if self._holding or not self._waiting:
            return []
        per_endpoint = Counter(self._sending.values())
        tasks, kept = [], deque[DueDelivery]()
        for due in self._waiting:
            fits = len(self._sending) < self.concurrency
            if fits and per_endpoint[due.endpoint_id] < self.per_endpoint:
                per_endpoint[due.endpoint_id] += 1
                self._sending[due.delivery_id] = due.endpoint_id
                tasks.append(asyncio.create_task(self._attempt(due, self.report, self._started)))
            else:
                kept.append(due)
        self._waiting = kept
        return tasks

    def hold(self) -> None:
        """Start nothing more (the worker is stopping): what runs ends, what waits for a slot
        is handed back by `finish`."""
        self._holding = True

    def finish(self, now: Clock = utcnow) -> None:
        """Record the attempts that ended after the last pass and hand back the claims still
        waiting for a slot (when the runner has stopped), so they are due again at once
        rather than when their lease runs out."""
        if not self._ended and not self._waiting:
            return
        ended, self._ended = self._ended, []
        waiting, self._waiting = list(self._waiting), deque()
        with unit_of_work(self.sessions) as session:
            statuses = service.record_attempts(
                session, [end.outcome for end in ended], now=now(), policy=self.policy
            )
            service.release_claims(session, [due.delivery_id for due in waiting], now=now())
        for end in ended:
            self._report(end, statuses[end.due.delivery_id])

    async def _attempt(self, due: DueDelivery, report: PassReport, started: float) -> Started:
        try:
            outcome = await send(self.client, due)
        finally:
            del self._sending[due.delivery_id]  # the slot is free; the order waits on
        # Recorded by the next pass, which this task's end wakes; the slot goes at once to a
        # delivery claimed ahead.
        self._ended.append(_Ended(due, outcome, report, started))
        return Started(self._start_waiting())

    def _report(self, end: _Ended, status: Status) -> None:
        due, outcome, report = end.due, end.outcome, end.report
        report.finished[due.delivery_id] = time.perf_counter() - end.started
        if status is DeliveryStatus.SUCCEEDED:
            report.succeeded += 1
        elif status is DeliveryStatus.FAILED:
            report.failed += 1
        elif status is DeliveryStatus.PENDING:
            report.retrying += 1
        log.info(
            "webhook_attempt",
            delivery_id=due.delivery_id,
            event_id=due.event_id,
            attempt=due.attempt,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            result=status,
        )
        if self.on_attempt is not None:
            self.on_attempt(due, outcome, status)


@dataclass(frozen=True)
class _Ended:
    """An attempt whose outcome waits for the next pass's transaction."""

    due: DueDelivery
    outcome: AttemptOutcome
    report: PassReport
    started: float


def _forget(ended: list[_Ended]) -> None:
    # Not recorded: their claims' leases run out and the events are sent again.
    for end in ended:
        log.warning("webhook_record_failed", delivery_id=end.due.delivery_id)
