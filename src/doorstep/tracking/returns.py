"""Returns: the shopper starts one from the tracking page, within the window each product
allows; a station or partner store receives it, and its stock is on hand again.

Each step is an outbox event the merchant hears by webhook (``return.requested``,
``return.dropped_off`` at a partner store's counter, ``return.collected`` into the car of the
run back, ``return.received``) and the milestone reader turns into the shopper's message.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from doorstep.errors import DomainError, NotFound
from doorstep.models import InventoryLevel, Node, Order, OutboxEvent, Package, Return, ReturnStatus
from doorstep.orders.lifecycle import PackageState
from doorstep.tracking import wording
from doorstep.tracking.repository import Facts, find_package, load_facts
from doorstep.tracking.schemas import ReturnOffer, ReturnOut, TimelineStep

HANDED_OVER = frozenset({PackageState.DELIVERED, PackageState.PICKED_UP_AT_COUNTER})


class ReturnNotAllowed(DomainError):
    status = 409
    code = "return_not_allowed"


class ReturnWindowClosed(DomainError):
    status = 409
    code = "return_window_closed"


class ReturnNotFound(NotFound):
    code = "return_not_found"


class NodeNotFound(NotFound):
    code = "node_not_found"


def handed_over_at(facts: Facts) -> datetime | None:
    for event in reversed(facts.events):
        if event.to_state in HANDED_OVER:
            return event.occurred_at
    return None


def returnable_items(facts: Facts, now: datetime) -> tuple[list[dict[str, Any]], datetime | None]:
    """The items whose return window is still open, and the last moment one is."""
    at = handed_over_at(facts)
    if at is None:
        return [], None
    items, last = [], None
    for product, quantity in facts.lines:
        if product.return_window_days is None:
            continue
        until = at + timedelta(days=product.return_window_days)
        if now <= until:
            items.append({"product_id": product.id, "sku": product.sku, "quantity": quantity})
            last = until if last is None else max(last, until)
    return items, last


def offer(facts: Facts, *, now: datetime, tz: ZoneInfo) -> ReturnOffer | None:
    """Whether the page offers a return (None: not a question yet, or already asked)."""
    if facts.package.state not in HANDED_OVER or facts.returned is not None:
        return None
    if not any(product.return_window_days is not None for product, _ in facts.lines):
        return ReturnOffer(
            allowed=False,
            why_not=f"{facts.merchant.display_name or facts.merchant.name} does not take "
            "these items back",
        )
    items, until = returnable_items(facts, now)
    if not items or until is None:
        return ReturnOffer(allowed=False, why_not="The return window has closed")
    return ReturnOffer(allowed=True, until_text=wording.day_text(until.astimezone(tz).date()))


def request_return(session: Session, token: str, *, reason: str | None, now: datetime) -> Return:
    """Start the return of the package behind ``token``; asking again answers the same
    return. Not handed over yet, not returnable: `ReturnNotAllowed`; too late:
    `ReturnWindowClosed`."""
    package_id = find_package(session, token)
    facts = load_facts(session, [package_id])[package_id]
    if facts.returned is not None:
        return facts.returned
    if facts.package.state not in HANDED_OVER:
        raise ReturnNotAllowed(
            "a return can be started once the parcel is delivered", field="package"
        )
    if not any(product.return_window_days is not None for product, _ in facts.lines):
        raise ReturnNotAllowed("the seller does not take these items back", field="package")
    items, _ = returnable_items(facts, now)
    if not items:
        raise ReturnWindowClosed("the return window of these items has closed", field="package")
    returned = Return(
        public_id="R" + secrets.token_hex(5).upper(),
        package_id=package_id,
        order_id=facts.order.id,
        merchant_id=facts.order.merchant_id,
        status=ReturnStatus.REQUESTED,
        reason=(reason or "").strip()[:500] or None,
        items=items,
        requested_at=now,
    )
    session.add(returned)
    session.flush()
    _emit(session, returned, facts.order, facts.package, "return.requested", now)
    return returned


def receive_return(
    session: Session, code: str, *, node_code: str, actor: str, now: datetime
) -> tuple[Return, Node]:
    """A station's or partner store's scan of a return: it is received, and each item's
    stock is on hand again at that node. Receiving it again changes nothing (the stock is
    counted once). What the station API and the partner counter's scan call."""
    returned = find_return(session, code, lock=True)
    if returned is None:
        raise ReturnNotFound(f"no return {code!r}", field="code")
    node = session.scalar(select(Node).where(Node.code == node_code.strip()))
    if node is None:
        raise NodeNotFound(f"no node {node_code!r}", field="node")
    if returned.status is ReturnStatus.RECEIVED:
        received_at = session.get_one(Node, returned.received_node_id)
        return returned, received_at
    for item in sorted(returned.items, key=lambda i: int(i["product_id"])):
        restocked = session.execute(
            update(InventoryLevel)
            .where(
                InventoryLevel.product_id == item["product_id"], InventoryLevel.node_id == node.id
            )
            .values(on_hand=InventoryLevel.on_hand + int(item["quantity"]), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if restocked.rowcount == 0:  # type: ignore[attr-defined]
            session.add(
                InventoryLevel(
                    product_id=item["product_id"],
                    node_id=node.id,
                    on_hand=int(item["quantity"]),
                    reserved=0,
                )
            )
    returned.status = ReturnStatus.RECEIVED
    returned.received_at = now
    returned.received_node_id = node.id
    returned.received_by = actor[:100]
    session.flush()
    order = session.get_one(Order, returned.order_id)
    package = session.get_one(Package, returned.package_id)
    _emit(session, returned, order, package, "return.received", now, node=node.code)
    return returned, node


class ReturnNotAtThisStore(DomainError):
    status = 409
    code = "return_not_at_this_store"


class ReturnAlreadyReceived(DomainError):
    status = 409
    code = "return_already_received"


def find_return(session: Session, code: str, *, lock: bool = False) -> Return | None:
    """The return whose code the shopper showed (codes are upper case; a scanner may not be)."""
    query = select(Return).where(Return.public_id == code.strip().upper())
    return session.scalar(query.with_for_update() if lock else query)


def drop_at_counter(
    session: Session, code: str, *, node: Node, actor: str, now: datetime
) -> tuple[Return, bool]:
    """The shopper left the return at a partner store's counter: it waits for the run back to
    the station, where it is received (``return.dropped_off``). Left there already: the same
    answer (True: replayed). Received, or left at another store: refused."""
    returned = find_return(session, code, lock=True)
    if returned is None:
        raise ReturnNotFound(f"no return {code!r}", field="code")
    if returned.status is ReturnStatus.RECEIVED:
        raise ReturnAlreadyReceived(f"return {returned.public_id} was received already")
    if returned.dropped_node_id is not None:
        if returned.dropped_node_id != node.id:
            raise ReturnNotAtThisStore(
                f"return {returned.public_id} was left at another store", field="code"
            )
        return returned, True
    returned.dropped_at, returned.dropped_node_id = now, node.id
    returned.dropped_by = actor[:100]
    session.flush()
    order = session.get_one(Order, returned.order_id)
    package = session.get_one(Package, returned.package_id)
    _emit(session, returned, order, package, "return.dropped_off", now, node=node.code)
    return returned, False


def collect_return(
    session: Session, returned: Return, *, block_id: int, node: Node, actor: str, now: datetime
) -> bool:
    """A driver scanned the return into the car (at the counter it was left at) on a block:
    ``return.collected``. False when that block had it already (a re-sent scan)."""
    if returned.collected_block_id == block_id:
        return False
    returned.collected_at, returned.collected_block_id = now, block_id
    returned.collected_by = actor[:100]
    session.flush()
    order = session.get_one(Order, returned.order_id)
    package = session.get_one(Package, returned.package_id)
    _emit(session, returned, order, package, "return.collected", now, node=node.code)
    return True


def waiting_at(session: Session, node_id: int) -> list[Return]:
    """Returns left at a store's counter that no run has collected yet, oldest first."""
    return list(
        session.scalars(
            select(Return)
            .where(
                Return.dropped_node_id == node_id,
                Return.collected_at.is_(None),
                Return.status == ReturnStatus.REQUESTED,
            )
            .order_by(Return.dropped_at, Return.id)
        )
    )


def in_car(session: Session, block_id: int) -> list[Return]:
    """Returns a block collected that no station has received yet."""
    return list(
        session.scalars(
            select(Return)
            .where(Return.collected_block_id == block_id, Return.status == ReturnStatus.REQUESTED)
            .order_by(Return.public_id)
        )
    )


def list_returns(session: Session, merchant_id: int, *, limit: int = 100) -> list[Return]:
    return list(
        session.scalars(
            select(Return)
            .where(Return.merchant_id == merchant_id)
            .order_by(Return.id.desc())
            .limit(limit)
        )
    )


def return_out(returned: Return) -> ReturnOut:
    return ReturnOut(
        code=returned.public_id,
        status=returned.status,
        requested_at=returned.requested_at,
        received_at=returned.received_at,
        items=[{"sku": i["sku"], "quantity": i["quantity"]} for i in returned.items],
    )


def timeline_steps(returned: Return, tz: ZoneInfo) -> list[tuple[datetime, TimelineStep]]:
    """The return's steps so far, each with the moment it happened."""
    moments = (
        (returned.requested_at, "Return started", f"Return code {returned.public_id}"),
        (returned.dropped_at, "Return left at the store", None),
        (returned.collected_at, "Return on its way back", None),
        (returned.received_at, "Return received", None),
    )
    return [
        (
            at,
            TimelineStep(label=label, detail=detail, at=at, at_text=wording.moment_text(at, tz)),
        )
        for at, label, detail in moments
        if at is not None
    ]


def _emit(
    session: Session,
    returned: Return,
    order: Order,
    package: Package,
    event_type: str,
    now: datetime,
    **extra: Any,
) -> None:
    session.execute(
        insert(OutboxEvent),
        [
            {
                "event_type": event_type,
                "aggregate_type": "return",
                "aggregate_id": returned.id,
                "merchant_id": order.merchant_id,
                "ordering_key": f"order:{order.id}",
                "payload": {
                    "return": {
                        "code": returned.public_id,
                        "status": returned.status.value,
                        "order_id": order.public_id,
                        "tracking_code": package.tracking_code,
                        "items": [
                            {"sku": i["sku"], "quantity": i["quantity"]} for i in returned.items
                        ],
                        "reason": returned.reason,
                    }
                    | extra,
                    "occurred_at": now.isoformat(),
                },
                "created_at": now,
            }
        ],
    )
