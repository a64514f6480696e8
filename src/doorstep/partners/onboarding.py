"""A store the operator invited finishes its onboarding: the staff's phone at the store's
address (the location check), then the store's own settings — the weekly hours and closed
days, how many parcels a day it takes, how far its staff deliver (10 miles at most, the
default) — and its acceptance of the pay per package the operator set. The store is onboarded
once both are done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from doorstep.drivers.road.load import inside_geofence, position
from doorstep.errors import DomainError
from doorstep.models import PartnerStoreClosedDay
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import LocationIn, LocationOut, ProfileIn, StaffOut, StoreOut


class LocationNotChecked(DomainError):
    status = 409
    code = "location_not_checked"


class PayNotAccepted(DomainError):
    status = 409
    code = "pay_not_accepted"


def store_out(session: Session, staff: Staff) -> StoreOut:
    session.refresh(staff.store, ["closed_days"])
    node, store = staff.node, staff.store
    return StoreOut(
        code=node.code,
        name=node.name,
        address=node.address,
        lat=node.lat,
        lng=node.lng,
        timezone=node.timezone,
        opening_hours=store.opening_hours,
        closed_days=[closed.day for closed in store.closed_days],
        daily_capacity=node.daily_capacity,
        service_radius_m=store.service_radius_m,
        pay_per_package_cents=store.pay_per_package_cents,
        location_checked_at=store.location_checked_at,
        onboarded_at=store.onboarded_at,
        staff=StaffOut(id=staff.user.id, name=staff.user.name, email=staff.user.email),
    )


def check_location(
    session: Session, staff: Staff, body: LocationIn, *, now: datetime, radius_m: int
) -> LocationOut:
    """The phone is at the store (within ``radius_m`` of its address), or `OutsideGeofence`."""
    where = position(body.lat, body.lng, body.accuracy_m)
    distance = inside_geofence(where, staff.node, radius_m, doing="check the store's location")
    staff.store.location_checked_at = now
    session.flush()
    return LocationOut(distance_m=distance, location_checked_at=now)


def save_profile(session: Session, staff: Staff, body: ProfileIn, *, now: datetime) -> StoreOut:
    """The store's hours, closed days, capacity and radius, after the location check; the
    first save accepts the pay (without it nothing is written) and finishes the onboarding."""
    store = staff.store
    if store.location_checked_at is None:
        raise LocationNotChecked(
            "check the store's location first (from a phone at the store)", field="location"
        )
    if store.onboarded_at is None and not body.accept_pay:
        raise PayNotAccepted(
            f"accept the pay of {store.pay_per_package_cents} cents per package to finish "
            "onboarding (accept_pay)",
            field="accept_pay",
        )
    session.refresh(store, ["closed_days"])
    store.opening_hours = body.opening_hours
    store.service_radius_m = body.service_radius_m
    wanted = sorted(set(body.closed_days))
    if [closed.day for closed in store.closed_days] != wanted:
        store.closed_days = [PartnerStoreClosedDay(day=day) for day in wanted]
    staff.node.daily_capacity = body.daily_capacity
    store.onboarded_at = store.onboarded_at or now
    session.flush()
    return store_out(session, staff)
