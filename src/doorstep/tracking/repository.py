"""Reading what a tracking page needs, for one package or a route's worth at once: the same
dozen queries whatever the number of packages (the live push refreshes a whole route's pages
after each door)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from doorstep.errors import NotFound
from doorstep.models import (
    CounterChoice,
    CounterParcel,
    DeliveryProof,
    Merchant,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Package,
    PackageDelay,
    PackageEvent,
    PartnerStore,
    Product,
    ProofOutcome,
    Return,
    Stop,
    StopKind,
    StopPackage,
    StopStatus,
)
from doorstep.models.tracking import token_digest

AHEAD = (StopStatus.PENDING, StopStatus.ARRIVED)


@dataclass
class Facts:
    """Everything known about one package that its tracking page shows."""

    package: Package
    order: Order
    merchant: Merchant
    events: list[PackageEvent] = field(default_factory=list)
    stop: Stop | None = None  # its delivery stop on the latest route that carries it
    # Deliveries and pickups of that route still to do before it (a multi-trip block's
    # reload at the station is no stop to the shopper: the time it takes is in the ETA).
    stops_ahead: int = 0
    proof: DeliveryProof | None = None  # the delivery's proof
    delay: PackageDelay | None = None  # the latest slip of its promise
    returned: Return | None = None
    node: Node | None = None  # the station or store that delivers it (its time zone)
    lines: list[tuple[Product, int]] = field(default_factory=list)
    counter: Counter | None = None  # held at a partner store's counter for the shopper
    # The store whose counter the shopper chose (at checkout or after a failed attempt).
    chosen: Chosen | None = None


@dataclass(frozen=True)
class Counter:
    """The parcel's row at a partner store's counter, with that store (its name, address,
    hours and time zone): the shopper's page derives the pick-up code from ``row``."""

    row: CounterParcel
    node: Node
    store: PartnerStore


@dataclass(frozen=True)
class Chosen:
    """The partner store the shopper collects the parcel at, before it is held there."""

    node: Node
    store: PartnerStore


def package_id_by_token(session: Session, token: str) -> int | None:
    """The package whose tracking token is ``token``, found by the token's digest (any
    string: a malformed token is looked up like any other and found like none)."""
    return session.scalar(
        select(Package.id).where(Package.tracking_digest == token_digest(token[:200]))
    )


class TrackingNotFound(NotFound):
    code = "tracking_not_found"


def find_package(session: Session, token: str) -> int:
    """The id of the package behind ``token``, or `TrackingNotFound` (the same answer for
    every unknown token)."""
    package_id = package_id_by_token(session, token)
    if package_id is None:
        raise TrackingNotFound("no parcel has this tracking link")
    return package_id


def load_facts(session: Session, package_ids: Collection[int]) -> dict[int, Facts]:
    ids = sorted(set(package_ids))
    if not ids:
        return {}
    packages = list(session.scalars(select(Package).where(Package.id.in_(ids))))
    orders = {
        o.id: o
        for o in session.scalars(select(Order).where(Order.id.in_({p.order_id for p in packages})))
    }
    merchants = {
        m.id: m
        for m in session.scalars(
            select(Merchant).where(Merchant.id.in_({o.merchant_id for o in orders.values()}))
        )
    }
    facts = {
        p.id: Facts(
            package=p, order=orders[p.order_id], merchant=merchants[orders[p.order_id].merchant_id]
        )
        for p in packages
    }
    for event in session.scalars(
        select(PackageEvent)
        .where(PackageEvent.package_id.in_(ids))
        .order_by(PackageEvent.package_id, PackageEvent.sequence)
    ):
        facts[event.package_id].events.append(event)
    _stops(session, facts)
    for proof in session.scalars(
        select(DeliveryProof)
        .where(DeliveryProof.package_id.in_(ids), DeliveryProof.outcome == ProofOutcome.DELIVERED)
        .order_by(DeliveryProof.id)
    ):
        facts[proof.package_id].proof = proof
    for delay in session.scalars(
        select(PackageDelay).where(PackageDelay.package_id.in_(ids)).order_by(PackageDelay.id)
    ):
        facts[delay.package_id].delay = delay
    for returned in session.scalars(select(Return).where(Return.package_id.in_(ids))):
        facts[returned.package_id].returned = returned
    node_ids = {p.serving_node_id or p.origin_node_id for p in packages}
    nodes = {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(node_ids)))}
    for p in packages:
        facts[p.id].node = nodes.get(p.serving_node_id or p.origin_node_id)
    for package_id, product, quantity in session.execute(
        select(OrderLine.package_id, Product, OrderLine.quantity)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.package_id.in_(ids))
        .order_by(OrderLine.id)
    ):
        if package_id is not None:
            facts[package_id].lines.append((product, quantity))
    for row, node, store in session.execute(
        select(CounterParcel, Node, PartnerStore)
        .join(Node, Node.id == CounterParcel.partner_store_id)
        .join(PartnerStore, PartnerStore.node_id == CounterParcel.partner_store_id)
        .where(CounterParcel.package_id.in_(ids))
    ):
        facts[row.package_id].counter = Counter(row, node, store)
    for package_id, node, store in session.execute(
        select(CounterChoice.package_id, Node, PartnerStore)
        .join(Node, Node.id == CounterChoice.partner_store_id)
        .join(PartnerStore, PartnerStore.node_id == CounterChoice.partner_store_id)
        .where(CounterChoice.package_id.in_(ids))
    ):
        facts[package_id].chosen = Chosen(node, store)
    return facts


def held_at_a_counter(session: Session, package_ids: Collection[int]) -> set[int]:
    """Those of ``package_ids`` a partner store holds (or held) at its counter for the
    shopper to collect."""
    if not package_ids:
        return set()
    return set(
        session.scalars(
            select(CounterParcel.package_id).where(CounterParcel.package_id.in_(package_ids))
        )
    )


def _stops(session: Session, facts: dict[int, Facts]) -> None:
    for package_id, stop in session.execute(
        select(StopPackage.package_id, Stop)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .where(StopPackage.package_id.in_(facts), Stop.kind == StopKind.DELIVERY)
        .order_by(Stop.id)
    ):
        facts[package_id].stop = stop  # the last one wins: the latest route
    routes = {f.stop.route_id for f in facts.values() if f.stop is not None}
    if not routes:
        return
    ahead: dict[int, list[int]] = defaultdict(list)
    for route_id, sequence in session.execute(
        select(Stop.route_id, Stop.sequence).where(
            Stop.route_id.in_(routes), Stop.status.in_(AHEAD), _not_a_reload()
        )
    ):
        ahead[route_id].append(sequence)
    for f in facts.values():
        if f.stop is not None:
            f.stops_ahead = sum(1 for s in ahead[f.stop.route_id] if s < f.stop.sequence)


def _not_a_reload() -> ColumnElement[bool]:
    """A stop that is not a reload (`models.is_reload`: a pickup at a station)."""
    stations = select(Node.id).where(Node.kind == NodeKind.STATION)
    return or_(Stop.kind != StopKind.PICKUP, Stop.node_id.is_(None), Stop.node_id.not_in(stations))


def route_neighbours(session: Session, package_ids: Collection[int]) -> set[int]:
    """``package_ids`` and every package delivered on the same routes (a door done moves
    everyone's ETA on its route)."""
    if not package_ids:
        return set()
    routes = (
        select(Stop.route_id)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .where(StopPackage.package_id.in_(package_ids))
    )
    neighbours = session.scalars(
        select(StopPackage.package_id)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .where(Stop.route_id.in_(routes), Stop.kind == StopKind.DELIVERY)
    )
    return set(package_ids) | set(neighbours)


def package_of_return(session: Session, return_ids: Collection[int]) -> set[int]:
    if not return_ids:
        return set()
    return set(session.scalars(select(Return.package_id).where(Return.id.in_(return_ids))))


def packages_of_order(session: Session, order_id: int) -> list[Package]:
    return list(
        session.scalars(select(Package).where(Package.order_id == order_id).order_by(Package.id))
    )
