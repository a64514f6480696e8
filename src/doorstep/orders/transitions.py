"""Persisting package transitions: the state change, its history row and its outbox event.

`transition_package` is the only code that writes ``Package.state``. It checks the move with the
state machine, then changes the state, appends a `PackageEvent` and an `OutboxEvent` in the
caller's transaction, so all three commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from doorstep.models import Order, OutboxEvent, Package, PackageEvent, utcnow
from doorstep.orders.lifecycle import INITIAL_STATE, PackageState, ensure_transition


def record_package_created(
    session: Session, package: Package, order: Order, *, actor: str, at: datetime | None = None
) -> PackageEvent:
    """Write the first history row of a new package (state ``created``)."""
    package.state = INITIAL_STATE
    session.add(package)
    session.flush()
    event = _add_event(
        session, _event_values(package, order, None, INITIAL_STATE, actor, None, {}, at, 1)
    )
    session.flush()
    return event


def insert_new_packages(
    session: Session,
    rows: Sequence[dict[str, Any]],
    order: Order,
    *,
    actor: str,
    at: datetime,
    first_outbox: Sequence[dict[str, Any]] = (),
) -> list[Package]:
    """Insert an order's new packages in state ``created``, with their first history rows and
    outbox events: three statements, however many packages. ``first_outbox``: outbox rows
    to write before the packages' own, in the same statement (the order's own event: a
    receiver must hear of the order before its packages).

    ORM bulk inserts, not the unit of work: these rows are written once, and its bookkeeping
    was most of the cost of placing an order.
    """
    packages = list(
        session.scalars(
            _NEW_PACKAGES,
            [row | {"state": INITIAL_STATE} for row in rows],
        )
    )
    written = [
        _event_values(package, order, None, INITIAL_STATE, actor, None, {}, at, 1)
        for package in packages
    ]
    # Core inserts of rows whose every column is given (the ORM's bulk insert only added its
    # bookkeeping, a tenth of placing an order). Ids follow the rows' order, and a receiver
    # gets an order's events in id order: the order's own event first, then each package's.
    connection = session.connection()
    connection.execute(_PACKAGE_EVENTS, [event for event, _ in written])
    connection.execute(_OUTBOX, [*first_outbox, *(outbox for _, outbox in written)])
    return packages


_NEW_PACKAGES = insert(Package).returning(Package, sort_by_parameter_order=True)
_PACKAGE_EVENTS = insert(cast(Table, PackageEvent.__table__))
_OUTBOX = insert(cast(Table, OutboxEvent.__table__))


def created_outbox_rows(
    order: Order, packages: Sequence[Package], at: datetime
) -> list[dict[str, Any]]:
    """The ``package.created`` outbox rows of an order's new packages, as `insert_new_packages`
    writes them (the webhook benchmark writes an order's events again with these)."""
    return [
        _event_values(package, order, None, INITIAL_STATE, "", None, {}, at, 1)[1]
        for package in packages
    ]


def record_outbox(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write outbox rows in one statement; their ids follow the rows' order."""
    session.execute(insert(OutboxEvent), list(rows))


def transition_package(
    session: Session,
    package: Package,
    target: PackageState,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> PackageEvent:
    """Move ``package`` to ``target`` or raise `IllegalTransition` having changed nothing.

    A concurrent transition of the same package makes the flush fail (version check on the
    package row, unique sequence on its events) instead of losing one of the two.
    """
    current = package.state
    ensure_transition(current, target)
    order = session.get_one(Order, package.order_id)
    package.state = target
    event = _append(session, package, order, current, target, actor, reason, data or {}, at)
    return event


@dataclass(frozen=True)
class Move:
    """One package's move in a `transition_packages` batch."""

    package: Package
    target: PackageState
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


#: Package ids per ``IN (…)`` list: well under every database's limit on bound parameters.
CHUNK = 500


def transition_packages(
    session: Session, moves: Sequence[Move], *, actor: str, at: datetime | None = None
) -> None:
    """Make ``moves`` in the caller's transaction, in their order, or raise `IllegalTransition`
    having changed nothing: what `transition_package` does for each, with one query for the
    packages' last event numbers, one insert of the history rows and one of the outbox
    events, and one flush, however many moves. A package may move more than once in a batch
    (``created`` → ``ready_for_pickup`` → ``assigned``).

    A service that moves many packages at once (a plan assigning its parcels, a re-plan
    releasing them, a driver leaving with the car loaded) calls this: one move at a time
    costs a look-up and a flush per move, and a flush visits every row the session holds.
    The version check on each package row and the unique sequence of its events still make
    a concurrent transition of the same package fail instead of being lost."""
    if not moves:
        return
    state: dict[int, PackageState] = {}
    for move in moves:
        current = state.get(move.package.id, move.package.state)
        ensure_transition(current, move.target)
        state[move.package.id] = move.target
    # Earlier changes of this transaction (events, package rows) are in the database before
    # the last event numbers are read (the session does not flush by itself).
    session.flush()
    package_ids = sorted(state)
    last: dict[int, int] = {}
    order_ids = sorted({move.package.order_id for move in moves})
    orders: dict[int, Order] = {}
    for start in range(0, max(len(package_ids), len(order_ids)), CHUNK):
        chunk = package_ids[start : start + CHUNK]
        if chunk:
            last.update(
                session.execute(
                    select(PackageEvent.package_id, func.max(PackageEvent.sequence))
                    .where(PackageEvent.package_id.in_(chunk))
                    .group_by(PackageEvent.package_id)
                ).all()
            )
        wanted = order_ids[start : start + CHUNK]
        if wanted:
            orders.update(
                (o.id, o) for o in session.scalars(select(Order).where(Order.id.in_(wanted)))
            )
    when = at or utcnow()
    events, outbox = [], []
    for move in moves:
        package = move.package
        current = package.state
        package.state = move.target
        last[package.id] = last.get(package.id, 0) + 1
        event, news = _event_values(
            package,
            orders[package.order_id],
            current,
            move.target,
            actor,
            move.reason,
            move.data,
            when,
            last[package.id],
        )
        events.append(event)
        outbox.append(news)
    # The package rows first (their version check), then the history and the outbox.
    session.flush()
    for start in range(0, len(events), CHUNK):
        session.execute(insert(PackageEvent), events[start : start + CHUNK])
        session.execute(insert(OutboxEvent), outbox[start : start + CHUNK])


def _append(
    session: Session,
    package: Package,
    order: Order,
    from_state: PackageState | None,
    to_state: PackageState,
    actor: str,
    reason: str | None,
    data: dict[str, Any],
    at: datetime | None,
) -> PackageEvent:
    last_sequence = session.scalar(
        select(func.max(PackageEvent.sequence)).where(PackageEvent.package_id == package.id)
    )
    event = _add_event(
        session,
        _event_values(
            package,
            order,
            from_state,
            to_state,
            actor,
            reason,
            data,
            at,
            (last_sequence or 0) + 1,
        ),
    )
    session.flush()
    return event


def _add_event(session: Session, written: tuple[dict[str, Any], dict[str, Any]]) -> PackageEvent:
    values, outbox = written
    event = PackageEvent(**values)
    session.add_all([event, OutboxEvent(**outbox)])
    return event


def _event_values(
    package: Package,
    order: Order,
    from_state: PackageState | None,
    to_state: PackageState,
    actor: str,
    reason: str | None,
    data: dict[str, Any],
    at: datetime | None,
    sequence: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of a package's history row and of its outbox event."""
    occurred_at = at or utcnow()
    event = {
        "package_id": package.id,
        "sequence": sequence,
        "from_state": from_state,
        "to_state": to_state,
        "occurred_at": occurred_at,
        "actor": actor,
        "reason": reason,
        "data": data,
    }
    outbox = {
        "event_type": f"package.{to_state.value}",
        "aggregate_type": "package",
        "aggregate_id": package.id,
        "merchant_id": order.merchant_id,
        # A receiver sees an order's events in the order they happened.
        "ordering_key": f"order:{order.id}",
        "payload": {
            "package": {
                "tracking_code": package.tracking_code,
                "order_id": order.public_id,
                "state": to_state.value,
                "previous_state": from_state.value if from_state else None,
            },
            "reason": reason,
            "data": data,
            "occurred_at": occurred_at.isoformat(),
        },
        "created_at": occurred_at,
    }
    return event, outbox
