"""Exceptions to act on: what went wrong in the day, and the actions that resolve it.

The drivers' road opens them (no-shows, parcels missing at pickup, deliveries far from the
door, late returns, …). Here an operator lists them and acts:

- **re-offer the block** (a no-show): the block is taken from its driver and offered again,
  through the drivers' own give-back (`drivers.held.take_back_block`);
- **raise the pay** (a block nobody has taken): by the share the operator chooses, through
  the drivers' own boost (`drivers.boost.raise_pay`); drivers who turned it down see it again;
- **send the parcel by carrier**: a carrier shipment is planned for it (the counter's manual
  carrier, the service's list rate) and the package moves to ``assigned`` through the package
  state machine, with its event; ``doorstep carrier labels`` then buys the label;
- **contact the driver or the shopper**: a message in the operator's words, queued through
  the notifications (e-mail, or SMS when there is no e-mail);
- **resolve** with a note.

Each action resolves the exception (the note says what was done), and each is written to the
audit log with the exception before and after, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from doorstep.drivers import boost, held
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.models import (
    Block,
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    Driver,
    ExceptionKind,
    ExceptionStatus,
    MessageChannel,
    Node,
    OfferMode,
    OpsException,
    Order,
    Package,
    Plan,
)
from doorstep.notifications import service as notifications
from doorstep.notifications.service import Related
from doorstep.ops import audit
from doorstep.ops.audit import Actor
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.planning.core.model import default_carrier_services


class ExceptionNotFound(NotFound):
    code = "exception_not_found"


class ExceptionAlreadyResolved(DomainError):
    status = 409
    code = "exception_already_resolved"


class ActionNotApplicable(DomainError):
    status = 409
    code = "exception_action_not_applicable"


class Act(StrEnum):
    REOFFER = "reoffer"
    RAISE_PAY = "raise_pay"
    CARRIER = "carrier"
    CONTACT_DRIVER = "contact_driver"
    CONTACT_SHOPPER = "contact_shopper"
    RESOLVE = "resolve"


#: Where a parcel may be sent by carrier from: it is back in hand (found, or returned).
_CARRIER_FROM = frozenset(
    {PackageState.MISSING, PackageState.RETURNED, PackageState.READY_FOR_PICKUP}
)
CARRIER_SERVICES = {s.name: s for s in default_carrier_services() if s.transit_days > 0}


@dataclass(frozen=True)
class ExceptionRow:
    id: int
    kind: ExceptionKind
    status: ExceptionStatus
    detail: str
    opened_at: datetime
    opened_by: str
    block_id: int | None
    package: str | None  # tracking code
    package_state: str | None
    driver: str | None
    driver_id: int | None
    node: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    actions: tuple[Act, ...]
    # The wave the block was planned in (station code, service date): what "re-plan the
    # wave" plans again. None when the exception concerns no planned block.
    wave_station: str | None = None
    wave_date: date | None = None


def actions_for(
    exception: OpsException, block: Block | None, package: Package | None
) -> tuple[Act, ...]:
    """The actions that make sense for this exception now (an open one only)."""
    if exception.status is not ExceptionStatus.OPEN:
        return ()
    acts: list[Act] = []
    if block is not None and block.status.value == "accepted" and block.checked_in_at is None:
        acts.append(Act.REOFFER)
    if block is not None and block.status.value == "open":
        acts.append(Act.RAISE_PAY)
    if package is not None and package.state in _CARRIER_FROM:
        acts.append(Act.CARRIER)
    if exception.driver_id is not None:
        acts.append(Act.CONTACT_DRIVER)
    if package is not None:
        acts.append(Act.CONTACT_SHOPPER)
    acts.append(Act.RESOLVE)
    return tuple(acts)


def list_exceptions(
    session: Session,
    *,
    status: ExceptionStatus | None = ExceptionStatus.OPEN,
    kind: ExceptionKind | None = None,
    limit: int = 200,
) -> list[ExceptionRow]:
    station = aliased(Node)
    query = (
        select(
            OpsException, Block, Package, Driver.name, Node.code, station.code, Plan.service_date
        )
        .outerjoin(Block, Block.id == OpsException.block_id)
        .outerjoin(Package, Package.id == OpsException.package_id)
        .outerjoin(Driver, Driver.id == OpsException.driver_id)
        .outerjoin(Node, Node.id == OpsException.node_id)
        .outerjoin(Plan, Plan.id == Block.plan_id)
        .outerjoin(station, station.id == Plan.station_id)
        .order_by(OpsException.opened_at.desc(), OpsException.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OpsException.status == status)
    if kind is not None:
        query = query.where(OpsException.kind == kind)
    return [_row(*found) for found in session.execute(query).all()]


def get_exception(session: Session, exception_id: int) -> ExceptionRow:
    exception = _load(session, exception_id)
    block = session.get(Block, exception.block_id) if exception.block_id else None
    package = session.get(Package, exception.package_id) if exception.package_id else None
    driver = session.get(Driver, exception.driver_id) if exception.driver_id else None
    node = session.get(Node, exception.node_id) if exception.node_id else None
    plan = session.get(Plan, block.plan_id) if block is not None and block.plan_id else None
    return _row(
        exception,
        block,
        package,
        driver.name if driver else None,
        node.code if node else None,
        session.get_one(Node, plan.station_id).code if plan else None,
        plan.service_date if plan else None,
    )


def _row(
    e: OpsException,
    block: Block | None,
    package: Package | None,
    driver: str | None,
    node: str | None,
    wave_station: str | None = None,
    wave_date: date | None = None,
) -> ExceptionRow:
    return ExceptionRow(
        id=e.id,
        kind=e.kind,
        status=e.status,
        detail=e.detail,
        opened_at=e.opened_at,
        opened_by=e.opened_by,
        block_id=e.block_id,
        package=package.tracking_code if package else None,
        package_state=package.state.value if package else None,
        driver=driver,
        driver_id=e.driver_id,
        node=node,
        resolved_at=e.resolved_at,
        resolved_by=e.resolved_by,
        resolution=e.resolution,
        actions=actions_for(e, block, package),
        wave_station=wave_station,
        wave_date=wave_date,
    )


def _load(session: Session, exception_id: int) -> OpsException:
    exception = session.get(OpsException, exception_id, with_for_update=True)
    if exception is None:
        raise ExceptionNotFound(
            f"no exception {exception_id}", field="exception_id", exception_id=exception_id
        )
    return exception


def _picture(e: OpsException) -> dict[str, Any]:
    return {
        "status": e.status.value,
        "resolved_by": e.resolved_by,
        "resolution": e.resolution,
        "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
    }


def act(
    session: Session,
    exception_id: int,
    action: Act,
    *,
    by: Actor,
    now: datetime,
    note: str = "",
    message: str = "",
    service: str = "next_day",
    percent: int = 25,
    offers: OfferPolicy,
) -> ExceptionRow:
    """Take ``action`` on an open exception; it is resolved with what was done."""
    exception = _load(session, exception_id)
    if exception.status is not ExceptionStatus.OPEN:
        raise ExceptionAlreadyResolved(
            f"exception {exception_id} was resolved by {exception.resolved_by}",
            exception_id=exception_id,
        )
    block = session.get(Block, exception.block_id) if exception.block_id else None
    package = session.get(Package, exception.package_id) if exception.package_id else None
    if action not in actions_for(exception, block, package):
        raise ActionNotApplicable(
            f"'{action}' does not apply to this {exception.kind} exception now",
            field="action",
            action=action.value,
        )
    before = _picture(exception)
    note = note.strip()
    if action is Act.REOFFER:
        assert block is not None
        planned_start = block.starts_at
        reopened = held.take_back_block(
            session, block.id, actor=f"operator {by.label}", now=now, policy=offers
        )
        done = f"block {block.id} offered again {_AS_OFFERED[reopened.offer_mode]}"
        if reopened.starts_at > planned_start:
            later = int((reopened.starts_at - planned_start).total_seconds() // 60)
            done += f", {later} min later than planned"
    elif action is Act.RAISE_PAY:
        assert block is not None
        raised = boost.raise_pay(
            session, block.id, percent, actor=f"operator {by.label}", now=now, policy=offers
        )
        done = _raised_in_words(raised)
    elif action is Act.CARRIER:
        assert package is not None
        done = _send_by_carrier(session, package, service, by=by, now=now)
    elif action is Act.CONTACT_DRIVER:
        done = _contact_driver(session, exception, _message(message), now=now)
    elif action is Act.CONTACT_SHOPPER:
        assert package is not None
        done = _contact_shopper(session, package, _message(message), now=now)
    else:
        if not note:
            raise InvalidInput("say how it was resolved", field="note")
        done = "resolved"
    exception.status = ExceptionStatus.RESOLVED
    exception.resolved_at = now
    exception.resolved_by = by.label[:100]
    exception.resolution = (f"{done}: {note}" if note and done != "resolved" else note or done)[
        :500
    ]
    session.flush()
    audit.record(
        session,
        by,
        f"exceptions.{action.value}",
        "ops_exception",
        exception.id,
        at=now,
        before=before,
        after=_picture(exception),
    )
    return get_exception(session, exception.id)


#: How a re-offered block is on offer, in the resolution's words.
_AS_OFFERED = {
    OfferMode.FIRST_COME: "first come",
    OfferMode.ROUNDS: "in a new round",
    OfferMode.INSTANT: "as an instant offer",
}


def _raised_in_words(raised: boost.Raised) -> str:
    done = (
        f"block {raised.block_id}'s pay raised to ${raised.to_cents / 100:.2f} "
        f"from ${raised.from_cents / 100:.2f}"
    )
    if raised.planned_cents != raised.from_cents:
        done += f" (planned at ${raised.planned_cents / 100:.2f})"
    if raised.offered_again:
        done += f", offered again to {raised.offered_again} who had turned it down"
    return done


def _message(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("write the message to send", field="message")
    if len(text) > 600:
        raise InvalidInput("a message has at most 600 characters", field="message")
    return text


def _send_by_carrier(
    session: Session, package: Package, service_name: str, *, by: Actor, now: datetime
) -> str:
    service = CARRIER_SERVICES.get(service_name)
    if service is None:
        raise InvalidInput(
            f"no carrier service '{service_name}'; one of {', '.join(CARRIER_SERVICES)}",
            field="service",
        )
    who = f"operator {by.label}"
    if package.state is not PackageState.READY_FOR_PICKUP:
        transition_package(
            session, package, PackageState.READY_FOR_PICKUP, actor=who, reason="found", at=now
        )
    package.channel = Channel.CARRIER
    rate = service.rate(package.weight_g)
    shipment = CarrierShipment(
        package_id=package.id,
        plan_id=None,
        carrier="manual",
        service=service.name,
        rate_cents=rate,
        status=CarrierShipmentStatus.PLANNED,
        created_at=now,
    )
    session.add(shipment)
    transition_package(
        session,
        package,
        PackageState.ASSIGNED,
        actor=who,
        reason="sent_by_carrier",
        data={"channel": Channel.CARRIER.value, "where": service.name},
        at=now,
    )
    session.flush()
    return f"{package.tracking_code} sent by carrier ({service.name}, ${rate / 100:.2f})"


def _contact_driver(session: Session, exception: OpsException, text: str, *, now: datetime) -> str:
    driver = session.get(Driver, exception.driver_id)
    assert driver is not None
    channel, to = (
        (MessageChannel.EMAIL, driver.email) if driver.email else (MessageChannel.SMS, driver.phone)
    )
    notifications.send(
        session,
        channel=channel,
        to=to or "",
        template="driver_reminder",
        context={"message": text, "recipient_name": driver.name.split()[0]},
        now=now,
    )
    return f"driver {driver.name} contacted by {channel}"


def _contact_shopper(session: Session, package: Package, text: str, *, now: datetime) -> str:
    order = session.get(Order, package.order_id)
    assert order is not None
    if order.recipient_email:
        channel, to = MessageChannel.EMAIL, order.recipient_email
    elif order.recipient_phone:
        channel, to = MessageChannel.SMS, order.recipient_phone
    else:
        raise ActionNotApplicable("the order has neither an e-mail nor a phone", field="action")
    notifications.send(
        session,
        channel=channel,
        to=to,
        template="operator_note",
        context={
            "message": text,
            "tracking_code": package.tracking_code,
            "recipient_name": order.recipient_name.split()[0] if order.recipient_name else None,
        },
        now=now,
        merchant_id=order.merchant_id,
        related=Related(order_id=order.id, package_id=package.id),
    )
    return f"shopper contacted by {channel}"
