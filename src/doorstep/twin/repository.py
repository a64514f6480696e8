"""The twin's reads: what the simulated world needs to see, and what the KPIs count. SQL lives
here; `doorstep.twin.port` and `doorstep.twin.kpis` call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from doorstep.catalog.service import list_products
from doorstep.models import (
    Block,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    DeliveryProof,
    InventoryLevel,
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


def open_parcels(session: Session, reference_prefix: str) -> int:
    """Parcels of the simulated day's orders not in a terminal state yet."""
    return (
        session.scalar(
            select(func.count(Package.id))
            .join(Order, Order.id == Package.order_id)
            .where(
                Package.state.not_in(TERMINAL_STATES),
                Order.merchant_reference.startswith(reference_prefix, autoescape=True),
            )
        )
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


def staff_stop(session: Session, code: str) -> Stop | None:
    """The stop of a partner store's staff route (no block) that carries parcel ``code``."""
    return session.scalar(
        select(Stop)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .join(Package, Package.id == StopPackage.package_id)
        .join(Route, Route.id == Stop.route_id)
        .where(
            Package.tracking_code == code,
            Route.channel == Channel.PARTNER_STORE,
            Route.block_id.is_(None),
        )
        .order_by(Stop.id.desc())
        .limit(1)
    )


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


def packages_with_orders(session: Session, reference_prefix: str) -> list[tuple[Package, Order]]:
    """The packages of the orders whose merchant reference starts with ``reference_prefix``
    (one simulated day's)."""
    return [
        (p, o)
        for p, o in session.execute(
            select(Package, Order)
            .join(Order, Order.id == Package.order_id)
            .where(Order.merchant_reference.startswith(reference_prefix, autoescape=True))
            .order_by(Package.id)
        )
    ]


def events_of(session: Session, package_ids: Sequence[int]) -> dict[int, list[PackageEvent]]:
    """Every event of these packages, in order, by package id."""
    found: dict[int, list[PackageEvent]] = {i: [] for i in package_ids}
    for start in range(0, len(package_ids), 500):
        chunk = package_ids[start : start + 500]
        for event in session.scalars(
            select(PackageEvent)
            .where(PackageEvent.package_id.in_(chunk))
            .order_by(PackageEvent.package_id, PackageEvent.sequence)
        ):
            found[event.package_id].append(event)
    return found


def blocks_by_id(session: Session, ids: Sequence[int]) -> dict[int, tuple[Block, Route | None]]:
    found: dict[int, tuple[Block, Route | None]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Block, Route)
            .outerjoin(Route, Route.block_id == Block.id)
            .where(Block.id.in_(ids[start : start + 500]))
        )
        for block, route in rows:
            found[block.id] = (block, route)
    return found


def van_runs_cents(session: Session, days: Sequence[date]) -> int:
    """The routed cost of the van's runs on ``days``: the routes from a station through the
    partner stores with no block (`planning.persist._morning_run`; its cost is what its plan
    shared out to the manifests): the current plans' and the runs that left a batch before
    a re-plan (`planning.persist.release_previous` keeps them). A run offered as a block is
    paid as one."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Route.cost_cents), 0))
            .join(Node, Node.id == Route.start_node_id)
            .where(
                Route.channel == Channel.PARTNER_STORE,
                Route.block_id.is_(None),
                Route.service_date.in_(days),
                Node.kind == NodeKind.STATION,
            )
        )
        or 0
    )


def carrier_shipments(session: Session, package_ids: Sequence[int]) -> list[CarrierShipment]:
    found: list[CarrierShipment] = []
    for start in range(0, len(package_ids), 500):
        found.extend(
            session.scalars(
                select(CarrierShipment).where(
                    CarrierShipment.package_id.in_(package_ids[start : start + 500])
                )
            )
        )
    return found


def set_station_cutoffs(session: Session, cutoff: time) -> None:
    """Every station's same-day cut-off (a what-if of `doorstep simulate --compare`)."""
    for node in session.scalars(select(Node).where(Node.kind == NodeKind.STATION)):
        node.same_day_cutoff = cutoff
    session.flush()


def station_capacity(session: Session) -> int:
    """Parcels a day the network's stations take, together (0: none says)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Node.daily_capacity), 0)).where(
                Node.kind == NodeKind.STATION
            )
        )
        or 0
    )


def scale_capacity(session: Session, factor: float) -> None:
    """Every station's daily capacity and every stock level times ``factor`` (a scale
    benchmark's network, sized to its day: the example network's stations take about 5,000
    parcels a day and the checkout turns the other shoppers away). A partner store keeps
    its capacity: it is what one clerk delivers in a day, and a busier network has more
    stores, not busier ones."""
    session.execute(
        update(Node)
        .where(Node.kind == NodeKind.STATION, Node.daily_capacity.is_not(None))
        .values(daily_capacity=func.round(Node.daily_capacity * factor))
    )
    session.execute(
        update(InventoryLevel).values(on_hand=func.round(InventoryLevel.on_hand * factor))
    )
    session.flush()


def a_delivered_token(session: Session) -> str | None:
    """The tracking token of a parcel left at a door with a photo (the most recent), else of
    a delivered one, else of any: the demo's link to a shopper's page, which then shows the
    whole story (a carrier's delivery has no photo)."""
    latest = select(Package.tracking_token).order_by(Package.id.desc()).limit(1)
    delivered = latest.where(Package.state == PackageState.DELIVERED)
    with_photo = delivered.where(
        select(DeliveryProof.id)
        .where(DeliveryProof.package_id == Package.id, DeliveryProof.photo_key.is_not(None))
        .exists()
    )
    for query in (with_photo, delivered, latest):
        token = session.scalar(query)
        if token:
            return token
    return None


def first_partner_store_code(session: Session) -> str | None:
    return session.scalar(
        select(Node.code).where(Node.kind == NodeKind.PARTNER_STORE).order_by(Node.code).limit(1)
    )
