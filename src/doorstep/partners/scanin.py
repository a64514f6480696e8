"""The morning batch at the counter: the drop, a scan per parcel, what is missing, damaged or
not ours, and the store's scan compliance.

The middle-mile run drops the day's manifest at the store (an operator or the run's driver
says so; otherwise the store's first scan does): its parcels move ``assigned`` → ``picked_up``
and the scan-in clock starts, ``DOORSTEP_STORE_SCAN_IN_MINUTES`` (30) long. Each parcel
scanned (camera or typed) moves ``picked_up`` → ``at_partner_store``; scanning it again
answers the same. A parcel the batch lacks is reported missing: it moves to ``missing`` (the
merchant's ``package.missing`` webhook follows from the outbox, as a driver's missing-at-pickup
does) and the operator gets an exception. A damaged parcel is refused: it rides back with the
run and the operator is told. A parcel that is not on this store's manifest is refused with a
4xx, nothing written; the clerk may then put it on the run back, flagged for the operator.

Compliance: of the parcels a store scanned in (the last 30 days), the share scanned by the
deadline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.road.load import local_zone, package_by_code
from doorstep.errors import DomainError
from doorstep.models import (
    BackToStation,
    ExceptionKind,
    ManifestItem,
    ManifestStatus,
    Node,
    OpsException,
    Order,
    Package,
    PartnerManifest,
    Route,
    Stop,
    StopKind,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.partners import counter
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import (
    BackOut,
    Compliance,
    ManifestOut,
    ManifestParcel,
    ReportOut,
    ScanOut,
)
from doorstep.tracking import returns as shopper_returns

COMPLIANCE_DAYS = 30
SCANNED, MISSING, DAMAGED = "scanned", "missing", "damaged"


class PackageOnAnotherManifest(DomainError):
    status = 409
    code = "package_on_another_manifest"


class PackageNotOnManifest(DomainError):
    status = 409
    code = "package_not_on_manifest"


class PackageOnManifest(DomainError):
    status = 409
    code = "package_on_manifest"


class PackageAlreadyReported(DomainError):
    status = 409
    code = "package_already_reported"


class NoManifestToday(DomainError):
    status = 409
    code = "no_manifest_today"


def store_today(node: Node, now: datetime) -> date:
    return now.astimezone(local_zone(node)).date()


def find_manifest(session: Session, node: Node, day: date) -> PartnerManifest | None:
    return session.scalar(
        select(PartnerManifest)
        .where(PartnerManifest.partner_store_id == node.id, PartnerManifest.service_date == day)
        .with_for_update()
    )


def drop(
    session: Session, node: Node, *, now: datetime, by: str, scan_minutes: int
) -> PartnerManifest:
    """The run left today's batch at the store: its parcels are picked up (from the station)
    and the scan-in clock starts. Dropped already: nothing changes."""
    manifest = find_manifest(session, node, store_today(node, now))
    if manifest is None:
        raise NoManifestToday(f"{node.name} has no manifest today", store=node.code)
    if manifest.dropped_at is not None:
        return manifest
    manifest.dropped_at = now
    manifest.dropped_by = by
    manifest.scan_deadline_at = now + timedelta(minutes=scan_minutes)
    manifest.status = ManifestStatus.DROPPED_OFF
    for package in _packages(session, manifest):
        if package.state is PackageState.ASSIGNED:
            transition_package(
                session,
                package,
                PackageState.PICKED_UP,
                actor=by,
                reason="middle_mile_drop",
                data={"store": node.code, "manifest_id": manifest.id},
                at=now,
            )
    session.flush()
    return manifest


def manifest_view(session: Session, staff: Staff, day: date) -> ManifestOut:
    node = staff.node
    manifest = find_manifest(session, node, day)
    parcels: list[ManifestParcel] = []
    if manifest is not None:
        rows = session.execute(
            select(ManifestItem, Package, Order)
            .join(Package, Package.id == ManifestItem.package_id)
            .join(Order, Order.id == Package.order_id)
            .where(ManifestItem.manifest_id == manifest.id)
            .order_by(Package.tracking_code)
        )
        for item, package, order in rows:
            parcels.append(
                ManifestParcel(
                    code=package.tracking_code,
                    recipient=order.recipient_name,
                    address=order.full_address,
                    state=package.state,
                    outcome=item.outcome,
                    scanned_at=item.scanned_in_at,
                    on_time=_on_time(manifest, item) if item.outcome == SCANNED else None,
                )
            )
    back = session.execute(
        select(BackToStation, Package.tracking_code)
        .join(Package, Package.id == BackToStation.package_id)
        .where(BackToStation.partner_store_id == node.id, BackToStation.collected_at.is_(None))
        .order_by(BackToStation.added_at)
    )
    return ManifestOut(
        store=node.code,
        service_date=day,
        status=manifest.status.value if manifest else "none",
        run_due_at=run_due(session, node, day),
        dropped_at=manifest.dropped_at if manifest else None,
        scan_deadline_at=manifest.scan_deadline_at if manifest else None,
        scanned_in_at=manifest.scanned_in_at if manifest else None,
        left_to_scan=sum(1 for p in parcels if p.outcome is None),
        parcels=parcels,
        back_to_station=[
            BackOut(code=code, reason=row.reason, added_at=row.added_at) for row, code in back
        ]
        # Shoppers' returns left at the counter ride back too.
        + [
            BackOut(code=r.public_id, reason="return", added_at=r.dropped_at or r.requested_at)
            for r in shopper_returns.waiting_at(session, node.id)
        ],
        compliance=compliance(session, node, day),
    )


def scan(
    session: Session,
    staff: Staff,
    code: str,
    *,
    now: datetime,
    scan_minutes: int,
    hold: counter.HoldSettings,
) -> ScanOut:
    """One parcel of today's batch on the shelf: ``at_partner_store``. A parcel its shopper
    collects here is kept at the counter at once, and the shopper is sent the code."""
    package = package_by_code(session, code)
    manifest, item = _item(session, staff, package, code, now)
    if item.outcome == SCANNED:
        assert item.scanned_in_at is not None
        return ScanOut(
            code=package.tracking_code,
            state=package.state,
            scanned_at=item.scanned_in_at,
            on_time=_on_time(manifest, item),
            replayed=True,
            for_counter=counter.chosen_counter(session, package) == staff.node.id,
            left_to_scan=_left(session, manifest),
        )
    if item.outcome is not None:
        raise PackageAlreadyReported(
            f"parcel {package.tracking_code} was reported {item.outcome}",
            field="code",
            code=package.tracking_code,
            outcome=item.outcome,
        )
    if manifest.dropped_at is None:
        # Nobody said the run came: the store's first scan says it.
        drop(session, staff.node, now=now, by=staff.actor, scan_minutes=scan_minutes)
    if package.state is PackageState.ASSIGNED:  # added to the batch after the drop
        transition_package(
            session,
            package,
            PackageState.PICKED_UP,
            actor=staff.actor,
            reason="middle_mile_drop",
            data={"store": staff.node.code, "manifest_id": manifest.id},
            at=now,
        )
    transition_package(
        session,
        package,
        PackageState.AT_PARTNER_STORE,
        actor=staff.actor,
        reason="scanned_in",
        data={"store": staff.node.code, "manifest_id": manifest.id},
        at=now,
    )
    item.outcome, item.outcome_by, item.scanned_in_at = SCANNED, staff.actor, now
    for_counter = counter.chosen_counter(session, package) == staff.node.id
    if for_counter:
        counter.hold(
            session,
            staff.node,
            package,
            now=now,
            by=staff.actor,
            secret_key=hold.secret_key,
            counter_days=hold.counter_days,
            public_url=hold.public_url,
        )
    left = _after_outcome(session, manifest, now)
    return ScanOut(
        code=package.tracking_code,
        state=package.state,
        scanned_at=now,
        on_time=_on_time(manifest, item),
        replayed=False,
        left_to_scan=left,
        for_counter=for_counter,
    )


def report(
    session: Session,
    staff: Staff,
    codes: list[str],
    outcome: str,
    *,
    now: datetime,
    note: str | None,
    scan_minutes: int,
) -> ReportOut:
    """Parcels of today's batch that are not in it (``missing``: the package goes
    ``missing``), or refused as ``damaged`` (they ride back with the run, still
    ``picked_up``); the operator gets an exception for each. One unknown or already reported
    code refuses them all."""
    chosen = _unreported(session, staff, codes, now)
    manifest = chosen[0][0]
    if manifest.dropped_at is None:
        drop(session, staff.node, now=now, by=staff.actor, scan_minutes=scan_minutes)
    exceptions = []
    for _, item, package in chosen:
        item.outcome, item.outcome_by = outcome, staff.actor
        if outcome == MISSING:
            transition_package(
                session,
                package,
                PackageState.MISSING,
                actor=staff.actor,
                reason="missing_at_scan_in",
                data={"store": staff.node.code, "manifest_id": manifest.id},
                at=now,
            )
            kind = ExceptionKind.MISSING_AT_SCAN_IN
            said = f"parcel {package.tracking_code} was not in {staff.node.name}'s batch"
        else:
            _back(session, staff, package, DAMAGED, now)
            kind = ExceptionKind.DAMAGED_AT_SCAN_IN
            said = f"{staff.node.name} refused parcel {package.tracking_code} as damaged"
        exception = OpsException(
            kind=kind,
            package_id=package.id,
            node_id=staff.node.id,
            detail=(said + (f": {note}" if note else ""))[:500],
            data={"code": package.tracking_code, "manifest_id": manifest.id},
            opened_at=now,
            opened_by=staff.actor,
        )
        session.add(exception)
        exceptions.append(exception)
    left = _after_outcome(session, manifest, now)
    return ReportOut(
        reported=[p.tracking_code for _, _, p in chosen],
        exceptions=[e.id for e in exceptions],
        left_to_scan=left,
    )


def flag_unexpected(
    session: Session, staff: Staff, code: str, *, now: datetime, note: str | None
) -> ReportOut:
    """A parcel at the counter that is not on this store's manifest: it goes on the run back
    to the station and the operator is told."""
    package = package_by_code(session, code)
    ours = session.scalar(
        select(ManifestItem.package_id)
        .join(PartnerManifest, PartnerManifest.id == ManifestItem.manifest_id)
        .where(
            ManifestItem.package_id == package.id,
            PartnerManifest.partner_store_id == staff.node.id,
        )
    )
    if ours is not None:
        raise PackageOnManifest(
            f"parcel {package.tracking_code} is on this store's manifest: scan it in",
            field="code",
            code=package.tracking_code,
        )
    existing = session.scalar(select(BackToStation).where(BackToStation.package_id == package.id))
    if existing is None:
        _back(session, staff, package, "unexpected", now)
        exception = OpsException(
            kind=ExceptionKind.UNEXPECTED_AT_SCAN_IN,
            package_id=package.id,
            node_id=staff.node.id,
            detail=(
                f"parcel {package.tracking_code} came to {staff.node.name} though not on its "
                "manifest; it rides back to the station" + (f": {note}" if note else "")
            )[:500],
            data={"code": package.tracking_code, "state": package.state.value},
            opened_at=now,
            opened_by=staff.actor,
        )
        session.add(exception)
        session.flush()
        ids = [exception.id]
    else:
        ids = []
    manifest = find_manifest(session, staff.node, store_today(staff.node, now))
    return ReportOut(
        reported=[package.tracking_code],
        exceptions=ids,
        left_to_scan=_left(session, manifest) if manifest else 0,
    )


def run_due(session: Session, node: Node, day: date) -> datetime | None:
    """When the planned morning run drops this store's batch on ``day`` (None: not planned)."""
    return session.scalar(
        select(Stop.planned_arrival_at)
        .join(Route, Route.id == Stop.route_id)
        .where(
            Stop.node_id == node.id,
            Stop.kind == StopKind.DROP_OFF,
            Route.service_date == day,
        )
        .order_by(Route.id.desc())
        .limit(1)
    )


def compliance(session: Session, node: Node, day: date) -> Compliance:
    """Of the parcels scanned in over the 30 days up to ``day``, how many by the deadline."""
    rows = session.execute(
        select(ManifestItem.scanned_in_at, PartnerManifest.scan_deadline_at)
        .join(PartnerManifest, PartnerManifest.id == ManifestItem.manifest_id)
        .where(
            PartnerManifest.partner_store_id == node.id,
            PartnerManifest.service_date > day - timedelta(days=COMPLIANCE_DAYS),
            PartnerManifest.service_date <= day,
            ManifestItem.outcome == SCANNED,
        )
    ).all()
    on_time = sum(
        1 for at, deadline in rows if deadline is None or (at is not None and at <= deadline)
    )
    return Compliance(
        scanned=len(rows), on_time=on_time, share=round(on_time / len(rows), 3) if rows else None
    )


def _item(
    session: Session, staff: Staff, package: Package, code: str, now: datetime
) -> tuple[PartnerManifest, ManifestItem]:
    manifest = find_manifest(session, staff.node, store_today(staff.node, now))
    item = session.get(ManifestItem, (manifest.id, package.id)) if manifest is not None else None
    if manifest is None or item is None:
        other = session.scalar(
            select(Node.code)
            .join(PartnerManifest, PartnerManifest.partner_store_id == Node.id)
            .join(ManifestItem, ManifestItem.manifest_id == PartnerManifest.id)
            .where(ManifestItem.package_id == package.id)
        )
        if other is not None and other != staff.node.code:
            raise PackageOnAnotherManifest(
                f"parcel {package.tracking_code} is on another store's manifest: do not keep "
                "it; put it on the run back",
                field="code",
                code=package.tracking_code,
            )
        raise PackageNotOnManifest(
            f"parcel {package.tracking_code} is not on today's manifest: put it on the run back",
            field="code",
            code=package.tracking_code,
        )
    return manifest, item


def _unreported(
    session: Session, staff: Staff, codes: list[str], now: datetime
) -> list[tuple[PartnerManifest, ManifestItem, Package]]:
    chosen: dict[int, tuple[PartnerManifest, ManifestItem, Package]] = {}
    for code in codes:
        package = package_by_code(session, code)
        manifest, item = _item(session, staff, package, code, now)
        if item.outcome is not None:
            raise PackageAlreadyReported(
                f"parcel {package.tracking_code} is already {item.outcome}",
                field="codes",
                code=package.tracking_code,
                outcome=item.outcome,
            )
        chosen[package.id] = (manifest, item, package)
    return sorted(chosen.values(), key=lambda row: row[2].tracking_code)


def _back(session: Session, staff: Staff, package: Package, reason: str, now: datetime) -> None:
    session.add(
        BackToStation(
            partner_store_id=staff.node.id,
            package_id=package.id,
            reason=reason,
            added_at=now,
            added_by=staff.actor,
        )
    )


def _packages(session: Session, manifest: PartnerManifest) -> list[Package]:
    return list(
        session.scalars(
            select(Package)
            .join(ManifestItem, ManifestItem.package_id == Package.id)
            .where(ManifestItem.manifest_id == manifest.id)
            .order_by(Package.id)
        )
    )


def _left(session: Session, manifest: PartnerManifest) -> int:
    return len(
        session.scalars(
            select(ManifestItem.package_id).where(
                ManifestItem.manifest_id == manifest.id, ManifestItem.outcome.is_(None)
            )
        ).all()
    )


def _after_outcome(session: Session, manifest: PartnerManifest, now: datetime) -> int:
    session.flush()
    left = _left(session, manifest)
    if left == 0 and manifest.scanned_in_at is None:
        manifest.scanned_in_at = now
        manifest.status = ManifestStatus.SCANNED_IN
        session.flush()
    return left


def _on_time(manifest: PartnerManifest, item: ManifestItem) -> bool:
    if manifest.scan_deadline_at is None or item.scanned_in_at is None:
        return True
    return item.scanned_in_at <= manifest.scan_deadline_at
