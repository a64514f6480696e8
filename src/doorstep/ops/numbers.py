"""The day's numbers, computed from the tables the network writes as it runs.

A package belongs to the day of its ``service_date`` (set when a plan takes it), else to the
local day of its promise; a block to the local day it starts; an order to the local day it was
placed. Days are the network's local days (its time zone). Each figure, exactly:

- **packages**: packages of the day; **delivered**: of those, with a ``delivered`` or
  ``picked_up_at_counter`` event (the first one's time is the delivery time).
- **on-time rate**: delivered packages of the day delivered at or before their ``promised_by``,
  over delivered packages of the day (None when none was delivered).
- **same-day promises given / kept**: packages of same-day orders placed that day; kept: those
  delivered at or before their ``promised_by``.
- **cost per package by channel** (cents):
  station route and store pickup: the pay of the day's blocks that a driver took (not
  cancelled, not still open), over the packages on those blocks, split by where the block
  starts (a station: station route; a mall or store: store pickup);
  partner store: the store's pay per package, averaged over the day's partner-store packages;
  carrier: each carrier shipment's label price when bought, else the planned rate, averaged
  over the day's packages that have one.
- **drivers' utilisation**: over the day's blocks that were worked (checked in), the time from
  check-in to completion (or to now, or to the block's end, whichever is first, for a block
  still running) over the blocks' paid hours.
- **driver miles**: the planned distance of the day's blocks a driver took, in miles.
- **carrier share**: packages of the day whose channel is carrier, over packages of the day
  with a channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from doorstep.errors import InvalidInput
from doorstep.models import (
    Block,
    BlockStatus,
    CarrierShipment,
    Channel,
    DeliverySpeed,
    Node,
    NodeKind,
    Order,
    Package,
    PackageEvent,
    PartnerStore,
)
from doorstep.orders.lifecycle import PackageState

MILE_M = 1609.344
MAX_DAYS = 92
_DELIVERED = (PackageState.DELIVERED, PackageState.PICKED_UP_AT_COUNTER)
_WORKED = (
    BlockStatus.ACCEPTED,
    BlockStatus.IN_PROGRESS,
    BlockStatus.RETURNING,
    BlockStatus.COMPLETED,
)


@dataclass
class DayNumbers:
    day: date
    packages: int = 0
    delivered: int = 0
    delivered_on_time: int = 0
    on_time_rate: float | None = None
    same_day_given: int = 0
    same_day_kept: int = 0
    cost_per_package_cents: dict[str, int | None] = field(default_factory=dict)
    driver_utilisation: float | None = None
    driver_miles: float = 0.0
    carrier_share: float | None = None
    blocks_worked: int = 0


CSV_COLUMNS = (
    "day",
    "packages",
    "delivered",
    "delivered_on_time",
    "on_time_rate",
    "same_day_given",
    "same_day_kept",
    *(f"cost_per_package_cents_{c.value}" for c in Channel),
    "driver_utilisation",
    "driver_miles",
    "carrier_share",
    "blocks_worked",
)


def day_range(start: date, end: date) -> list[date]:
    if end < start:
        raise InvalidInput("'to' is before 'from'", field="to")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at once", field="to", days=days)
    return [start + timedelta(days=i) for i in range(days)]


def compute(
    session: Session, start: date, end: date, *, zone: ZoneInfo, now: datetime
) -> list[DayNumbers]:
    days = day_range(start, end)
    by_day = {d: DayNumbers(d) for d in days}
    lo = datetime.combine(start, time(), zone)
    hi = datetime.combine(end + timedelta(days=1), time(), zone)
    _packages(session, by_day, lo, hi, zone)
    _blocks(session, by_day, lo, hi, zone, now)
    for numbers in by_day.values():
        if numbers.delivered:
            numbers.on_time_rate = round(numbers.delivered_on_time / numbers.delivered, 4)
    return [by_day[d] for d in days]


def _packages(
    session: Session, by_day: dict[date, DayNumbers], lo: datetime, hi: datetime, zone: ZoneInfo
) -> None:
    first, last = min(by_day), max(by_day)
    delivered_at = (
        select(PackageEvent.package_id, func.min(PackageEvent.occurred_at).label("at"))
        .where(PackageEvent.to_state.in_(_DELIVERED))
        .group_by(PackageEvent.package_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Package.id,
            Package.service_date,
            Package.promised_by,
            Package.channel,
            Order.speed,
            Order.created_at,
            delivered_at.c.at,
            PartnerStore.pay_per_package_cents,
            func.coalesce(CarrierShipment.label_cents, CarrierShipment.rate_cents),
        )
        .join(Order, Order.id == Package.order_id)
        .outerjoin(delivered_at, delivered_at.c.package_id == Package.id)
        .outerjoin(
            PartnerStore,
            and_(
                PartnerStore.node_id == Package.serving_node_id,
                Package.channel == Channel.PARTNER_STORE,
            ),
        )
        .outerjoin(CarrierShipment, CarrierShipment.package_id == Package.id)
        .where(
            or_(
                Package.service_date.between(first, last),
                and_(
                    Package.service_date.is_(None),
                    Package.promised_by >= lo - timedelta(days=1),
                    Package.promised_by < hi + timedelta(days=1),
                ),
                and_(Order.created_at >= lo, Order.created_at < hi),
            )
        )
    ).all()
    costs: dict[date, dict[Channel, list[int]]] = defaultdict(lambda: defaultdict(list))
    channelled: dict[date, int] = defaultdict(int)
    carrier: dict[date, int] = defaultdict(int)
    seen: set[int] = set()
    for pid, service_date, promised, channel, speed, placed, done, partner_pay, ship in rows:
        if pid in seen:  # a package with two carrier shipments counts once
            continue
        seen.add(pid)
        day = service_date or promised.astimezone(zone).date()
        kept = done is not None and done <= promised
        placed_day = placed.astimezone(zone).date()
        if speed is DeliverySpeed.SAME_DAY and placed_day in by_day:
            by_day[placed_day].same_day_given += 1
            by_day[placed_day].same_day_kept += kept
        if day not in by_day:
            continue
        numbers = by_day[day]
        numbers.packages += 1
        if done is not None:
            numbers.delivered += 1
            numbers.delivered_on_time += kept
        if channel is not None:
            channelled[day] += 1
            carrier[day] += channel is Channel.CARRIER
        if channel is Channel.PARTNER_STORE and partner_pay is not None:
            costs[day][channel].append(partner_pay)
        if channel is Channel.CARRIER and ship is not None:
            costs[day][channel].append(ship)
    for day, numbers in by_day.items():
        for channel in (Channel.PARTNER_STORE, Channel.CARRIER):
            paid = costs[day][channel]
            numbers.cost_per_package_cents[channel.value] = (
                round(sum(paid) / len(paid)) if paid else None
            )
        if channelled[day]:
            numbers.carrier_share = round(carrier[day] / channelled[day], 4)


def _blocks(
    session: Session,
    by_day: dict[date, DayNumbers],
    lo: datetime,
    hi: datetime,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    rows = session.execute(
        select(Block, Node.kind)
        .join(Node, Node.id == Block.start_node_id)
        .where(Block.starts_at >= lo, Block.starts_at < hi, Block.status.in_(_WORKED))
    ).all()
    pay: dict[tuple[date, Channel], list[int]] = defaultdict(lambda: [0, 0])
    worked_s: dict[date, float] = defaultdict(float)
    paid_s: dict[date, float] = defaultdict(float)
    for block, kind in rows:
        day = block.starts_at.astimezone(zone).date()
        numbers = by_day[day]
        channel = Channel.STATION_ROUTE if kind is NodeKind.STATION else Channel.STORE_PICKUP
        pay[(day, channel)][0] += block.pay_cents
        pay[(day, channel)][1] += block.package_count
        numbers.driver_miles += block.estimated_distance_m / MILE_M
        if block.checked_in_at is not None:
            numbers.blocks_worked += 1
            until = block.completed_at or min(now, block.ends_at)
            worked_s[day] += max(0.0, (until - block.checked_in_at).total_seconds())
            paid_s[day] += (block.ends_at - block.starts_at).total_seconds()
    for day, numbers in by_day.items():
        numbers.driver_miles = round(numbers.driver_miles, 1)
        for channel in (Channel.STATION_ROUTE, Channel.STORE_PICKUP):
            cents, packages = pay[(day, channel)]
            numbers.cost_per_package_cents[channel.value] = (
                round(cents / packages) if packages else None
            )
        if paid_s[day]:
            numbers.driver_utilisation = round(worked_s[day] / paid_s[day], 4)


def csv_lines(rows: list[DayNumbers]) -> Iterator[str]:
    yield ",".join(CSV_COLUMNS) + "\r\n"
    for numbers in rows:
        flat = asdict(numbers)
        costs = flat.pop("cost_per_package_cents")
        flat.update({f"cost_per_package_cents_{k}": v for k, v in costs.items()})
        yield ",".join("" if flat[c] is None else str(flat[c]) for c in CSV_COLUMNS) + "\r\n"
