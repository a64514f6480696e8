"""What the operator's console frame shows: the stored plans and the day's counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import Block, BlockStatus, ExceptionStatus, Node, OpsException, Plan
from doorstep.network import repository as network


@dataclass(frozen=True)
class PlanRow:
    id: int
    station: str
    date: date
    status: str
    created_at: datetime
    packages: int
    cost_per_package_cents: int | None


def recent_plans(session: Session, limit: int = 30) -> list[PlanRow]:
    rows = session.execute(
        select(Plan, Node.code)
        .join(Node, Node.id == Plan.station_id)
        .order_by(Plan.service_date.desc(), Plan.id.desc())
        .limit(limit)
    ).all()
    return [
        PlanRow(
            plan.id,
            code,
            plan.service_date,
            plan.status.value,
            plan.created_at,
            int(plan.totals.get("packages", 0)),
            plan.totals.get("cost_per_package_cents"),
        )
        for plan, code in rows
    ]


def open_exceptions(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count(OpsException.id)).where(OpsException.status == ExceptionStatus.OPEN)
        )
        or 0
    )


def blocks_by_status(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """The blocks starting in [start, end) by status."""
    rows = session.execute(
        select(Block.status, func.count(Block.id))
        .where(Block.starts_at >= start, Block.starts_at < end)
        .group_by(Block.status)
    ).all()
    counts = {s.value: 0 for s in BlockStatus}
    counts.update({status.value: n for status, n in rows})
    return counts


def network_zone(session: Session) -> ZoneInfo:
    """The network's time zone (its days are local days)."""
    return ZoneInfo(network.timezone_of(session, []) or "UTC")


def local_day(session: Session, now: datetime) -> date:
    return now.astimezone(network_zone(session)).date()
