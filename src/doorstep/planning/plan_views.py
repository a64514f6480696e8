"""What a stored plan holds, read back for the operator API: the stops of a block in order,
each partner store's manifest in staff-route order, the carrier shipments.

Plain dataclasses from a few queries per call (no N+1 over stops or packages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import (
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    Node,
    Order,
    Package,
    Route,
    Stop,
    StopKind,
    StopPackage,
)


@dataclass(frozen=True)
class Parcel:
    package: str  # tracking code
    recipient: str
    address: str


@dataclass(frozen=True)
class StopView:
    sequence: int
    kind: StopKind
    site: str | None  # the store's code at a pickup
    address: str  # the store's or the recipient's
    lat: float
    lng: float
    planned_arrival_at: datetime | None
    service_s: int
    parcels: tuple[Parcel, ...]


@dataclass(frozen=True)
class ManifestView:
    store: str
    distance_m: int  # the staff route's estimate
    parcels: tuple[Parcel, ...]  # in staff-route order


@dataclass(frozen=True)
class ShipmentView:
    package: str
    service: str
    rate_cents: int  # the planner's estimate
    label_cents: int | None  # what the label cost, once bought
    carrier: str
    status: CarrierShipmentStatus
    tracking_number: str | None


def route_stops(session: Session, route_id: int) -> list[StopView]:
    """The stops of one route in order, with their parcels."""
    stops = list(
        session.scalars(select(Stop).where(Stop.route_id == route_id).order_by(Stop.sequence))
    )
    parcels = _parcels(session, [s.id for s in stops])
    nodes = _nodes(session, {s.node_id for s in stops if s.node_id is not None})
    views = []
    for stop in stops:
        on_stop = parcels.get(stop.id, ())
        node = nodes.get(stop.node_id) if stop.node_id is not None else None
        if node is not None:
            address = node.address or node.name
        else:
            address = stop.address or (on_stop[0].address if on_stop else "")
        views.append(
            StopView(
                sequence=stop.sequence,
                kind=stop.kind,
                site=node.code if node is not None else None,
                address=address,
                lat=stop.lat,
                lng=stop.lng,
                planned_arrival_at=stop.planned_arrival_at,
                service_s=stop.service_s,
                parcels=on_stop,
            )
        )
    return views


def manifests(session: Session, plan_id: int) -> list[ManifestView]:
    """Each partner store's batch of the plan, in its staff route's order."""
    routes = list(
        session.scalars(
            select(Route)
            .where(Route.plan_id == plan_id, Route.channel == Channel.PARTNER_STORE)
            .order_by(Route.id)
        )
    )
    nodes = _nodes(session, {r.start_node_id for r in routes})
    views = []
    for route in routes:
        stops = route_stops(session, route.id)
        views.append(
            ManifestView(
                store=nodes[route.start_node_id].code,
                distance_m=route.distance_m,
                parcels=tuple(p for s in stops for p in s.parcels),
            )
        )
    return views


def carrier_shipments(session: Session, plan_id: int) -> list[ShipmentView]:
    rows = session.execute(
        select(CarrierShipment, Package.tracking_code)
        .join(Package, Package.id == CarrierShipment.package_id)
        .where(CarrierShipment.plan_id == plan_id)
        .order_by(Package.tracking_code)
    )
    return [
        ShipmentView(
            package=code,
            service=shipment.service,
            rate_cents=shipment.rate_cents,
            label_cents=shipment.label_cents,
            carrier=shipment.carrier,
            status=shipment.status,
            tracking_number=shipment.tracking_number,
        )
        for shipment, code in rows
    ]


def _parcels(session: Session, stop_ids: list[int]) -> dict[int, tuple[Parcel, ...]]:
    if not stop_ids:
        return {}
    rows = session.execute(
        select(StopPackage.stop_id, Package.tracking_code, Order)
        .join(Package, Package.id == StopPackage.package_id)
        .join(Order, Order.id == Package.order_id)
        .where(StopPackage.stop_id.in_(stop_ids))
        .order_by(StopPackage.stop_id, Package.tracking_code)
    )
    found: dict[int, list[Parcel]] = {}
    for stop_id, code, order in rows:
        found.setdefault(stop_id, []).append(Parcel(code, order.recipient_name, order.full_address))
    return {stop_id: tuple(parcels) for stop_id, parcels in found.items()}


def _nodes(session: Session, ids: set[int]) -> dict[int, Node]:
    if not ids:
        return {}
    return {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(ids)))}
