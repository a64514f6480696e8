"""Partner stores in the twin: the middle-mile drop-off, the scan-in, the staff's doors and the
counter, as package transitions on what the plan's partner manifest holds.

THIS IS THE ADAPTER STEP. The partner-store services (scan-in at the store, the staff's route,
counter pick-up with its code, the 14-day expiry) are not on this branch yet; until they land,
these functions move the packages through the one state machine (`transition_package`, each
move with its event) the way those services will. When they land, each function below becomes
a call to its service with the same arguments (the store, the parcel, ``now``) and nothing
else in the twin changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from doorstep.models import ManifestStatus, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.twin import repository

S = PackageState
MIDDLE_MILE = "middle_mile"


def drop_off(
    session: Session, day: date, now: datetime
) -> dict[int, list[repository.ManifestParcel]]:
    """The morning van leaves each store's batch: its assigned parcels are picked up at the
    station and dropped at the store (manifest ``dropped_off``). By store node id."""
    batches = repository.manifest_parcels(session, day, S.ASSIGNED)
    for parcels in batches.values():
        for parcel in parcels:
            transition_package(
                session,
                parcel.package,
                S.PICKED_UP,
                actor=MIDDLE_MILE,
                reason="middle_mile",
                at=now,
            )
    for manifest in repository.manifests_of(session, day, list(batches)):
        if manifest.status is ManifestStatus.PLANNED:
            manifest.status = ManifestStatus.DROPPED_OFF
    session.flush()
    return batches


def scan_in(session: Session, store: str, package: Package, now: datetime) -> None:
    """The store's staff scan the parcel in (partner services: scan-in)."""
    transition_package(
        session, package, S.AT_PARTNER_STORE, actor=_actor(store), reason="scanned_in", at=now
    )
    item = repository.manifest_item(session, package.id)
    if item is not None:
        item.scanned_in_at = now


def deliver(session: Session, store: str, package: Package, now: datetime) -> None:
    """A door of the staff route (partner services: staff route)."""
    who = _actor(store)
    transition_package(
        session, package, S.OUT_FOR_DELIVERY, actor=who, reason="staff_route", at=now
    )
    transition_package(session, package, S.DELIVERED, actor=who, reason="staff_route", at=now)


def keep_at_counter(
    session: Session, store: str, package: Package, reason: str, now: datetime
) -> None:
    """The door failed: the parcel waits at the store's counter for its shopper."""
    who = _actor(store)
    transition_package(
        session, package, S.OUT_FOR_DELIVERY, actor=who, reason="staff_route", at=now
    )
    package.delivery_attempts += 1
    transition_package(session, package, S.DELIVERY_ATTEMPTED, actor=who, reason=reason, at=now)
    transition_package(
        session, package, S.AT_PARTNER_STORE, actor=who, reason="kept_at_counter", at=now
    )


def collected(session: Session, store: str, package: Package, now: datetime) -> None:
    """The shopper collects it at the counter (partner services: counter pick-up)."""
    transition_package(
        session, package, S.PICKED_UP_AT_COUNTER, actor=_actor(store), reason="collected", at=now
    )


def expired(session: Session, store: str, package: Package, now: datetime) -> None:
    """Not collected in 14 days: back to the merchant."""
    who = _actor(store)
    transition_package(session, package, S.RETURNED, actor=who, reason="not_collected", at=now)
    transition_package(
        session, package, S.RETURNED_TO_MERCHANT, actor=who, reason="not_collected", at=now
    )


def _actor(store: str) -> str:
    return f"partner:{store}"
