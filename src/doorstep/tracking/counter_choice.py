"""After a failed delivery: the shopper may collect the parcel at a partner store's counter
instead of waiting for another try at the door.

Offered on the tracking page while the parcel is between tries (``delivery_attempted`` on its
way back, or back at the station ``ready_for_pickup``) and the address is within the radius
of a partner store that the parcel's station drops batches at (its nearest station), open on
one of the next two days with room then (`promise.rules.counter_day`, the checkout's rule).
Choosing one writes the parcel's counter choice and moves its service to that store and day:
the station's next plan puts it on the store's batch, off the staff route (as a pick-up chosen
at checkout), and the store's scan-in keeps it at the counter and sends the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.errors import DomainError
from doorstep.geo import haversine_m
from doorstep.models import Channel, CounterChoice, NodeKind, Order, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.promise import rules
from doorstep.promise.capacity import committed_volume
from doorstep.promise.network import load_snapshot
from doorstep.tracking.repository import find_package
from doorstep.tracking.schemas import CounterOffer

# Between tries: on its way back to the station, or back there waiting for the next plan.
BETWEEN_TRIES = frozenset({PackageState.DELIVERY_ATTEMPTED, PackageState.READY_FOR_PICKUP})
AFTER_ATTEMPT = "after_attempt"


class CounterNotOffered(DomainError):
    """The store is not (or no longer) offered for this parcel: it is not between tries, the
    store does not reach the address, or it is closed or full on the next two days."""

    status = 409
    code = "pickup_unavailable"


@dataclass(frozen=True)
class _Offer:
    store_id: int
    day: date
    out: CounterOffer


def eligible(package: Package, chosen: bool) -> bool:
    """A parcel tried at the door, not yet back on a route, and not at a counter already."""
    return (
        package.state in BETWEEN_TRIES
        and package.delivery_attempts > 0
        and package.channel is not Channel.PARTNER_STORE
        and not chosen
    )


def counter_offers(
    session: Session, package: Package, order: Order, *, now: datetime
) -> list[CounterOffer]:
    """The counters the shopper may choose for ``package`` now (none if not eligible)."""
    return [offer.out for offer in _offers(session, package, order, now)]


def choose_counter(session: Session, token: str, store_code: str, *, now: datetime) -> Package:
    """The shopper collects the parcel behind ``token`` at ``store_code``'s counter."""
    package = session.get_one(Package, find_package(session, token), with_for_update=True)
    order = session.get_one(Order, package.order_id)
    offer = next(
        (o for o in _offers(session, package, order, now) if o.out.store_code == store_code),
        None,
    )
    if offer is None:
        raise CounterNotOffered(
            "that store can't keep this parcel: it is not near the address, is closed or "
            "full, or the parcel is already on its way",
            field="store",
        )
    session.add(
        CounterChoice(
            package_id=package.id,
            partner_store_id=offer.store_id,
            chosen_in=AFTER_ATTEMPT,
            chosen_at=now,
        )
    )
    # The store's day: what its capacity counts, and the wave the next plan puts it in.
    package.serving_node_id = offer.store_id
    package.service_date = offer.day
    package.updated_at = now
    session.flush()
    return package


def _offers(session: Session, package: Package, order: Order, now: datetime) -> list[_Offer]:
    if not eligible(package, False):
        return []  # most pages: no query at all
    chosen = session.scalar(
        select(CounterChoice.package_id).where(CounterChoice.package_id == package.id)
    )
    if chosen is not None:
        return []
    network = load_snapshot(session)
    stations = [p for p in network.places.values() if p.kind is NodeKind.STATION]
    station_id = package.serving_node_id

    def nearest_station(place: rules.Place) -> int | None:
        found = min(
            stations,
            key=lambda s: (haversine_m(s.lat, s.lng, place.lat, place.lng), s.code),
            default=None,
        )
        return found.id if found else None

    # Only a store on this station's morning run: the parcel is (or will be) at the station.
    partners = [
        p
        for p in network.partners_for(order.dest_lat, order.dest_lng)
        if nearest_station(p.place) == station_id
    ]
    if not partners:
        return []
    used = committed_volume(session, now.date(), [p.place.id for p in partners])
    policy = rules.PromisePolicy()
    offers: list[_Offer] = []
    for partner in sorted(partners, key=lambda p: (p.distance_m, p.place.id)):
        if len(offers) >= policy.pickup_stores:
            break
        found = rules.counter_day(partner, now, used, policy)
        if found is None:
            continue
        _, day, ready = found
        offers.append(
            _Offer(
                partner.place.id,
                day,
                CounterOffer(
                    store_code=partner.place.code,
                    store_name=partner.place.name,
                    store_address=partner.address,
                    store_hours=rules.hours_text(partner.opening_hours),
                    ready_text=rules.pickup_label(ready, partner.place.tz, now),
                    ready_by=ready,
                ),
            )
        )
    return offers
