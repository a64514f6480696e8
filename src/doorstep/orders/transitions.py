"""Persisting package transitions: the state change, its history row and its outbox event.

`transition_package` is the only code that writes ``Package.state``. It checks the move with the
state machine, then changes the state, appends a `PackageEvent` and an `OutboxEvent` in the
caller's transaction, so all three commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
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
            insert(Package).returning(Package, sort_by_parameter_order=True),
            [row | {"state": INITIAL_STATE} for row in rows],
        )
    )
    written = [
        _event_values(package, order, None, INITIAL_STATE, actor, None, {}, at, 1)
        for package in packages
    ]
    session.execute(insert(PackageEvent), [event for event, _ in written])
    # Ids follow the rows' order, and a receiver gets an order's events in id order: the
    # order's own event first, then each package's.
    session.execute(insert(OutboxEvent), [*first_outbox, *(outbox for _, outbox in written)])
    return packages


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
