"""The run back to the station for parcels not collected at a counter, until that run's
service lands.

Everything else at the partner stores goes through their services (`doorstep.partners`: the
drop and scan-in, the staff route, the counter's hold and hand-over, the overdue job). The
overdue job leaves an uncollected parcel at the store on the list for the next run back
(`BackToStation`); nothing on this branch drives that run yet, so the twin plays it here: the
run collects the parcel and the station sends it back to the merchant, each move through the
one state machine with its event. When the back-to-station run's service lands, this becomes
a call to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import BackToStation, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package

S = PackageState
#: Who drives the runs between the station and the stores, in events.
MIDDLE_MILE = "middle_mile"


def back_to_merchant(session: Session, store: str, package: Package, now: datetime) -> None:
    """The run back collects the parcel at ``store``; the station returns it to the merchant."""
    listed = session.scalar(select(BackToStation).where(BackToStation.package_id == package.id))
    if listed is not None and listed.collected_at is None:
        listed.collected_at = now
    data = {"store": store}
    transition_package(
        session, package, S.RETURNED, actor=MIDDLE_MILE, reason="not_collected", data=data, at=now
    )
    transition_package(
        session,
        package,
        S.RETURNED_TO_MERCHANT,
        actor=MIDDLE_MILE,
        reason="not_collected",
        data=data,
        at=now,
    )
