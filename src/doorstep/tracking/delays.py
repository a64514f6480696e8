"""Promises that slip: a package still on its way after the time it was promised for is
delayed, with the day it is now expected. It is written once per new date
(``package_delays``), with a ``package.delayed`` outbox event: the merchant hears it by webhook,
the shopper by the milestone message, and the tracking page shows it. Not a state change: the
parcel is where it was, only later.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session

from doorstep.jobs import Registry
from doorstep.models import CounterParcel, Node, Order, OutboxEvent, Package, PackageDelay
from doorstep.orders.lifecycle import TERMINAL_STATES, PackageState
from doorstep.tracking import wording

PERIODIC_NAME = "tracking.delays"
EVERY = timedelta(minutes=5)
# Still coming today: out with a driver, the van to the store, or at a partner store whose
# staff route has it (an earlier day's door stays on today's route until it is done).
ON_THE_WAY = frozenset(
    {PackageState.PICKED_UP, PackageState.OUT_FOR_DELIVERY, PackageState.AT_PARTNER_STORE}
)
# With a carrier whose own tracking speaks for it. (A parcel held at a counter waits for its
# shopper, who was told where: not delayed either, see `find_slipped`.)
NOT_OURS = frozenset({PackageState.HANDED_TO_CARRIER})


def mark_delayed(
    session: Session, package: Package, new_date: date, *, reason: str | None, now: datetime
) -> PackageDelay | None:
    """Record that ``package`` is now expected on ``new_date``; None when that date is
    already the one recorded."""
    latest = session.scalars(
        select(PackageDelay)
        .where(PackageDelay.package_id == package.id)
        .order_by(PackageDelay.id.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.new_date == new_date:
        return None
    delay = PackageDelay(package_id=package.id, new_date=new_date, reason=reason, created_at=now)
    session.add(delay)
    order = session.get_one(Order, package.order_id)
    session.execute(
        insert(OutboxEvent),
        [
            {
                "event_type": "package.delayed",
                "aggregate_type": "package",
                "aggregate_id": package.id,
                "merchant_id": order.merchant_id,
                "ordering_key": f"order:{order.id}",
                "payload": {
                    "package": {
                        "tracking_code": package.tracking_code,
                        "order_id": order.public_id,
                        "state": package.state.value,
                        "promised_by": package.promised_by.isoformat(),
                    },
                    "reason": reason,
                    "data": {
                        "new_date": new_date.isoformat(),
                        "new_date_text": wording.day_text(new_date),
                        "reason": reason,
                    },
                    "occurred_at": now.isoformat(),
                },
                "created_at": now,
            }
        ],
    )
    session.flush()
    return delay


def find_slipped(session: Session, now: datetime, *, batch: int = 500) -> int:
    """Mark the packages whose promise has passed and that are still on their way: expected
    later today when a driver has them, else the next day. Returns how many were marked."""
    latest = (
        select(PackageDelay.package_id, func.max(PackageDelay.new_date).label("new_date"))
        .group_by(PackageDelay.package_id)
        .subquery()
    )
    rows = session.execute(
        select(Package, Node.timezone, latest.c.new_date)
        .join(Node, Node.id == func.coalesce(Package.serving_node_id, Package.origin_node_id))
        .outerjoin(latest, latest.c.package_id == Package.id)
        .where(
            Package.promised_by < now,
            Package.state.not_in(TERMINAL_STATES | NOT_OURS),
            ~exists().where(CounterParcel.package_id == Package.id),
            # Time zones aside (checked below): no date yet, or one that has passed.
            or_(latest.c.new_date.is_(None), latest.c.new_date <= now.date()),
        )
        .order_by(Package.id)
        .limit(batch)
    ).all()
    marked = 0
    for package, timezone, expected in rows:
        today = now.astimezone(wording.zone(timezone)).date()
        if expected is not None and expected >= today:
            continue  # the new date has not passed yet
        new_date = today if package.state in ON_THE_WAY else today + timedelta(days=1)
        if mark_delayed(session, package, new_date, reason=None, now=now) is not None:
            marked += 1
    return marked


def register(registry: Registry) -> None:
    registry.every(PERIODIC_NAME, EVERY, find_slipped)
