"""Exceptions their parcel has settled: resolved by the system once the parcel is in the
shopper's hands, so that the open list keeps to what still needs a person.

A late or long stop, a failed door, a parcel missing at pickup or at a store's scan-in, a
carrier parcel without news: each asks an operator to look at a parcel that may not arrive.
Once the parcel is delivered (at a door, a counter or by the carrier) or collected at the
counter, there is nothing left to act on; the exception stays in the list of resolved ones
with its resolution ("settled: the parcel was delivered"), by ``system``.

An exception about how a parcel arrived (delivered far from the address, damaged at
scan-in) or about something else than the parcel (a PIN locked, a late return, a block) is
not settled by a delivery, and stays open for its operator.

The worker's periodic job ``ops.settle`` runs it every minute, after the checks
(`ops.detectors`); the twin's tick runs it too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, update
from sqlalchemy.orm import Session

from doorstep.jobs import Registry
from doorstep.models import ExceptionKind, ExceptionStatus, OpsException, Package
from doorstep.orders.lifecycle import PackageState

PERIODIC_NAME = "ops.settle"
EVERY = timedelta(minutes=1)
SYSTEM = "system"

#: The kinds of exception a parcel in the shopper's hands settles.
SETTLED_BY_ARRIVAL = frozenset(
    {
        ExceptionKind.LATE_STOP,
        ExceptionKind.LONG_STOP,
        ExceptionKind.FAILED_DELIVERY,
        ExceptionKind.MISSING_AT_PICKUP,
        ExceptionKind.MISSING_AT_SCAN_IN,
        ExceptionKind.CARRIER_SILENT,
    }
)
#: The parcel's states that settle them, and the resolution each writes.
ARRIVED = {
    PackageState.DELIVERED: "settled: the parcel was delivered",
    PackageState.PICKED_UP_AT_COUNTER: "settled: the shopper collected the parcel at the counter",
}


def settle(session: Session, now: datetime) -> int:
    """Resolve the open exceptions whose parcel has arrived (see the module); how many."""
    resolved = 0
    for state, resolution in ARRIVED.items():
        changed = session.execute(
            update(OpsException)
            .where(
                OpsException.status == ExceptionStatus.OPEN,
                OpsException.kind.in_(SETTLED_BY_ARRIVAL),
                # Per open exception (a few): its parcel's row by key, not every parcel ever
                # delivered.
                exists().where(Package.id == OpsException.package_id, Package.state == state),
            )
            .values(
                status=ExceptionStatus.RESOLVED,
                resolved_at=now,
                resolved_by=SYSTEM,
                resolution=resolution,
            )
            .execution_options(synchronize_session=False)
        )
        resolved += int(getattr(changed, "rowcount", 0))
    return resolved


def register(registry: Registry) -> None:
    registry.every(PERIODIC_NAME, EVERY, settle)
