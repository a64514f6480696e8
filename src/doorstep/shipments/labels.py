"""Buying carrier labels for a day's planned carrier shipments.

For every carrier shipment of the service date still ``planned``, build the carrier's request
(the sender is the site the carrier collects the parcel from, the recipient the order's
structured address, the parcel the package's size and weight), ask for rates, buy the
cheapest label that keeps the planned service's transit days, write its PDF to
``<data dir>/labels/<tracking number>.pdf`` and record it on the shipment.

A bought label costs money and no rollback takes it back, so no transaction stays open while
the carrier answers. Each shipment goes through three steps:

1. **claim** it, ``planned`` → ``labelling``, with a conditional UPDATE (two runs never buy
   for the same shipment, and a re-plan no longer releases it), committed;
2. ask the carrier for rates and the label, and write the PDF;
3. **record** the tracking number, price and file, ``labelling`` → ``labelled``, committed.
   When the carrier refuses, nothing was bought: the shipment goes back to ``planned``.

A run that dies between 1 and 3 leaves the shipment in ``labelling``: later runs report it,
with the reference to look up in the carrier's account, instead of silently buying a second
label; ``retry_interrupted`` asks again once someone has checked. Labelled shipments are
skipped, so running again buys nothing twice. The package stays ``assigned``: it becomes
``handed_to_carrier`` when the carrier takes it, not when its label is printed.

What cannot be labelled (an order without city, state and postal code, a carrier's refusal,
a package cancelled since the plan) is reported with its reason and left as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from doorstep.carriers import (
    Address,
    Carrier,
    CarrierMessage,
    Label,
    Parcel,
    Rate,
    ServiceLevel,
    ShipmentRequest,
)
from doorstep.db import unit_of_work
from doorstep.models import (
    CarrierShipment,
    CarrierShipmentStatus,
    Node,
    NodeKind,
    Order,
    Package,
    Plan,
    utcnow,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.core import default_carrier_services
from doorstep.planning.loading import SITE_KINDS

log = structlog.get_logger(__name__)

LABELS_DIR = "labels"  # below the data directory
# The planner's carrier services, as the service level a carrier is asked for.
SERVICE_LEVELS = {
    "ground": ServiceLevel.GROUND,
    "next_day": ServiceLevel.NEXT_DAY,
    "same_day_courier": ServiceLevel.SAME_DAY,
}
TRANSIT_DAYS = {service.name: service.transit_days for service in default_carrier_services()}
# A claim younger than this may belong to a run still waiting for its carrier: never retried.
INTERRUPTED_AFTER = timedelta(minutes=5)
S = CarrierShipmentStatus

# "2600 S Price Rd, Chandler, AZ 85286" (a node's address is one line of text).
_ONE_LINE_US = re.compile(
    r"^(?P<street>.+?),\s*(?P<city>[^,]+?),\s*(?P<state>[A-Za-z]{2})\s+"
    r"(?P<postal>\d{5}(?:-\d{4})?)(?:,\s*(?:USA?|United States))?$"
)


class LabelStatus(StrEnum):
    BOUGHT = "bought"  # by this run
    ALREADY_LABELLED = "already_labelled"  # by an earlier run: nothing bought again
    SKIPPED = "skipped"  # no label; ``reason`` says why


class SkipReason(StrEnum):
    ADDRESS_INCOMPLETE = "address_incomplete"  # the order has no city, state or postal code
    SENDER_UNKNOWN = "sender_unknown"  # the sending site has no address a label can use
    PACKAGE_NOT_ASSIGNED = "package_not_assigned"  # cancelled (or moved on) since the plan
    UNKNOWN_SERVICE = "unknown_service"  # a planned service we cannot ask a carrier for
    NO_RATE = "no_rate"  # the carrier quoted nothing that keeps the promise
    LABEL_REFUSED = "label_refused"  # the carrier would not sell the label
    INTERRUPTED = "interrupted"  # an earlier run asked for a label and recorded no answer
    CHANGED_MEANWHILE = "changed_meanwhile"  # re-planned or claimed by another run meanwhile


@dataclass(frozen=True)
class LabelOutcome:
    package: str  # tracking code
    status: LabelStatus
    carrier: str
    service: str  # the carrier's service code once bought, else the planned service
    rate_cents: int | None = None  # what the label cost
    currency: str | None = None
    tracking_number: str | None = None
    label_file: Path | None = None
    reason: SkipReason | None = None
    detail: str | None = None  # for people; carrier messages included

    @classmethod
    def skipped(
        cls, package: str, carrier: str, service: str, reason: SkipReason, detail: str
    ) -> LabelOutcome:
        return cls(package, LabelStatus.SKIPPED, carrier, service, reason=reason, detail=detail)


@dataclass(frozen=True)
class LabelRun:
    service_date: date
    outcomes: tuple[LabelOutcome, ...]

    def count(self, status: LabelStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status is status)


@dataclass(frozen=True)
class _Job:
    """A shipment to label: the request, and what to write back."""

    shipment_id: int
    package: str
    planned_service: str
    request: ShipmentRequest
    transit_days: int


def buy_labels(
    sessions: sessionmaker[Session],
    service_date: date,
    carrier: Carrier,
    data_dir: Path,
    *,
    retry_interrupted: bool = False,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> LabelRun:
    """Label every planned carrier shipment of ``service_date``; report every shipment.

    Opens its own short transactions (see the module's docstring), so pass a session factory,
    not a session. ``progress(done, total)`` is called before the first and after each
    shipment the carrier is asked about.
    """
    with unit_of_work(sessions) as session:
        shipments = list(
            session.execute(
                select(CarrierShipment, Package.tracking_code)
                .join(Package, Package.id == CarrierShipment.package_id)
                .where(Package.service_date == service_date)
                .order_by(CarrierShipment.id)
            ).all()
        )
    stale_before = clock() - INTERRUPTED_AFTER
    outcomes: list[LabelOutcome] = []
    todo: list[int] = []
    for shipment, code in shipments:
        if shipment.status in (S.LABELLED, S.HANDED_OVER):
            outcomes.append(_from_row(shipment, code, data_dir, LabelStatus.ALREADY_LABELLED))
        elif shipment.status is S.LABELLING and not (
            retry_interrupted and _claimed_before(shipment, stale_before)
        ):
            outcomes.append(_interrupted(shipment, code))
        else:
            todo.append(shipment.id)
    for done, shipment_id in enumerate(todo):
        if progress:
            progress(done, len(todo))
        outcomes.append(
            _label_one(sessions, shipment_id, carrier, data_dir, retry_interrupted, clock)
        )
    if progress:
        progress(len(todo), len(todo))
    return LabelRun(service_date, tuple(sorted(outcomes, key=lambda o: o.package)))


def _label_one(
    sessions: sessionmaker[Session],
    shipment_id: int,
    carrier: Carrier,
    data_dir: Path,
    retry_interrupted: bool,
    clock: Callable[[], datetime],
) -> LabelOutcome:
    claimed_at = clock()
    with unit_of_work(sessions) as session:
        job = _job(session, shipment_id)
        if isinstance(job, LabelOutcome):
            return job
        if not _claim(session, shipment_id, claimed_at, retry_interrupted):
            return _skipped(
                job, carrier, SkipReason.CHANGED_MEANWHILE, "re-planned or taken by another run"
            )
    try:
        quote = carrier.rates(job.request)
    except BaseException:
        _release(sessions, shipment_id)  # nothing was bought
        raise
    rate = _in_time(quote.rates, job.transit_days)
    if rate is None:
        _release(sessions, shipment_id)
        slower = "" if not quote.rates else f"every rate takes more than {job.transit_days} days"
        return _skipped(job, carrier, SkipReason.NO_RATE, _explain(quote.messages, slower))
    # An exception from here on leaves the claim: the carrier may have sold the label.
    bought = carrier.buy_label(job.request, rate)
    if bought.label is None:
        _release(sessions, shipment_id)
        return _skipped(job, carrier, SkipReason.LABEL_REFUSED, _explain(bought.messages, ""))
    label = bought.label
    # Logged before anything else can fail, so the label can always be found again.
    log.info(
        "carrier_label_bought",
        package=job.package,
        carrier=label.carrier,
        tracking_number=label.tracking_number,
    )
    relative = _write_pdf(data_dir, label)
    with unit_of_work(sessions) as session:
        recorded = session.execute(
            update(CarrierShipment)
            .where(
                CarrierShipment.id == shipment_id,
                CarrierShipment.status == S.LABELLING,
                CarrierShipment.label_requested_at == claimed_at,
            )
            .values(
                status=S.LABELLED,
                carrier=label.carrier,
                tracking_number=label.tracking_number,
                label_service=label.rate.service,
                label_cents=label.rate.amount_cents,
                label_currency=label.rate.currency,
                label_path=relative,
                labelled_at=clock(),
            )
            .execution_options(synchronize_session=False)
        )
        if recorded.rowcount == 1:  # type: ignore[attr-defined]
            row = session.get_one(CarrierShipment, shipment_id)
            return _from_row(row, job.package, data_dir, LabelStatus.BOUGHT)
    log.error("carrier_label_not_recorded", package=job.package, label=label.tracking_number)
    return _skipped(
        job,
        carrier,
        SkipReason.CHANGED_MEANWHILE,
        f"label {label.tracking_number} was bought, but another run took the shipment "
        "over meanwhile: void one of its labels with the carrier",
    )


def _job(session: Session, shipment_id: int) -> _Job | LabelOutcome:
    """The carrier request for a shipment, or the outcome that says why there is none."""
    shipment = session.get_one(CarrierShipment, shipment_id)
    package = session.get_one(Package, shipment.package_id)
    order = session.get_one(Order, package.order_id)

    def skip(reason: SkipReason, detail: str) -> LabelOutcome:
        code = package.tracking_code
        return LabelOutcome.skipped(code, shipment.carrier, shipment.service, reason, detail)

    if package.state is not PackageState.ASSIGNED:
        return skip(SkipReason.PACKAGE_NOT_ASSIGNED, f"the package is {package.state.value}")
    level = SERVICE_LEVELS.get(shipment.service)
    if level is None:
        return skip(SkipReason.UNKNOWN_SERVICE, f"no service level for '{shipment.service}'")
    if not order.has_structured_address:
        missing = ", ".join(
            name
            for name, value in (
                ("city", order.dest_city),
                ("state", order.dest_state),
                ("postal code", order.dest_postal_code),
            )
            if not value
        )
        return skip(SkipReason.ADDRESS_INCOMPLETE, f"order {order.public_id} has no {missing}")
    sender = _sender(session, shipment, package)
    if isinstance(sender, str):
        return skip(SkipReason.SENDER_UNKNOWN, sender)
    assert order.dest_city and order.dest_state and order.dest_postal_code
    recipient = Address(
        name=order.recipient_name,
        street_lines=tuple(line for line in (order.dest_address, order.dest_address_line2) if line),
        city=order.dest_city,
        state=order.dest_state,
        postal_code=order.dest_postal_code,
        country=order.dest_country,
        phone=order.recipient_phone,
    )
    request = ShipmentRequest(
        reference=package.tracking_code,
        ship_from=sender,
        ship_to=recipient,
        parcel=Parcel(package.weight_g, package.length_mm, package.width_mm, package.height_mm),
        service_level=level,
    )
    days = TRANSIT_DAYS.get(shipment.service, 0)
    return _Job(shipment.id, package.tracking_code, shipment.service, request, days)


def _sender(session: Session, shipment: CarrierShipment, package: Package) -> Address | str:
    """Where the carrier collects the parcel, as the planner has it: the store, mall or
    station it leaves from; warehouse stock from the planning station (the morning line haul
    brings it there). A string says why there is no usable address."""
    site = session.get_one(Node, package.origin_node_id)
    if site.kind not in SITE_KINDS:
        plan = session.get(Plan, shipment.plan_id) if shipment.plan_id is not None else None
        station_id = plan.station_id if plan is not None else package.serving_node_id
        station = session.get(Node, station_id) if station_id is not None else None
        if station is None or station.kind is not NodeKind.STATION:
            return f"no station collects {site.code}'s stock for this shipment"
        site = station
    text = site.address
    if not text and site.parent_id is not None:  # a mall store: the mall's address
        parent = session.get(Node, site.parent_id)
        text = parent.address if parent is not None else None
    parsed = _ONE_LINE_US.match(text or "")
    if parsed is None:
        return f"{site.code}'s address {text!r} is not 'street, city, ST 12345'"
    return Address(
        name=site.name,
        street_lines=tuple(line.strip() for line in parsed["street"].split(",")),
        city=parsed["city"],
        state=parsed["state"].upper(),
        postal_code=parsed["postal"],
    )


def _claim(session: Session, shipment_id: int, at: datetime, retry_interrupted: bool) -> bool:
    claimable = CarrierShipment.status == S.PLANNED
    if retry_interrupted:
        stale = and_(
            CarrierShipment.status == S.LABELLING,
            CarrierShipment.label_requested_at < at - INTERRUPTED_AFTER,
        )
        claimable = or_(claimable, stale)
    result = session.execute(
        update(CarrierShipment)
        .where(CarrierShipment.id == shipment_id, claimable)
        .values(status=S.LABELLING, label_requested_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _release(sessions: sessionmaker[Session], shipment_id: int) -> None:
    """Back to planned: the carrier sold nothing."""
    with unit_of_work(sessions) as session:
        session.execute(
            update(CarrierShipment)
            .where(CarrierShipment.id == shipment_id, CarrierShipment.status == S.LABELLING)
            .values(status=S.PLANNED, label_requested_at=None)
            .execution_options(synchronize_session=False)
        )


def _in_time(rates: tuple[Rate, ...], days: int) -> Rate | None:
    """The cheapest rate that keeps the promise (a rate without an estimate is trusted)."""
    fast = [r for r in rates if r.estimated_days is None or r.estimated_days <= days]
    return min(fast, key=lambda r: r.amount_cents, default=None)


def _write_pdf(data_dir: Path, label: Label) -> str:
    """Write the label where a crash leaves a whole file or none; the path from data_dir."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", label.tracking_number)
    relative = f"{LABELS_DIR}/{name}.pdf"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.part")
    with partial.open("wb") as file:
        file.write(label.pdf)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, target)
    return relative


def _explain(messages: tuple[CarrierMessage, ...], fallback: str) -> str:
    said = "; ".join(f"{m.carrier} {m.code}: {m.text}" for m in messages)
    return said or fallback or "the carrier gave no reason"


def _skipped(job: _Job, carrier: Carrier, reason: SkipReason, detail: str) -> LabelOutcome:
    return LabelOutcome.skipped(job.package, carrier.name, job.planned_service, reason, detail)


def _claimed_before(shipment: CarrierShipment, moment: datetime) -> bool:
    return shipment.label_requested_at is not None and shipment.label_requested_at < moment


def _from_row(
    shipment: CarrierShipment, code: str, data_dir: Path, status: LabelStatus
) -> LabelOutcome:
    """A labelled shipment as the database has it."""
    return LabelOutcome(
        package=code,
        status=status,
        carrier=shipment.carrier,
        service=shipment.label_service or shipment.service,
        rate_cents=shipment.label_cents,
        currency=shipment.label_currency,
        tracking_number=shipment.tracking_number,
        label_file=data_dir / shipment.label_path if shipment.label_path else None,
    )


def _interrupted(shipment: CarrierShipment, code: str) -> LabelOutcome:
    asked = shipment.label_requested_at
    when = f"at {asked:%Y-%m-%d %H:%M} UTC " if asked else ""
    return LabelOutcome.skipped(
        code,
        shipment.carrier,
        shipment.service,
        SkipReason.INTERRUPTED,
        f"a run asked the carrier for a label {when}and recorded no answer (still "
        f"running, or interrupted): look for reference {code} in the carrier's account, "
        "then run again with --retry-interrupted",
    )
