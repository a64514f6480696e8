"""What a stored plan holds, read back for the operator API: its blocks, the stops of a block
in order, each partner store's manifest in staff-route order, the carrier shipments.

Plain dataclasses from a few queries per call (no N+1 over stops or packages).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.errors import NotFound
from doorstep.models import (
    Block,
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    Node,
    NodeKind,
    Order,
    Package,
    Plan,
    PlanStatus,
    Route,
    Stop,
    StopKind,
    StopPackage,
    is_reload,
    trip_numbers,
)


class PlanNotFound(NotFound):
    code = "plan_not_found"


class BlockNotFound(NotFound):
    code = "block_not_found"


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
    trip: int = 1  # which of the block's trips (a reload starts the next)
    reload: bool = False  # back at the station to load the trip it starts


@dataclass(frozen=True)
class TripView:
    """One car load of a block: where it is loaded, when it leaves, its stops."""

    trip: int
    loaded_at: str  # the code of the station (or store, mall) where it is loaded
    departs_at: datetime | None  # planned (the reload's end; the block's start for trip 1)
    stops: tuple[int, ...]  # sequences of its stops, the reload included
    parcels: int  # delivered on this trip


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


@dataclass(frozen=True)
class BlockView:
    id: int
    start: str  # the code of the station, mall or store where it starts
    starts_at: datetime
    ends_at: datetime
    stops: int
    packages: int
    distance_m: int
    pay_cents: int
    status: str


@dataclass(frozen=True)
class BlockDetail(BlockView):
    itinerary: tuple[StopView, ...]
    trips: tuple[TripView, ...]


@dataclass(frozen=True)
class PlanView:
    id: int
    station: str
    date: date
    status: PlanStatus
    created_at: datetime
    new_plan: bool
    totals: dict[str, Any]
    unassigned: list[dict[str, Any]]
    held: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    blocks: tuple[BlockView, ...]
    manifests: tuple[ManifestView, ...]
    carrier_shipments: tuple[ShipmentView, ...]


def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanNotFound(f"no plan {plan_id}", plan_id=plan_id)
    return plan


def plan_view(session: Session, plan: Plan, *, new_plan: bool) -> PlanView:
    """The whole plan: totals, decisions, blocks, manifests and carrier shipments."""
    blocks = list(session.scalars(select(Block).where(Block.plan_id == plan.id).order_by(Block.id)))
    nodes = _nodes(session, {plan.station_id} | {b.start_node_id for b in blocks})
    return PlanView(
        id=plan.id,
        station=nodes[plan.station_id].code,
        date=plan.service_date,
        status=plan.status,
        created_at=plan.created_at,
        new_plan=new_plan,
        totals=plan.totals,
        unassigned=plan.unassigned,
        held=plan.held or [],
        decisions=plan.decisions,
        blocks=tuple(_block(b, nodes[b.start_node_id].code) for b in blocks),
        manifests=tuple(manifests(session, plan.id)),
        carrier_shipments=tuple(carrier_shipments(session, plan.id)),
    )


def block_detail(session: Session, plan_id: int, block_id: int) -> BlockDetail:
    """One block of a plan with its itinerary: every stop in driving order, with its parcels."""
    block = session.get(Block, block_id)
    if block is None or block.plan_id != plan_id:
        raise BlockNotFound(
            f"plan {plan_id} has no block {block_id}", plan_id=plan_id, block_id=block_id
        )
    route_id = session.scalar(select(Route.id).where(Route.block_id == block.id))
    stops = route_stops(session, route_id) if route_id is not None else []
    start = session.get_one(Node, block.start_node_id).code
    return BlockDetail(
        **vars(_block(block, start)),
        itinerary=tuple(stops),
        trips=trips_of(stops, start, block.starts_at),
    )


def trips_of(stops: list[StopView], start: str, starts_at: datetime) -> tuple[TripView, ...]:
    """A block's trips: the first leaves its start, each later one a reload stop."""
    trips: list[TripView] = []
    for stop in stops:
        if not trips:
            trips.append(TripView(1, start, starts_at, (), 0))
        if stop.reload:
            trips.append(TripView(stop.trip, stop.site or start, _after(stop), (), 0))
        last = trips[-1]
        delivered = len(stop.parcels) if stop.kind is StopKind.DELIVERY else 0
        trips[-1] = replace(
            last, stops=(*last.stops, stop.sequence), parcels=last.parcels + delivered
        )
    return tuple(trips)


def _after(stop: StopView) -> datetime | None:
    if stop.planned_arrival_at is None:
        return None
    return stop.planned_arrival_at + timedelta(seconds=stop.service_s)


def _block(b: Block, start: str) -> BlockView:
    return BlockView(
        id=b.id,
        start=start,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        stops=b.stop_count,
        packages=b.package_count,
        distance_m=b.estimated_distance_m,
        pay_cents=b.pay_cents,
        status=b.status.value,
    )


def route_stops(session: Session, route_id: int) -> list[StopView]:
    """The stops of one route in order, with their parcels."""
    stops = list(
        session.scalars(select(Stop).where(Stop.route_id == route_id).order_by(Stop.sequence))
    )
    parcels = _parcels(session, [s.id for s in stops])
    nodes = _nodes(session, {s.node_id for s in stops if s.node_id is not None})
    views = []
    reloads = [is_reload(s, nodes.get(s.node_id) if s.node_id is not None else None) for s in stops]
    for stop, reload, trip in zip(stops, reloads, trip_numbers(reloads), strict=True):
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
                trip=trip,
                reload=reload,
            )
        )
    return views


def manifests(session: Session, plan_id: int) -> list[ManifestView]:
    """Each partner store's batch of the plan, in its staff route's order."""
    routes = list(
        session.scalars(
            select(Route)
            .join(Node, Node.id == Route.start_node_id)
            .where(
                Route.plan_id == plan_id,
                Route.channel == Channel.PARTNER_STORE,
                # The staff routes (the morning run starts at the station).
                Node.kind == NodeKind.PARTNER_STORE,
            )
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
