"""The stop list a driver follows, and the ETAs the shopper sees.

The itinerary is the block's stops in driving order, each with what the driver needs at the
curb: the address, who receives it and their instructions, the parcels, the time window, the
planned arrival and the current ETA, the proof the door needs, and links that open the phone's
navigation. The block adds its check-in slot, its start node (with the parcels to scan there)
and the station undelivered parcels go back to.

ETAs are re-timed after every check-in, departure, delivery and attempt: from where the phone
is, at the time it is, through the remaining stops in order, with the one travel model (timed
at the hour the driver sets off, as the planner times a wave) and each stop's service time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.proof import ProofPolicy, policy_for
from doorstep.drivers.road.load import (
    BlockLoad,
    Position,
    held_block,
    load_block,
    seconds_of_day,
    station_of,
)
from doorstep.drivers.road_schemas import (
    ItineraryOut,
    ItineraryStop,
    NavLinks,
    ParcelOut,
    ProofNeeds,
    ReturnAtDoor,
    StartOut,
)
from doorstep.geo import TravelModel
from doorstep.models import (
    Driver,
    Merchant,
    Node,
    Package,
    Stop,
    StopKind,
    is_reload,
    trip_numbers,
)
from doorstep.tracking import returns as shopper_returns


def retime(load: BlockLoad, where: Position | None, now: datetime, travel: TravelModel) -> None:
    """Store a fresh ``eta_at`` on every stop still ahead (flushed with the caller's work)."""
    ahead = load.remaining()
    if not ahead:
        return
    origin = (where.lat, where.lng) if where else (load.start.lat, load.start.lng)
    durations = travel.matrix(
        [origin, *((s.lat, s.lng) for s in ahead)], depart_s=seconds_of_day(now, load.start)
    ).durations
    clock, previous = now, 0
    for index, stop in enumerate(ahead, start=1):
        clock += timedelta(seconds=int(durations[previous, index]))
        stop.eta_at = clock
        # Service starts when the window opens (a store that opens later): waiting is not
        # driving.
        clock = max(clock, stop.window_start or clock) + timedelta(seconds=stop.service_s)
        previous = index


def nav_links(lat: float, lng: float, label: str) -> NavLinks:
    point = f"{lat:.6f},{lng:.6f}"
    return NavLinks(
        geo=f"geo:{point}?q={point}({quote(label, safe='')})",
        google="https://www.google.com/maps/dir/?"
        + urlencode({"api": "1", "destination": point}, safe=","),
        apple="https://maps.apple.com/?" + urlencode({"daddr": point}, safe=","),
    )


def merchant_policies(session: Session, load: BlockLoad) -> dict[int, dict[str, str]]:
    """The proof settings of the merchants whose parcels the block carries."""
    ids = {o.merchant_id for o in load.orders.values()}
    if not ids:
        return {}
    rows = session.execute(select(Merchant.id, Merchant.proof_policy).where(Merchant.id.in_(ids)))
    return {merchant_id: policy or {} for merchant_id, policy in rows}


def parcels_policy(
    load: BlockLoad, parcels: list[Package], policies: dict[int, dict[str, str]]
) -> ProofPolicy:
    """The strictest proof each kind asks for among ``parcels`` (a PIN only where the parcel
    has one)."""
    return ProofPolicy.strictest(
        policy_for(policies.get(load.orders[p.order_id].merchant_id), p.proof_policy, p.pin_hash)
        for p in parcels
    )


def itinerary(session: Session, driver: Driver, block_id: int) -> ItineraryOut:
    block = held_block(session, driver, block_id, lock=False)
    load = load_block(session, block)
    policies = merchant_policies(session, load)
    nodes = _nodes(session, {s.node_id for s in load.stops if s.node_id is not None})
    # A multi-trip block comes back to the station for its next load: a stop with its scans.
    reloads = [
        is_reload(s, nodes.get(s.node_id) if s.node_id is not None else None) for s in load.stops
    ]
    start = load.start
    return ItineraryOut(
        block_id=block.id,
        status=block.status,
        starts_at=block.starts_at,
        ends_at=block.ends_at,
        arrival_opens_at=block.arrival_opens_at,
        arrival_closes_at=block.arrival_closes_at,
        checked_in_at=block.checked_in_at,
        completed_at=block.completed_at,
        return_due_at=block.return_due_at,
        station=station_of(session, block).code,
        pay_cents=block.pay_cents,
        stop_count=block.stop_count,
        package_count=block.package_count,
        start=StartOut(
            code=start.code,
            name=start.name,
            address=start.address,
            lat=start.lat,
            lng=start.lng,
            navigation=nav_links(start.lat, start.lng, start.name),
            to_scan=sorted(p.tracking_code for p in load.unscanned_at_start()),
            parcels=len(load.at_start()),
        ),
        stops=[
            _stop(load, stop, nodes, policies).model_copy(update={"trip": trip, "reload": reload})
            for stop, reload, trip in zip(load.stops, reloads, trip_numbers(reloads), strict=True)
        ],
        trips=1 + sum(reloads),
        returns_in_car=[r.public_id for r in shopper_returns.in_car(session, block.id)],
    )


def _stop(
    load: BlockLoad, stop: Stop, nodes: dict[int, Node], policies: dict[int, dict[str, str]]
) -> ItineraryStop:
    parcels = load.live.get(stop.id, [])
    door_returns = load.door_returns.get(stop.id, [])
    orders = [load.orders[p.order_id] for p in parcels] + [
        load.orders[r.order_id] for r in door_returns
    ]
    node = nodes.get(stop.node_id) if stop.node_id is not None else None
    if node is not None:
        address = node.address or node.name
    else:
        address = stop.address or (orders[0].full_address if orders else "")
    recipients = list(dict.fromkeys(o.recipient_name for o in orders))
    label = node.name if node is not None else (recipients[0] if recipients else address)
    proof = promised = None
    if stop.kind is StopKind.DELIVERY:
        # Without a window of its own, a door must be reached by its parcels' promise.
        promised = min((p.promised_by for p in parcels), default=None)
        policy = parcels_policy(load, parcels, policies)
        proof = ProofNeeds(
            photo=policy.photo, signature=policy.signature, pin=policy.pin, scan=policy.scan
        )
    return ItineraryStop(
        id=stop.id,
        sequence=stop.sequence,
        kind=stop.kind,
        status=load.status_of(stop),
        site=node.code if node is not None else None,
        name=node.name if node is not None else None,
        address=address,
        lat=stop.lat,
        lng=stop.lng,
        recipients=recipients if stop.kind is StopKind.DELIVERY or door_returns else [],
        delivery_instructions=list(
            dict.fromkeys(o.delivery_instructions for o in orders if o.delivery_instructions)
        )
        if stop.kind is StopKind.DELIVERY or door_returns
        else [],
        package_count=len(parcels),
        parcels=[_parcel(load, p) for p in parcels],
        window_start=stop.window_start,
        window_end=stop.window_end or promised,
        planned_arrival_at=stop.planned_arrival_at,
        eta_at=stop.eta_at,
        arrived_at=stop.arrived_at,
        completed_at=stop.completed_at,
        proof=proof,
        navigation=nav_links(stop.lat, stop.lng, label),
        returns=[
            ReturnAtDoor(
                code=r.public_id,
                recipient=load.orders[r.order_id].recipient_name,
                items=[{"sku": i["sku"], "quantity": i["quantity"]} for i in r.items],
                collected=r.collected_block_id == load.block.id,
            )
            for r in door_returns
        ],
    )


def _parcel(load: BlockLoad, package: Package) -> ParcelOut:
    return ParcelOut(
        code=package.tracking_code,
        state=package.state,
        recipient=load.orders[package.order_id].recipient_name,
    )


def _nodes(session: Session, ids: set[int]) -> dict[int, Node]:
    if not ids:
        return {}
    return {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(ids)))}
