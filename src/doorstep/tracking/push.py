"""Live tracking pages: one broadcaster per server process, fed by committed outbox events.

Each open page (a server-sent-events stream) subscribes to its package. The broadcaster alone
reads the database: every ``poll_s`` it asks the outbox for the package and return events
committed since it last looked (one small query, however many pages are open), widens each
package to every package delivered on the same route (a door done moves everyone's ETA on
that route), keeps those somebody is watching, builds their pages in one batch (a dozen
queries for a whole route), and hands each subscriber its page as JSON. Nothing is read for a
page nobody watches; no page polls the database itself.

PostgreSQL hands out outbox ids before commit, so an event can become visible after one with
a higher id. The broadcaster therefore rereads a window of ``GAP`` ids below the highest it
has seen and skips those it already handled: a late commit within that window is still
pushed (further back, the page catches up with the next event of its route, or a reload).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import READ_ONLY_BEGIN
from doorstep.models import OutboxEvent
from doorstep.tracking import service
from doorstep.tracking.repository import package_of_return, route_neighbours

log = structlog.get_logger(__name__)

GAP = 500
BATCH = 5000
QUEUE_SIZE = 4  # a page that reads slowly gets the newest state, not every state


class Broadcaster:
    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session]],
        *,
        poll_s: float,
        clock: Callable[[], datetime],
        max_attempts: int,
    ) -> None:
        self._sessions = sessions
        self.poll_s = poll_s
        self._clock = clock
        self._max_attempts = max_attempts
        self._subscribers: dict[int, set[asyncio.Queue[str]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._cursor: int | None = None
        self._seen: set[int] = set()
        self.pushed = 0  # pages handed to subscribers since the start (for benchmarks)

    @property
    def watching(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def subscribe(self, package_id: int) -> asyncio.Queue[str]:
        """A queue that receives the package's page (JSON) after each change; call
        `unsubscribe` with it when the page goes away."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[package_id].add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def unsubscribe(self, package_id: int, queue: asyncio.Queue[str]) -> None:
        queues = self._subscribers.get(package_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[package_id]

    async def start(self) -> None:
        """Take the outbox's current end as the starting point (else the first subscriber
        does, and what happened before it is already in its first page)."""
        await asyncio.to_thread(self._start_cursor)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                wanted = frozenset(self._subscribers)
                updates = await asyncio.to_thread(self.poll, wanted)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the next poll tries again
                log.exception("tracking push poll failed")
                updates = {}
            self._publish(updates)
            await asyncio.sleep(self.poll_s)

    def _publish(self, updates: dict[int, str]) -> None:
        for package_id, payload in updates.items():
            for queue in list(self._subscribers.get(package_id, ())):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(payload)
                self.pushed += 1

    def _start_cursor(self) -> None:
        with self._sessions()() as session:
            session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})
            self._cursor = session.scalar(select(func.max(OutboxEvent.id))) or 0

    def poll(self, wanted: frozenset[int]) -> dict[int, str]:
        """New committed events → the pages (JSON) of the watched packages they change."""
        if self._cursor is None:
            self._start_cursor()
            return {}
        with self._sessions()() as session:
            # Only reads: on SQLite a snapshot that neither waits for nor holds up writers.
            session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.aggregate_type, OutboxEvent.aggregate_id)
                .where(
                    OutboxEvent.id > self._cursor - GAP,
                    OutboxEvent.aggregate_type.in_(("package", "return")),
                )
                .order_by(OutboxEvent.id)
                .limit(BATCH)
            ).all()
            new = [row for row in rows if row.id not in self._seen]
            if rows:
                self._cursor = max(self._cursor, rows[-1].id)
            self._seen.update(row.id for row in new)
            self._seen = {i for i in self._seen if i > self._cursor - GAP}
            if not new or not wanted:
                return {}
            packages = {r.aggregate_id for r in new if r.aggregate_type == "package"}
            packages |= package_of_return(
                session, {r.aggregate_id for r in new if r.aggregate_type == "return"}
            )
            affected = route_neighbours(session, packages) & wanted
            if not affected:
                return {}
            views = service.views_of(
                session, affected, now=self._clock(), max_attempts=self._max_attempts
            )
        return {package_id: view.model_dump_json() for package_id, view in views.items()}
