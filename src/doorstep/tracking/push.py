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
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import READ_ONLY_BEGIN
from doorstep.models import OutboxEvent
from doorstep.tracking import service
from doorstep.tracking.repository import package_of_return, route_neighbours
from doorstep.tracking.returns import DoorCollection

log = structlog.get_logger(__name__)

GAP = 500
TOKENS_KEPT = 200_000
PAGES_KEPT = 20_000
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
        secret_key: str,
        cache_s: float = 0.0,
        doors: DoorCollection = DoorCollection(),
    ) -> None:
        self._sessions = sessions
        self.poll_s = poll_s
        self._clock = clock
        self._max_attempts = max_attempts
        self._doors = doors
        self._secret_key = secret_key  # the counter pick-up codes (pushed behind the token)
        self._subscribers: dict[int, set[asyncio.Queue[str]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._cursor: int | None = None
        self._seen: set[int] = set()
        self.pushed = 0  # pages handed to subscribers since the start (for benchmarks)
        # Rendered pages, trusted while this reader keeps up: a change on a package's route
        # drops its page at the next poll; the time-worded parts ("about 12 minutes") age out
        # after ``cache_s``.
        self.cache_s = cache_s
        self._pages: dict[int, tuple[float, str]] = {}
        self._tokens: dict[str, int] = {}
        self._last_poll = 0.0
        self._forgotten: dict[int, float] = {}

    @property
    def watching(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def subscribe(self, package_id: int) -> asyncio.Queue[str]:
        """A queue that receives the package's page (JSON) after each change; call
        `unsubscribe` with it when the page goes away."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[package_id].add(queue)
        self.ensure_running()
        return queue

    def unsubscribe(self, package_id: int, queue: asyncio.Queue[str]) -> None:
        queues = self._subscribers.get(package_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[package_id]

    def ensure_running(self) -> None:
        """Start the reader (from the event loop) if it is not running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    # ---- the page cache (this process only) ---------------------------------------------

    def package_of(self, token: str) -> int | None:
        """A token already seen by this process (tokens never change owner)."""
        return self._tokens.get(token)

    def remember_token(self, token: str, package_id: int) -> None:
        if len(self._tokens) > TOKENS_KEPT:
            self._tokens.clear()
        self._tokens[token] = package_id

    def cached_page(self, package_id: int) -> str | None:
        if self.cache_s <= 0:
            return None
        now = time.monotonic()
        if now - self._last_poll > self.poll_s * 4 + 1:
            return None  # the reader is behind or down: changes may not have been seen
        entry = self._pages.get(package_id)
        if entry is None or entry[0] < now:
            return None
        return entry[1]

    def remember_page(self, package_id: int, html: str, *, since: float) -> None:
        """Keep the page rendered from data read after ``since`` (``time.monotonic()``); not
        kept when a change on its route was seen after that moment."""
        if self.cache_s <= 0 or self._forgotten.get(package_id, 0.0) >= since:
            return
        if len(self._pages) > PAGES_KEPT:
            self._pages.clear()
        self._pages[package_id] = (time.monotonic() + self.cache_s, html)

    def forget(self, package_ids: Iterable[int]) -> None:
        now = time.monotonic()
        for package_id in package_ids:
            self._pages.pop(package_id, None)
            self._forgotten[package_id] = now
        if len(self._forgotten) > PAGES_KEPT:
            self._forgotten = {k: v for k, v in self._forgotten.items() if v > now - 60}

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
                started = time.monotonic()
                changed, updates = await asyncio.to_thread(self.poll, wanted)
                self.forget(changed)
                self._last_poll = started
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
            cursor = session.scalar(select(func.max(OutboxEvent.id))) or 0
            # What is already there is in every page rendered from now on: seen.
            self._seen = set(
                session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > cursor - GAP))
            )
            self._cursor = cursor

    def poll(self, wanted: frozenset[int]) -> tuple[set[int], dict[int, str]]:
        """New committed events → the packages whose pages they change, and the pages (JSON)
        of those somebody watches."""
        if self._cursor is None:
            self._start_cursor()
            return set(), {}
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
            if not new:
                return set(), {}
            packages = {r.aggregate_id for r in new if r.aggregate_type == "package"}
            packages |= package_of_return(
                session, {r.aggregate_id for r in new if r.aggregate_type == "return"}
            )
            changed = route_neighbours(session, packages)
            affected = changed & wanted
            if not affected:
                return changed, {}
            views = service.views_of(
                session,
                affected,
                now=self._clock(),
                max_attempts=self._max_attempts,
                secret_key=self._secret_key,
                doors=self._doors,
            )
        return changed, {package_id: view.model_dump_json() for package_id, view in views.items()}
