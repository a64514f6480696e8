"""The twin's reads: what the simulated world needs to see, and what the KPIs count. SQL lives
here; `doorstep.twin.port` and `doorstep.twin.kpis` call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.catalog.service import list_products
from doorstep.models import (
    Block,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    ManifestItem,
    Merchant,
    Node,
    NodeKind,
    Order,
    Package,
    PackageEvent,
    PartnerManifest,
    PartnerStore,
    Plan,
    PlanStatus,
    Route,
    ServiceArea,
    Stop,
    StopPackage,
)
from doorstep.orders.lifecycle import TERMINAL_STATES, PackageState


def nodes(session: Session) -> list[Node]:
    return list(session.scalars(select(Node).where(Node.active.is_(True)).order_by(Node.code)))


def partner_stores(session: Session) -> dict[int, PartnerStore]:
    return {p.node_id: p for p in session.scalars(select(PartnerStore))}


def service_areas(session: Session) -> list[tuple[ServiceArea, str]]:
    return [
        (area, code)
        for area, code in session.execute(
            select(ServiceArea, Node.code)
            .join(Node, Node.id == ServiceArea.station_id)
            .order_by(ServiceArea.code)
        )
    ]


def catalogs(session: Session) -> list[tuple[Merchant, list[str]]]:
    """Every merchant with the SKUs of its catalog (the demo merchants on the example)."""
    merchants = list(session.scalars(select(Merchant).order_by(Merchant.id)))
    return [(m, [p.sku for p in list_products(session, m.id)]) for m in merchants]


def merchant_ids(session: Session) -> dict[str, int]:
    return {m.name: m.id for m in session.scalars(select(Merchant))}


def current_plans(session: Session, day: date) -> list[Plan]:
    return list(
        session.scalars(
            select(Plan).where(Plan.service_date == day, Plan.status == PlanStatus.CURRENT)
        )
    )


def open_blocks_of(session: Session, plan_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Block.id)).where(
                Block.plan_id == plan_id, Block.status == BlockStatus.OPEN
            )
        )
        or 0
    )


def waiting_packages(session: Session, day: date) -> list[Package]:
    """Packages of ``day`` no plan covers any longer (nobody took their block, or never
    planned): what moves to the next day."""
    return list(
        session.scalars(
            select(Package)
            .where(
                Package.service_date == day,
                Package.state.in_((PackageState.CREATED, PackageState.READY_FOR_PICKUP)),
            )
            .order_by(Package.id)
        )
    )


def open_parcels(session: Session) -> int:
    return (
        session.scalar(select(func.count(Package.id)).where(Package.state.not_in(TERMINAL_STATES)))
        or 0
    )


@dataclass(frozen=True)
class ManifestParcel:
    package: Package
    lat: float
    lng: float


def manifest_parcels(
    session: Session, day: date, state: PackageState
) -> dict[int, list[ManifestParcel]]:
    """Partner-store parcels of ``day`` in ``state``, by store node id, in the staff route's
    order (the planner's)."""
    rows = session.execute(
        select(PartnerManifest.partner_store_id, Package, Order.dest_lat, Order.dest_lng)
        .join(ManifestItem, ManifestItem.manifest_id == PartnerManifest.id)
        .join(Package, Package.id == ManifestItem.package_id)
        .join(Order, Order.id == Package.order_id)
        .outerjoin(StopPackage, StopPackage.package_id == Package.id)
        .outerjoin(Stop, Stop.id == StopPackage.stop_id)
        .where(PartnerManifest.service_date == day, Package.state == state)
        .order_by(PartnerManifest.partner_store_id, Stop.sequence, Package.id)
    )
    found: dict[int, list[ManifestParcel]] = {}
    for store_id, package, lat, lng in rows:
        found.setdefault(store_id, []).append(ManifestParcel(package, lat, lng))
    return found


def manifests_of(session: Session, day: date, store_ids: Sequence[int]) -> list[PartnerManifest]:
    return list(
        session.scalars(
            select(PartnerManifest).where(
                PartnerManifest.service_date == day,
                PartnerManifest.partner_store_id.in_(store_ids),
            )
        )
    )


def manifest_item(session: Session, package_id: int) -> ManifestItem | None:
    return session.scalar(select(ManifestItem).where(ManifestItem.package_id == package_id))


def package_by_code(session: Session, code: str) -> Package:
    return session.scalars(select(Package).where(Package.tracking_code == code)).one()


def node_by_code(session: Session, code: str) -> Node:
    return session.scalars(select(Node).where(Node.code == code)).one()


def labelled_to_hand_over(session: Session, through: date) -> list[tuple[CarrierShipment, str]]:
    """Labelled shipments not yet handed over whose packages are due by ``through``."""
    return [
        (shipment, code)
        for shipment, code in session.execute(
            select(CarrierShipment, Package.tracking_code)
            .join(Package, Package.id == CarrierShipment.package_id)
            .where(
                CarrierShipment.status == CarrierShipmentStatus.LABELLED,
                Package.service_date <= through,
            )
            .order_by(CarrierShipment.id)
        )
    ]


# What the KPIs count ---------------------------------------------------------------------------


def packages_with_orders(session: Session) -> list[tuple[Package, Order]]:
    return [(p, o) for p, o in session.execute(select(Package, Order).join(Order))]


def final_events(session: Session) -> dict[int, PackageEvent]:
    """Each package's last event (its terminal one when it has ended)."""
    last = (
        select(PackageEvent.package_id, func.max(PackageEvent.sequence).label("sequence"))
        .group_by(PackageEvent.package_id)
        .subquery()
    )
    return {
        e.package_id: e
        for e in session.scalars(
            select(PackageEvent).join(
                last,
                (last.c.package_id == PackageEvent.package_id)
                & (last.c.sequence == PackageEvent.sequence),
            )
        )
    }


def terminal_event_counts(session: Session) -> dict[int, int]:
    """How many events moved each package into a terminal state (exactly one when ended)."""
    rows = session.execute(
        select(PackageEvent.package_id, func.count(PackageEvent.id))
        .where(PackageEvent.to_state.in_(TERMINAL_STATES))
        .group_by(PackageEvent.package_id)
    )
    return dict(rows.tuples())


def attempt_reasons(session: Session) -> dict[int, str]:
    """The reason of each package's last failed attempt (or kept at a partner's counter)."""
    found: dict[int, str] = {}
    for package_id, reason, data in session.execute(
        select(PackageEvent.package_id, PackageEvent.reason, PackageEvent.data)
        .where(PackageEvent.to_state == PackageState.DELIVERY_ATTEMPTED)
        .order_by(PackageEvent.package_id, PackageEvent.sequence)
    ):
        found[package_id] = reason or str((data or {}).get("reason", "attempted"))
    return found


def rolled_over(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(PackageEvent.package_id).where(PackageEvent.reason == "replanned").distinct()
        )
    )


def blocks_driven(session: Session) -> list[tuple[Block, Route | None, Node]]:
    return [
        (b, r, n)
        for b, r, n in session.execute(
            select(Block, Route, Node)
            .outerjoin(Route, Route.block_id == Block.id)
            .join(Node, Node.id == Block.start_node_id)
            .where(Block.checked_in_at.is_not(None))
            .order_by(Block.id)
        )
    ]


def carrier_shipments(session: Session) -> list[CarrierShipment]:
    return list(session.scalars(select(CarrierShipment)))


def partner_counts(session: Session) -> list[tuple[Node, PartnerStore, date, int]]:
    return [
        (n, p, d, c)
        for n, p, d, c in session.execute(
            select(Node, PartnerStore, PartnerManifest.service_date, func.count())
            .join(PartnerStore, PartnerStore.node_id == Node.id)
            .join(PartnerManifest, PartnerManifest.partner_store_id == Node.id)
            .join(ManifestItem, ManifestItem.manifest_id == PartnerManifest.id)
            .group_by(Node.id, PartnerStore.node_id, PartnerManifest.service_date)
        )
    ]


def plan_totals(session: Session) -> list[dict[str, Any]]:
    return [
        p.totals for p in session.scalars(select(Plan).where(Plan.status == PlanStatus.CURRENT))
    ]


def moment_of(event: PackageEvent) -> datetime:
    return event.occurred_at


__all__ = ["NodeKind"]
