"""Returns: the shopper starts one from the tracking page, within the window each product
allows, and either leaves it at a partner store's counter or has a driver collect it from
their door on a later block; a station or partner store receives it, and its stock is on hand
again.

Each step is an outbox event the merchant hears by webhook (``return.requested``,
``return.dropped_off`` at a partner store's counter, ``return.collection_planned`` on a
block, ``return.collection_failed`` when nobody was home, ``return.collected`` into a car,
``return.received``) and the milestone reader turns into the shopper's message.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from doorstep.errors import DomainError, NotFound
from doorstep.models import (
    Block,
    InventoryLevel,
    Node,
    NodeKind,
    Order,
    OutboxEvent,
    Package,
    Return,
    ReturnStatus,
    Route,
    Stop,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Settings
from doorstep.tracking import wording
from doorstep.tracking.repository import Facts, find_package, load_facts
from doorstep.tracking.schemas import ReturnOffer, ReturnOut, TimelineStep

HANDED_OVER = frozenset({PackageState.DELIVERED, PackageState.PICKED_UP_AT_COUNTER})


@dataclass(frozen=True)
class DoorCollection:
    """When a driver may ring to collect a return (local hours, the plan's window at the
    door) and how many doors are tried before the shopper is asked to use a counter
    (`Settings.door_return_from_hour`, `door_return_until_hour`, `door_return_tries`)."""

    from_hour: int = 9
    until_hour: int = 21
    tries: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> DoorCollection:
        return cls(
            from_hour=settings.door_return_from_hour,
            until_hour=settings.door_return_until_hour,
            tries=settings.door_return_tries,
        )

    @property
    def window_s(self) -> tuple[int, int]:
        """The window in seconds of the day, as the planner takes it."""
        return self.from_hour * 3600, self.until_hour * 3600


class ReturnMethod(StrEnum):
    """How the return reaches a node: left at a partner store's counter, or collected from
    the shopper's door by a driver of the station that delivers there."""

    COUNTER = "counter"
    DOOR = "door"


class ReturnNotAllowed(DomainError):
    status = 409
    code = "return_not_allowed"


class ReturnWindowClosed(DomainError):
    status = 409
    code = "return_window_closed"


class ReturnAlreadyRequested(DomainError):
    """A return was started already, the other way (a counter, or the door)."""

    status = 409
    code = "return_already_requested"


class DoorCollectionUnavailable(DomainError):
    """No station's driver delivers to this address (a partner store or a carrier did), or
    the drivers found nobody home too often: the return goes to a counter."""

    status = 409
    code = "door_collection_unavailable"


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


def door_day(facts: Facts, now: datetime) -> date | None:
    """The first day a driver can come for the return, or None when no station's driver
    delivers to the address. Each station plans a day's blocks in the morning, so the
    earliest block that can take a request made today is tomorrow's, in the station's time."""
    node = facts.node
    if node is None or node.kind is not NodeKind.STATION:
        return None
    return now.astimezone(ZoneInfo(node.timezone)).date() + timedelta(days=1)


def offer(
    facts: Facts, *, now: datetime, tz: ZoneInfo, doors: DoorCollection
) -> ReturnOffer | None:
    """Whether the page offers a return (None: not a question yet, or already asked), and
    the hours a driver may come to the door."""
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
    door = door_day(facts, now)
    return ReturnOffer(
        allowed=True,
        until_text=wording.day_text(until.astimezone(tz).date()),
        door_text=wording.day_text(door) if door is not None else None,
        door_hours_text=wording.hours_text(doors.from_hour, doors.until_hour),
    )


def request_return(
    session: Session,
    token: str,
    *,
    reason: str | None,
    now: datetime,
    method: ReturnMethod = ReturnMethod.COUNTER,
) -> Return:
    """Start the return of the package behind ``token``, to a counter or collected from the
    door; asking again the same way answers the same return. Not handed over yet, not
    returnable: `ReturnNotAllowed`; too late: `ReturnWindowClosed`; asked the other way
    already: `ReturnAlreadyRequested`; the door where no station's driver goes:
    `DoorCollectionUnavailable`. Refused, nothing is written."""
    package_id = find_package(session, token)
    facts = load_facts(session, [package_id])[package_id]
    if facts.returned is not None:
        if method_of(facts.returned) is not method:
            raise ReturnAlreadyRequested(
                f"return {facts.returned.public_id} was started already "
                f"({method_of(facts.returned).value})",
                field="method",
            )
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
    door = door_day(facts, now) if method is ReturnMethod.DOOR else None
    if method is ReturnMethod.DOOR and door is None:
        raise DoorCollectionUnavailable(
            "our drivers do not collect at this address: leave it at a partner store's counter",
            field="method",
        )
    returned = Return(
        public_id="R" + secrets.token_hex(5).upper(),
        package_id=package_id,
        order_id=facts.order.id,
        merchant_id=facts.order.merchant_id,
        status=ReturnStatus.REQUESTED,
        reason=(reason or "").strip()[:500] or None,
        items=items,
        requested_at=now,
        door_from=door,
    )
    session.add(returned)
    session.flush()
    _emit(
        session,
        returned,
        facts.order,
        facts.package,
        "return.requested",
        now,
        method=method.value,
        **({"collect_from": door.isoformat()} if door else {}),
    )
    return returned


def method_of(returned: Return) -> ReturnMethod:
    """A return the shopper asked a driver to collect (still, or before the tries ran out)."""
    if returned.door_from is not None or returned.door_attempts:
        return ReturnMethod.DOOR
    return ReturnMethod.COUNTER


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
    _tell(session, returned, "return.received", now, node=node.code)
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
    _tell(session, returned, "return.dropped_off", now, node=node.code)
    return returned, False


def collect_return(
    session: Session,
    returned: Return,
    *,
    block_id: int,
    node: Node | None,
    actor: str,
    now: datetime,
) -> bool:
    """A driver scanned the return into the car on a block, at the counter it was left at
    (``node``) or at the shopper's door (None): ``return.collected``. False when that block
    had it already (a re-sent scan)."""
    if returned.collected_block_id == block_id:
        return False
    returned.collected_at, returned.collected_block_id = now, block_id
    returned.collected_by = actor[:100]
    session.flush()
    where = {"node": node.code} if node is not None else {"at": "door"}
    _tell(session, returned, "return.collected", now, **where)
    return True


def collection_planned(
    session: Session, returned: Return, *, stop_id: int, day: date, block_id: int, now: datetime
) -> None:
    """The planner put the door collection on a block's pickup stop: the merchant and the
    shopper hear of the day once (``return.collection_planned``), not again when a re-plan
    only moves it to another block of the same day."""
    returned.door_stop_id = stop_id
    if returned.door_planned_for == day:
        session.flush()
        return
    returned.door_planned_for = day
    session.flush()
    _tell(
        session,
        returned,
        "return.collection_planned",
        now,
        day=day.isoformat(),
        block_id=block_id,
    )


def collection_failed(
    session: Session,
    returned: Return,
    *,
    block_id: int,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    doors: DoorCollection,
) -> bool:
    """Nobody home: the try is counted and the stop let go. Tries left, the return waits for a
    block of the next day; none left, the shopper is asked to use a counter instead
    (``return.collection_failed`` says which). True when the door is offered again."""
    returned.door_attempts += 1
    returned.door_failed_at = now
    returned.door_stop_id = None
    returned.door_planned_for = None
    again = returned.door_attempts < doors.tries
    returned.door_from = now.astimezone(tz).date() + timedelta(days=1) if again else None
    session.flush()
    _tell(
        session,
        returned,
        "return.collection_failed",
        now,
        block_id=block_id,
        why=reason,
        attempts=returned.door_attempts,
        next="door" if again else "counter",
        **({"collect_from": returned.door_from.isoformat()} if returned.door_from else {}),
    )
    return again


def due_at_doors(
    session: Session, station_id: int, day: date
) -> list[tuple[Return, Order, Package]]:
    """Door collections a block of ``station_id`` may make on ``day``: asked for that day or
    earlier, not collected, not received, on no block a driver holds yet. Oldest first."""
    held = (
        select(Stop.id)
        .join(Route, Route.id == Stop.route_id)
        .join(Block, Block.id == Route.block_id)
        .where(Block.driver_id.is_not(None))
    )
    rows = session.execute(
        select(Return, Order, Package)
        .join(Package, Package.id == Return.package_id)
        .join(Order, Order.id == Return.order_id)
        .where(
            Return.status == ReturnStatus.REQUESTED,
            Return.door_from.is_not(None),
            Return.door_from <= day,
            Return.collected_at.is_(None),
            Return.dropped_at.is_(None),
            Package.serving_node_id == station_id,
            Return.door_stop_id.is_(None) | Return.door_stop_id.not_in(held),
        )
        .order_by(Return.requested_at, Return.id)
    ).all()
    return [(r, o, p) for r, o, p in rows]


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
        method=method_of(returned).value,
        door_from=returned.door_from,
        door_planned_for=returned.door_planned_for,
        door_attempts=returned.door_attempts,
    )


def timeline_steps(returned: Return, tz: ZoneInfo) -> list[tuple[datetime, TimelineStep]]:
    """The return's steps so far, each with the moment it happened."""
    door = returned.door_from is not None or returned.door_attempts > 0
    started = f"Return code {returned.public_id}"
    if returned.door_from is not None and returned.door_attempts == 0:
        day = wording.day_text(returned.door_from)
        started += f". A driver collects it from your door from {day}"
    failed = None
    if returned.door_attempts:
        failed = (
            f"We will come again from {wording.day_text(returned.door_from)}"
            if returned.door_from is not None
            else "Please leave it at a partner store's counter with your return code"
        )
    moments = (
        (returned.requested_at, "Return started", started),
        (returned.door_failed_at, "Nobody was home to hand over your return", failed),
        (returned.dropped_at, "Return left at the store", None),
        (
            returned.collected_at,
            "Return collected from your door"
            if door and returned.dropped_at is None
            else "Return on its way back",
            None,
        ),
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


def _tell(session: Session, returned: Return, event_type: str, now: datetime, **extra: Any) -> None:
    """The return's outbox event, with its order and package read by id."""
    order = session.get_one(Order, returned.order_id)
    package = session.get_one(Package, returned.package_id)
    _emit(session, returned, order, package, event_type, now, **extra)


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
