"""A store's pay statement for a period: each parcel its staff delivered or handed over at the
counter, with the pay it earned (the pay per package in force then, kept on the parcel's
event), as a page and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.road.load import local_zone
from doorstep.errors import InvalidInput
from doorstep.models import Node, Package, PackageEvent
from doorstep.orders.lifecycle import PackageState
from doorstep.partners.accounts import store_actor_prefix
from doorstep.partners.schemas import StatementLine, StatementOut

MAX_DAYS = 366
WHAT = {PackageState.DELIVERED: "delivered", PackageState.PICKED_UP_AT_COUNTER: "handed_over"}


class PeriodInvalid(InvalidInput):
    code = "statement_period_invalid"


def statement(session: Session, node: Node, start: date, end: date) -> StatementOut:
    if end < start or (end - start).days >= MAX_DAYS:
        raise PeriodInvalid(
            f"a statement covers 1 to {MAX_DAYS} days, start before end", field="end"
        )
    zone = local_zone(node)
    since = datetime.combine(start, time(0), zone)
    until = datetime.combine(end + timedelta(days=1), time(0), zone)
    rows = session.execute(
        select(PackageEvent, Package.tracking_code)
        .join(Package, Package.id == PackageEvent.package_id)
        .where(
            PackageEvent.to_state.in_(list(WHAT)),
            PackageEvent.actor.startswith(store_actor_prefix(node.id), autoescape=True),
            PackageEvent.occurred_at >= since,
            PackageEvent.occurred_at < until,
        )
        .order_by(PackageEvent.occurred_at, PackageEvent.id)
    )
    lines = [
        StatementLine(
            day=event.occurred_at.astimezone(zone).date(),
            at=event.occurred_at,
            code=code,
            what=WHAT[event.to_state],
            pay_cents=int((event.data or {}).get("pay_cents", 0)),
        )
        for event, code in rows
    ]
    return StatementOut(
        store=node.code,
        start=start,
        end=end,
        lines=lines,
        delivered=sum(1 for line in lines if line.what == "delivered"),
        handed_over=sum(1 for line in lines if line.what == "handed_over"),
        total_cents=sum(line.pay_cents for line in lines),
    )


def as_csv(out: StatementOut) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["day", "time_utc", "parcel", "what", "pay"])
    for line in out.lines:
        writer.writerow(
            [
                line.day.isoformat(),
                line.at.isoformat(timespec="seconds"),
                line.code,
                line.what,
                f"{line.pay_cents / 100:.2f}",
            ]
        )
    writer.writerow(["total", "", f"{len(out.lines)} parcels", "", f"{out.total_cents / 100:.2f}"])
    return buffer.getvalue()
