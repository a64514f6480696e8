"""After a driver's failed attempt, the shopper chooses a partner store's counter from the
tracking page: the next plan puts the parcel on that store's batch, off its staff route."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from doorstep.drivers.road.load import station_of
from doorstep.drivers.road.returns import back_at_station
from doorstep.geo import haversine_m
from doorstep.models import (
    CounterChoice,
    ManifestItem,
    Node,
    Package,
    PartnerStore,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.drivers.road import Road, delivery_stops
from tests.shop import local
from tests.tracking.conftest import parcels_at

CAFE = "PS-SUNLAKES-CAFE"
NEXT_DAY = date(2026, 11, 25)


def test_after_a_failed_attempt_the_shopper_picks_a_counter(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    stop = delivery_stops(session, road.block)[0]
    cafe = session.scalars(select(Node).where(Node.code == CAFE)).one()
    # The café's staff reach this door (the example's radius stops short of the block).
    reach = session.get_one(PartnerStore, cafe.id)
    reach.service_radius_m = round(haversine_m(cafe.lat, cafe.lng, stop.lat, stop.lng)) + 1000
    session.flush()
    package = parcels_at(session, stop)[0]
    token = package.tracking_token
    before = client.get(f"/track/{token}").text
    assert "Collect it at a store instead" not in before  # not tried at the door yet

    road.attempt(stop, now=local(11, 30))
    road.set_clock(local(12, 0))
    page = client.get(f"/track/{token}").text
    assert "Collect it at a store instead" in page
    assert "Sun Lakes Corner Café" in page
    assert "Ready tomorrow from 10 am" in page

    chosen = client.post(f"/track/{token}/counter", data={"store": CAFE}, follow_redirects=False)
    assert chosen.status_code == 303, chosen.text
    session.expire_all()
    choice = session.get_one(CounterChoice, package.id)
    assert (choice.partner_store_id, choice.chosen_in) == (cafe.id, "after_attempt")
    package = session.get_one(Package, package.id)
    assert package.serving_node_id == cafe.id
    assert package.service_date == NEXT_DAY
    assert "Pick up at Sun Lakes" not in client.get(f"/track/{token}").text
    again = client.post(f"/track/{token}/counter", data={"store": CAFE}, follow_redirects=False)
    assert again.status_code == 409
    assert 'data-error="pickup_unavailable"' in again.text

    # Back at the station in the evening: the chosen day stands, and the next plan puts it
    # on the café's batch for the counter, not on a route to the door.
    back_at_station(
        session,
        road.load(),
        package,
        who="station:test",
        station=station_of(session, road.block),
        now=local(18),
        max_attempts=3,
    )
    assert package.state is PackageState.READY_FOR_PICKUP
    assert package.service_date == NEXT_DAY
    plan_wave(
        session,
        "DCH1",
        NEXT_DAY,
        drivers=DriverPlan(2, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        now=local(7, day=25),
    )
    session.expire_all()
    package = session.get_one(Package, package.id)
    assert package.state is PackageState.ASSIGNED
    assert session.scalar(select(ManifestItem).where(ManifestItem.package_id == package.id))
    # It rides the morning run's drop at the store, and no stop takes it to a door.
    stops = session.scalars(
        select(Stop.kind)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .where(StopPackage.package_id == package.id)
    ).all()
    assert StopKind.DELIVERY not in stops, stops


def test_a_store_not_offered_is_refused(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    stop = delivery_stops(session, road.block)[0]
    package = parcels_at(session, stop)[0]
    # Out for delivery, never tried: nothing to choose yet.
    refused = client.post(
        f"/track/{package.tracking_token}/counter",
        data={"store": "PS-QC-FLORIST"},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert session.scalars(select(CounterChoice)).all() == []
