"""What a driver earned in a week: each block's pay with its adjustments and their reasons, the
hours and miles, pay per hour, and what the miles cost the driver's own car.

A week is an ISO week (``2026-W48``, Monday to Sunday) of the blocks' local dates. A block
counts once the driver has checked in (in progress, returning or completed): its pay is what
the offer said (``Block.pay_cents``), plus or minus any `PayAdjustment`. The miles are the
block's planned distance; the car's cost is those miles at
``DOORSTEP_VEHICLE_COST_CENTS_PER_MILE`` (the IRS business rate by default), so the net per
hour is what the driver keeps. The CSV statement is the same table for a spreadsheet; a text
cell that a spreadsheet would read as a formula (``= + - @``) is escaped with a quote.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import accounts
from doorstep.drivers.road_schemas import AdjustmentOut, BlockEarnings, EarningsOut
from doorstep.errors import InvalidInput
from doorstep.models import Block, BlockStatus, Driver, Node, PayAdjustment

METRES_PER_MILE = 1609.344
WORKED = (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING, BlockStatus.COMPLETED)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class InvalidWeek(InvalidInput):
    code = "invalid_week"


def parse_week(text: str) -> date:
    """The Monday of an ISO week written ``YYYY-Www``."""
    match = _WEEK.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidWeek(
            f"{text!r} is not an ISO week; write it like 2026-W48", field="week"
        ) from None


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_statement(
    session: Session,
    driver: Driver,
    week: str | None,
    *,
    now: datetime,
    cost_per_mile: float,
) -> EarningsOut:
    """The driver's blocks of ``week`` (default: this week at the home station)."""
    if week is None:
        zone = accounts.home_zone(session, driver)
        week = week_of(now.astimezone(zone).date())
    monday = parse_week(week)
    sunday = monday + timedelta(days=6)
    rows = session.execute(
        select(Block, Node)
        .join(Node, Node.id == Block.start_node_id)
        .where(
            Block.driver_id == driver.id,
            Block.status.in_(WORKED),
            # A day either side in UTC: the local week, whatever the zone.
            Block.starts_at >= datetime.combine(monday - timedelta(days=1), time(0), tzinfo=UTC),
            Block.starts_at < datetime.combine(sunday + timedelta(days=2), time(0), tzinfo=UTC),
        )
        .order_by(Block.starts_at, Block.id)
    ).all()
    worked = [
        (block, node, block.starts_at.astimezone(ZoneInfo(node.timezone)).date())
        for block, node in rows
    ]
    worked = [(b, n, d) for b, n, d in worked if monday <= d <= sunday]
    adjustments = _adjustments(session, [b.id for b, _, _ in worked])
    blocks = [
        _block(block, node.code, day, adjustments.get(block.id, []), cost_per_mile)
        for block, node, day in worked
    ]
    hours = sum(b.hours for b in blocks)
    total = sum(b.total_cents for b in blocks)
    vehicle = sum(b.vehicle_cost_cents for b in blocks)
    return EarningsOut(
        week=week_of(monday),
        starts_on=monday,
        ends_on=sunday,
        vehicle_cost_cents_per_mile=cost_per_mile,
        blocks=blocks,
        hours=round(hours, 2),
        miles=round(sum(b.miles for b in blocks), 1),
        pay_cents=sum(b.pay_cents for b in blocks),
        adjustments_cents=sum(a.amount_cents for b in blocks for a in b.adjustments),
        total_cents=total,
        vehicle_cost_cents=vehicle,
        net_cents=total - vehicle,
        pay_per_hour_cents=_per_hour(total, hours),
        net_per_hour_cents=_per_hour(total - vehicle, hours),
    )


def _adjustments(session: Session, block_ids: list[int]) -> dict[int, list[AdjustmentOut]]:
    found: dict[int, list[AdjustmentOut]] = defaultdict(list)
    if not block_ids:
        return found
    for row in session.scalars(
        select(PayAdjustment)
        .where(PayAdjustment.block_id.in_(block_ids))
        .order_by(PayAdjustment.created_at, PayAdjustment.id)
    ):
        found[row.block_id].append(
            AdjustmentOut(
                amount_cents=row.amount_cents, reason=row.reason, created_at=row.created_at
            )
        )
    return found


def _block(
    block: Block, start: str, day: date, adjustments: list[AdjustmentOut], cost_per_mile: float
) -> BlockEarnings:
    hours = (block.ends_at - block.starts_at).total_seconds() / 3600
    miles = block.estimated_distance_m / METRES_PER_MILE
    total = block.pay_cents + sum(a.amount_cents for a in adjustments)
    vehicle = round(miles * cost_per_mile)
    return BlockEarnings(
        block_id=block.id,
        date=day,
        start=start,
        starts_at=block.starts_at,
        ends_at=block.ends_at,
        status=block.status,
        hours=round(hours, 2),
        miles=round(miles, 1),
        pay_cents=block.pay_cents,
        adjustments=adjustments,
        total_cents=total,
        vehicle_cost_cents=vehicle,
        net_cents=total - vehicle,
        pay_per_hour_cents=_per_hour(total, hours),
        net_per_hour_cents=_per_hour(total - vehicle, hours),
    )


def _per_hour(cents: int, hours: float) -> int:
    return round(cents / hours) if hours > 0 else 0


CSV_COLUMNS = (
    "date",
    "block",
    "start",
    "starts_at",
    "ends_at",
    "status",
    "hours",
    "miles",
    "pay",
    "adjustments",
    "adjustment_reasons",
    "total",
    "vehicle_cost",
    "net",
    "pay_per_hour",
    "net_per_hour",
)


def statement_csv(statement: EarningsOut) -> str:
    """The week as CSV, one row per block and a total row; amounts in dollars."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for b in statement.blocks:
        writer.writerow(
            _cells(
                b.date.isoformat(),
                b.block_id,
                b.start,
                b.starts_at.isoformat(),
                b.ends_at.isoformat(),
                b.status.value,
                b.hours,
                b.miles,
                _dollars(b.pay_cents),
                _dollars(sum(a.amount_cents for a in b.adjustments)),
                "; ".join(f"{_dollars(a.amount_cents)} {a.reason}" for a in b.adjustments),
                _dollars(b.total_cents),
                _dollars(b.vehicle_cost_cents),
                _dollars(b.net_cents),
                _dollars(b.pay_per_hour_cents),
                _dollars(b.net_per_hour_cents),
            )
        )
    s = statement
    writer.writerow(
        _cells(
            f"week {s.week}",
            len(s.blocks),
            "",
            "",
            "",
            "",
            s.hours,
            s.miles,
            _dollars(s.pay_cents),
            _dollars(s.adjustments_cents),
            "",
            _dollars(s.total_cents),
            _dollars(s.vehicle_cost_cents),
            _dollars(s.net_cents),
            _dollars(s.pay_per_hour_cents),
            _dollars(s.net_per_hour_cents),
        )
    )
    return buffer.getvalue()


def _dollars(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _cells(*values: object) -> list[object]:
    """Text a spreadsheet would run as a formula starts with a quote; numbers stay numbers."""
    return [
        f"'{value}"
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        else value
        for value in values
    ]
