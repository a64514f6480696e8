"""The staff route: the store's own deliveries of the day, in driving order, with the same
proof of delivery as drivers.

The planner made the route with the manifest (a `Route` of the partner-store channel, no
block: the store pays its staff), its stops ordered along a tour from the store by the one
travel model. The route shows the stops whose parcels were scanned in, with ETAs re-timed now
from the store by the same travel model (`Settings.travel_model()`) and links that open the
phone's navigation. A delivery takes the proof a driver's does (`drivers.proof`: a photo unless
the merchant says otherwise, the phone's position and time; the photo stored by the same code,
outside the transaction) and is accepted once per ``client_event_id``. Unable to deliver, the
parcels go ``delivery_attempted`` and straight back to ``at_partner_store``: they wait at the
counter for the shopper, who is sent the pick-up code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.drivers.proof import ProofKind, ProofPolicy, check_given, policy_for
from doorstep.drivers.road.deliveries import FarFromAddress
from doorstep.drivers.road.door import StopAlreadyDone
from doorstep.drivers.road.load import StopNotFound, position, seconds_of_day
from doorstep.drivers.road.phone import Stored, store_files
from doorstep.drivers.road.stops import nav_links
from doorstep.geo import TravelModel
from doorstep.models import (
    Channel,
    CounterParcel,
    DeliveryProof,
    ExceptionKind,
    ManifestItem,
    Merchant,
    OpsException,
    Order,
    Package,
    ProofOutcome,
    Route,
    Stop,
    StopPackage,
    StopStatus,
)
from doorstep.orders.lifecycle import STRAIGHT_TO_THE_DOOR, PackageState
from doorstep.orders.transitions import transition_package
from doorstep.partners import accounts, counter
from doorstep.partners.accounts import Staff
from doorstep.partners.scanin import SCANNED, store_today
from doorstep.partners.schemas import (
    DoorOut,
    RouteOut,
    RouteParcel,
    RouteStop,
    StaffAttemptIn,
    StaffDoorIn,
)
from doorstep.settings import Settings
from doorstep.storage.service import BlobStore

T = TypeVar("T")
ON_THE_WAY = frozenset({PackageState.AT_PARTNER_STORE, PackageState.OUT_FOR_DELIVERY})
#: The reason of the parcels' move out for delivery when the staff start their route.
STAFF_ROUTE_STARTED = "staff_route"


class _Door:
    """One stop of the route with its parcels (those scanned in at the store)."""

    def __init__(self, stop: Stop, parcels: list[Package], held: set[int]) -> None:
        self.stop = stop
        self.parcels = parcels
        self.to_deliver = [p for p in parcels if p.state in ON_THE_WAY and p.id not in held]


class _Timed(NamedTuple):
    etas: dict[int, datetime]  # by stop id, the doors still ahead
    distance_m: int  # the whole tour, from the store and back
    duration_s: int


def _timed(doors: list[_Door], staff: Staff, now: datetime, travel: TravelModel) -> _Timed:
    """ETAs now, from the store, through the doors still ahead in order; the tour's length."""
    if not doors:
        return _Timed({}, 0, 0)
    points = [(staff.node.lat, staff.node.lng), *((d.stop.lat, d.stop.lng) for d in doors)]
    matrix = travel.matrix(points, depart_s=seconds_of_day(now, staff.node))
    legs = [*list(range(len(points))), 0]
    distance = int(sum(matrix.distances[a, b] for a, b in itertools.pairwise(legs)))
    duration = int(sum(matrix.durations[a, b] for a, b in itertools.pairwise(legs)))
    etas: dict[int, datetime] = {}
    clock, previous = now, 0
    for here, door in enumerate(doors, start=1):
        if not door.to_deliver:
            continue
        clock += timedelta(seconds=int(matrix.durations[previous, here]))
        etas[door.stop.id] = clock
        clock += timedelta(seconds=door.stop.service_s)
        previous = here
    return _Timed(etas, distance, duration)


def start(session: Session, staff: Staff, *, now: datetime, travel: TravelModel) -> RouteOut:
    """The staff set off: every parcel still to deliver goes out for delivery (its shopper
    hears it, with a time window, and the first door that it is next), and each door ahead
    keeps its ETA from now, which the tracking page and the "arriving" messages read. Again
    later (more parcels scanned in, a break): the rest go out and the ETAs are timed anew."""
    doors, _ = _doors(session, staff, now)
    timed = _timed(doors, staff, now, travel)
    for door in doors:
        if door.stop.id in timed.etas:
            door.stop.eta_at = timed.etas[door.stop.id]
    session.flush()  # the ETAs first: the events' readers find them
    for door in doors:
        for package in door.to_deliver:
            _leave_store(session, staff, package, now, reason=STAFF_ROUTE_STARTED)
    session.flush()
    return route(session, staff, now=now, travel=travel)


def route(session: Session, staff: Staff, *, now: datetime, travel: TravelModel) -> RouteOut:
    day = store_today(staff.node, now)
    doors, orders = _doors(session, staff, now)
    timed = _timed(doors, staff, now, travel)
    etas, distance, duration = timed.etas, timed.distance_m, timed.duration_s
    todo = [p for d in doors for p in d.to_deliver]
    policies = _policies(session, orders)
    stops = []
    for door in doors:
        first = orders[door.parcels[0].order_id]
        recipients = list(dict.fromkeys(orders[p.order_id].recipient_name for p in door.parcels))
        status = (
            "to_deliver"
            if door.to_deliver
            else "delivered"
            if all(p.state is PackageState.DELIVERED for p in door.parcels)
            else "at_counter"
        )
        stops.append(
            RouteStop(
                stop_id=door.stop.id,
                sequence=door.stop.sequence,
                address=door.stop.address or first.full_address,
                recipient=", ".join(recipients),
                # Every order's at a shared door (a gate code may be on the second one).
                instructions=" · ".join(
                    dict.fromkeys(
                        text
                        for p in door.parcels
                        if (text := orders[p.order_id].delivery_instructions)
                    )
                )
                or None,
                lat=door.stop.lat,
                lng=door.stop.lng,
                eta_at=etas.get(door.stop.id),
                status=status,
                parcels=[RouteParcel(code=p.tracking_code, state=p.state) for p in door.parcels],
                navigation=nav_links(door.stop.lat, door.stop.lng, recipients[0]),
                needs_photo=_policy(door.parcels, orders, policies).photo.value
                in ("required", "warn"),
            )
        )
    return RouteOut(
        store=staff.node.code,
        service_date=day,
        stops=stops,
        distance_m=distance,
        duration_s=duration,
        # Every parcel still to deliver is out (one scanned in since, or carried over from a
        # day not set off, asks to set off again).
        started=bool(todo) and all(p.state is PackageState.OUT_FOR_DELIVERY for p in todo),
    )


def deliver(
    session: Session,
    staff: Staff,
    stop_id: int,
    body: StaffDoorIn,
    *,
    photo_key: str | None,
    now: datetime,
    far_m: int,
) -> DoorOut:
    # One request at a time per door: a double tap waits, then finds the first one's proofs.
    session.scalar(select(Stop.id).where(Stop.id == stop_id).with_for_update())
    earlier = _replay(session, staff, body.client_event_id, stop_id)
    if earlier:
        return _out(session, earlier, replayed=True)
    door, orders = _door(session, staff, stop_id, now)
    policy = _policy(door.to_deliver, orders, _policies(session, orders))
    skipped = check_given(policy, {ProofKind.PHOTO} if photo_key else set(), set())
    where = position(body.lat, body.lng, body.accuracy_m)
    distance = where.distance_m(door.stop.lat, door.stop.lng)
    far = distance > far_m
    if far and not body.confirm_far:
        raise FarFromAddress(
            f"you are {distance} m from the address; deliver there, or confirm (confirm_far)",
            field="confirm_far",
            distance_m=distance,
            limit_m=far_m,
        )
    proofs = []
    for package in door.to_deliver:
        _leave_store(session, staff, package, now)
        proof = _proof(staff, door, package, body, ProofOutcome.DELIVERED, photo_key, distance, now)
        proof.flagged = far or bool(skipped)
        session.add(proof)
        session.flush()
        proofs.append(proof)
        transition_package(
            session,
            package,
            PackageState.DELIVERED,
            actor=staff.actor,
            reason="staff_route",
            data={
                "store": staff.node.code,
                "stop_id": door.stop.id,
                "proof_id": proof.id,
                "photo_key": photo_key,
                "distance_m": distance,
                "happened_at": body.at.isoformat(),
                "pay_cents": staff.store.pay_per_package_cents,
            }
            | ({"flagged": True} if proof.flagged else {}),
            at=now,
        )
        if far:
            # As a driver's far delivery is: the operator looks at where it was left.
            session.add(
                OpsException(
                    kind=ExceptionKind.FAR_FROM_ADDRESS,
                    package_id=package.id,
                    node_id=staff.node.id,
                    detail=f"{package.tracking_code} delivered {distance} m from its address "
                    f"(confirmed by {staff.node.code}'s staff)",
                    data={
                        "code": package.tracking_code,
                        "stop_id": door.stop.id,
                        "distance_m": distance,
                        "proof_id": proof.id,
                    },
                    opened_at=now,
                    opened_by=staff.actor,
                )
            )
    return _leave(session, door, StopStatus.COMPLETED, proofs, now)


def attempt(
    session: Session,
    staff: Staff,
    stop_id: int,
    body: StaffAttemptIn,
    *,
    photo_key: str | None,
    now: datetime,
    secret_key: str,
    counter_days: int,
    public_url: str,
) -> DoorOut:
    """Unable to deliver: the parcels go back to the counter for the shopper, who is told."""
    # One request at a time per door: a double tap waits, then finds the first one's proofs.
    session.scalar(select(Stop.id).where(Stop.id == stop_id).with_for_update())
    earlier = _replay(session, staff, body.client_event_id, stop_id)
    if earlier:
        return _out(session, earlier, replayed=True)
    door, _ = _door(session, staff, stop_id, now)
    where = position(body.lat, body.lng, body.accuracy_m)
    distance = where.distance_m(door.stop.lat, door.stop.lng)
    proofs = []
    for package in door.to_deliver:
        _leave_store(session, staff, package, now)
        package.delivery_attempts += 1
        proof = _proof(staff, door, package, body, ProofOutcome.ATTEMPTED, photo_key, distance, now)
        proof.reason = body.reason
        session.add(proof)
        session.flush()
        proofs.append(proof)
        data = {"store": staff.node.code, "stop_id": door.stop.id, "proof_id": proof.id}
        transition_package(
            session,
            package,
            PackageState.DELIVERY_ATTEMPTED,
            actor=staff.actor,
            reason=body.reason,
            data=data | {"photo_key": photo_key, "distance_m": distance},
            at=now,
        )
        transition_package(
            session,
            package,
            PackageState.AT_PARTNER_STORE,
            actor=staff.actor,
            reason="held_at_counter",
            data=data,
            at=now,
        )
        counter.hold(
            session,
            staff.node,
            package,
            now=now,
            by=staff.actor,
            secret_key=secret_key,
            counter_days=counter_days,
            public_url=public_url,
        )
    return _leave(session, door, StopStatus.FAILED, proofs, now)


def from_the_phone(
    sessions: sessionmaker[Session],
    token: str,
    *,
    photo: bytes | None,
    now: datetime,
    settings: Settings,
    store: BlobStore,
    act: Callable[[Session, Staff, str | None], DoorOut],
) -> DoorOut:
    """A door as the phone sends it: the photo checked and stored before the transaction
    (by the drivers' code), ``act`` in a unit of work of its own; the photo deleted again if
    the door is refused or was accepted before."""
    stored: Stored = store_files(
        store, photo=photo, signature=None, now=now, max_bytes=settings.photo_max_bytes
    )
    try:
        with unit_of_work(sessions) as session:
            out = act(session, accounts.authenticate(session, token, now=now), stored.photo)
    except BaseException:
        stored.forget(store)
        raise
    if out.replayed:
        stored.forget(store)
    return out


def _doors(session: Session, staff: Staff, now: datetime) -> tuple[list[_Door], dict[int, Order]]:
    """Today's stops of the store's route with the parcels scanned in there, in order, after
    the doors of earlier days' routes whose parcels are still at the store to deliver."""
    day = store_today(staff.node, now)
    # A plan made after the drop keeps the dropped parcels' stops on the earlier route and
    # routes what it adds anew: the day's route is all of them, the earlier first.
    routes: dict[int, date] = dict(
        session.execute(
            select(Route.id, Route.service_date).where(
                Route.channel == Channel.PARTNER_STORE,
                Route.start_node_id == staff.node.id,
                Route.service_date <= day,
                Route.block_id.is_(None),
            )
        ).all()
    )
    if not routes:
        return [], {}
    today = [route_id for route_id, served in routes.items() if served == day]
    earlier = {route_id for route_id, served in routes.items() if served < day}
    rows = session.execute(
        select(Stop, Package, Order)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .join(Package, Package.id == StopPackage.package_id)
        .join(Order, Order.id == Package.order_id)
        .join(ManifestItem, ManifestItem.package_id == Package.id)
        .where(
            ManifestItem.outcome == SCANNED,
            or_(
                Stop.route_id.in_(today),
                # A door the staff did not get to on its day (the store closed, time ran
                # out) stays theirs: no plan takes a parcel back from a store's shelf, and
                # it would wait there, on no screen, with its shopper told nothing.
                and_(Stop.route_id.in_(earlier), Package.state.in_(ON_THE_WAY)),
            ),
        )
        .order_by(Stop.route_id, Stop.sequence, Package.tracking_code)
    ).all()
    held = set(
        session.scalars(
            select(CounterParcel.package_id).where(
                CounterParcel.package_id.in_([p.id for _, p, _ in rows])
            )
        )
    )
    by_stop: dict[int, tuple[Stop, list[Package]]] = {}
    orders: dict[int, Order] = {}
    for stop, package, order in rows:
        by_stop.setdefault(stop.id, (stop, []))[1].append(package)
        orders[order.id] = order
    doors = [_Door(stop, parcels, held) for stop, parcels in by_stop.values()]
    # An earlier day's door shows only while it has a parcel to deliver (not one kept at
    # the counter for its shopper).
    return [d for d in doors if d.to_deliver or d.stop.route_id not in earlier], orders


def _door(
    session: Session, staff: Staff, stop_id: int, now: datetime
) -> tuple[_Door, dict[int, Order]]:
    doors, orders = _doors(session, staff, now)
    door = next((d for d in doors if d.stop.id == stop_id), None)
    if door is None:
        raise StopNotFound(f"no stop {stop_id} on today's route", field="stop_id")
    if not door.to_deliver:
        raise StopAlreadyDone(f"stop {stop_id} is done", stop_id=stop_id)
    return door, orders


def _leave(
    session: Session, door: _Door, status: StopStatus, proofs: list[DeliveryProof], now: datetime
) -> DoorOut:
    door.stop.status, door.stop.completed_at = status, now
    door.stop.arrived_at = door.stop.arrived_at or now
    session.flush()
    return _out(session, proofs, replayed=False)


def _leave_store(
    session: Session,
    staff: Staff,
    package: Package,
    now: datetime,
    *,
    reason: str = STRAIGHT_TO_THE_DOOR,
) -> None:
    """The parcel leaves the store's shelf for its door: when the route starts, or at the
    door itself if the staff did not start it (then "delivered" tells the shopper, not an
    "out for delivery" in the same second)."""
    if package.state is PackageState.AT_PARTNER_STORE:
        transition_package(
            session,
            package,
            PackageState.OUT_FOR_DELIVERY,
            actor=staff.actor,
            reason=reason,
            data={"store": staff.node.code},
            at=now,
        )


def _proof(
    staff: Staff,
    door: _Door,
    package: Package,
    body: StaffDoorIn,
    outcome: ProofOutcome,
    photo_key: str | None,
    distance: int,
    now: datetime,
) -> DeliveryProof:
    return DeliveryProof(
        package_id=package.id,
        stop_id=door.stop.id,
        actor=staff.actor,
        outcome=outcome,
        photo_key=photo_key,
        lat=body.lat,
        lng=body.lng,
        accuracy_m=body.accuracy_m,
        distance_m=distance,
        note=body.note,
        happened_at=body.at,
        received_at=now,
        client_event_id=body.client_event_id,
    )


def _replay(
    session: Session, staff: Staff, client_event_id: str, stop_id: int
) -> list[DeliveryProof]:
    proofs = list(
        session.scalars(
            select(DeliveryProof)
            .where(
                DeliveryProof.client_event_id == client_event_id,
                DeliveryProof.actor == staff.actor,
                DeliveryProof.stop_id == stop_id,
            )
            .order_by(DeliveryProof.id)
        )
    )
    return proofs


def _out(session: Session, proofs: list[DeliveryProof], *, replayed: bool) -> DoorOut:
    codes = dict(
        session.execute(
            select(Package.id, Package.tracking_code).where(
                Package.id.in_([p.package_id for p in proofs])
            )
        ).all()
    )
    first = proofs[0]
    assert first.stop_id is not None
    return DoorOut(
        stop_id=first.stop_id,
        outcome="delivered" if first.outcome is ProofOutcome.DELIVERED else "at_counter",
        replayed=replayed,
        codes=[codes[p.package_id] for p in proofs],
        photo_key=first.photo_key,
        distance_m=first.distance_m,
        flagged=any(p.flagged for p in proofs),
    )


def _policies(session: Session, orders: dict[int, Order]) -> dict[int, dict[str, str]]:
    ids = {o.merchant_id for o in orders.values()}
    if not ids:
        return {}
    rows = session.execute(select(Merchant.id, Merchant.proof_policy).where(Merchant.id.in_(ids)))
    return {merchant_id: policy or {} for merchant_id, policy in rows}


def _policy(
    parcels: list[Package], orders: dict[int, Order], policies: dict[int, dict[str, str]]
) -> ProofPolicy:
    # A staff member asks no PIN (the shopper was never told one for a store's delivery).
    return ProofPolicy.strictest(
        policy_for(policies.get(orders[p.order_id].merchant_id), p.proof_policy, None)
        for p in parcels
    )
