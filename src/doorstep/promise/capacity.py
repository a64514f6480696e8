"""Committed volume per node and service day, counted at most once per ``ttl_s`` per process.

Same-day is offered while a station's (or partner store's) committed packages for the day are
below its capacity. Counting them on every preview scanned that day's packages for each shopper:
the cost grew with the day's volume, exactly when the network is busiest. The API keeps one
count of every node's days instead and refreshes it when it is older than ``ttl_s`` (a second
by default): capacity is a planning limit, and a count a second old changes nothing a shopper
would notice, while the query runs once a second instead of hundreds of times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from doorstep.models import Package
from doorstep.orders.lifecycle import PackageState

# Yesterday (a late same-day order) to three days ahead (two-day orders).
DAYS_BEFORE, DAYS_AFTER = 1, 3

_packages = Package.__table__.c
_COMMITTED = (
    select(_packages.serving_node_id, _packages.service_date, func.count())
    .where(
        _packages.serving_node_id.is_not(None),
        _packages.service_date >= bindparam("first_day"),
        _packages.service_date <= bindparam("last_day"),
        _packages.state != PackageState.CANCELLED,
    )
    .group_by(_packages.serving_node_id, _packages.service_date)
)
# The same for some nodes, built once (its cache key too): checkout runs it for every order.
_COMMITTED_AT = _COMMITTED.where(
    _packages.serving_node_id.in_(bindparam("node_ids", expanding=True))
)


def committed_volume(
    session: Session, today: date, node_ids: list[int] | None = None
) -> dict[tuple[int, date], int]:
    """Packages not cancelled per (serving node, service day) around ``today``."""
    days = {
        "first_day": today - timedelta(days=DAYS_BEFORE),
        "last_day": today + timedelta(days=DAYS_AFTER),
    }
    rows = session.connection().execute(
        _COMMITTED if node_ids is None else _COMMITTED_AT,
        days if node_ids is None else {**days, "node_ids": node_ids},
    )
    return {(node_id, day): count for node_id, day, count in rows}


class CommittedVolumeCache:
    """One count of every node's committed days per process, recounted after ``ttl_s``."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, date], int] = {}
        self._today: date | None = None
        self._counted_at = 0.0

    def get(self, session: Session, today: date) -> Mapping[tuple[int, date], int]:
        with self._lock:
            if self._today != today or self._clock() - self._counted_at > self.ttl_s:
                self._counts = committed_volume(session, today)
                self._today = today
                self._counted_at = self._clock()
            return self._counts
