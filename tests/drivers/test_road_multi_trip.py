"""A multi-trip block on the road: trip 1 is loaded at check-in, trip 2 at a stop back at
the station with its own scans; the plan's JSON lists the trips."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.drivers import accounts, offers
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.models import Block, Node, NodeKind, Package, StopKind, StopStatus
from doorstep.network.service import import_network_file
from doorstep.orders.lifecycle import PackageState
from doorstep.planning import plan_views
from doorstep.planning.core import plan_all_own_drivers
from doorstep.planning.loading import DriverPlan, Trips
from doorstep.planning.schemas import BlockDetailOut
from doorstep.planning.service import WaveSolve, prepare_wave, store_wave
from doorstep.tracking.repository import load_facts
from tests.conftest import EXAMPLES
from tests.drivers.road import DAY, OFFERS, Road, hand_over, new_driver
from tests.shop import local

#: A station driver and a mall driver with small cars (20 litres) who may come back to the
#: station twice: the station's parcels that fit a car (25 litres of them) need two loads.
SMALL_CARS = DriverPlan(1, 1, capacity_cm3=20_000, trips=Trips(max_reloads=2, reload_s=900))


@pytest.fixture
def multi_trip(session: Session, client: TestClient) -> Road:
    """The reloading block (`reloading_block`) handed to a driver."""
    block = reloading_block(session)
    driver, token = new_driver(session)
    hand_over(session, block, driver)

    def set_clock(at: datetime) -> None:
        client.app.state.clock = lambda: at  # type: ignore[attr-defined]

    return Road(session, client, driver, token, block, set_clock)


def reloading_block(session: Session) -> Block:
    """The wave routed by our own drivers alone (the planner's baseline: every parcel that
    fits a car rides, so the station car must reload), stored and put on offer by the
    planning service: its block that comes back to the station."""
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=60, order_time=local(9), console_password=None)
    prepared = prepare_wave(session, "DCH1", DAY, drivers=SMALL_CARS, seed=1, now=local(7))
    task = WaveSolve("DCH1", prepared.wave.day, time_limit_s=10, seed=1, max_iterations=2_000)
    solved = plan_all_own_drivers(task.day, time_limit_s=10, seed=1, max_iterations=2_000)
    assert any(len(b.trips()) > 1 for b in solved.blocks), "no block came back to the station"
    run = store_wave(session, prepared, task, solved=solved, offers=OFFERS)
    return next(
        b
        for b in session.scalars(select(Block).order_by(Block.id))
        if len(plan_views.block_detail(session, run.plan.id, b.id).trips) > 1
    )


def test_the_plan_lists_the_block_trips(multi_trip: Road) -> None:
    road = multi_trip
    assert road.block.plan_id is not None
    detail = BlockDetailOut.model_validate(
        plan_views.block_detail(road.session, road.block.plan_id, road.block.id)
    ).model_dump(mode="json")
    trips = detail["trips"]
    assert [t["trip"] for t in trips] == list(range(1, len(trips) + 1))
    assert all(t["loaded_at"] == "DCH1" for t in trips)
    reloads = [s for s in detail["itinerary"] if s["reload"]]
    assert len(reloads) == len(trips) - 1
    for reload in reloads:
        assert reload["kind"] == "pickup"
        assert reload["site"] == "DCH1"
        assert reload["parcels"]  # the next trip's, scanned there
    # Every stop is on one trip, in order; each trip's parcels are delivered on it.
    assert sorted(s for t in trips for s in t["stops"]) == [
        s["sequence"] for s in detail["itinerary"]
    ]
    delivered = sum(len(s["parcels"]) for s in detail["itinerary"] if s["kind"] == "delivery")
    assert sum(t["parcels"] for t in trips) == delivered == detail["packages"]
    for trip in trips[1:]:
        assert trip["departs_at"] > trips[0]["departs_at"]


def test_the_driver_loads_trip_two_at_the_station(multi_trip: Road) -> None:
    road = multi_trip
    assert road.check_in().status_code == 200
    itinerary = road.client.get(road.url(), headers=road.headers).json()
    assert itinerary["trips"] >= 2
    reload = next(s for s in itinerary["stops"] if s["reload"])
    assert reload["kind"] == "pickup"
    assert reload["site"] == "DCH1"
    assert reload["trip"] == 2
    first_trip = [s for s in itinerary["stops"] if s["trip"] == 1]
    assert first_trip
    assert not any(s["reload"] for s in first_trip)
    station = road.session.scalars(select(Node).where(Node.code == "DCH1")).one()
    assert station.kind is NodeKind.STATION
    # At check-in only the first trip is scanned: the second waits at the station.
    trip_one = {p["code"] for s in first_trip if s["kind"] == "delivery" for p in s["parcels"]}
    trip_two = {p["code"] for p in reload["parcels"]}
    assert set(itinerary["start"]["to_scan"]) == trip_one
    assert not trip_one & trip_two
    for n, code in enumerate(sorted(trip_one)):
        answer = road.post("/scans", {"code": code, "at": local(10, 55).isoformat(),
                                      "client_event_id": f"t1-{n}"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["pickup_stop_id"] is None
    departed = road.post("/depart")
    assert departed.status_code == 200, departed.text
    assert set(departed.json()["out_for_delivery"]) == trip_one
    # Back at the station: the reload stop's own scans load trip 2.
    for n, code in enumerate(sorted(trip_two)):
        answer = road.post("/scans", {"code": code, "at": local(13).isoformat(),
                                      "client_event_id": f"t2-{n}"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["pickup_stop_id"] == reload["id"]
    load = road.load()
    stop = load.stop(reload["id"])
    assert stop is not None
    assert stop.kind is StopKind.PICKUP
    assert stop.status is StopStatus.COMPLETED
    assert {
        p.tracking_code for p in load.packages.values() if p.state is PackageState.PICKED_UP
    } == trip_two


def test_the_block_page_shows_the_way_back_to_load(multi_trip: Road) -> None:
    road = multi_trip
    road.check_in()
    road.set_clock(local(11))
    page = road.client
    page.cookies.set(
        SESSION_COOKIE, accounts.issue_session(road.session, road.driver, now=local(11), page=True)
    )
    html = page.get(f"/driver/blocks/{road.block.id}").text
    assert "Back to Chandler Delivery Station: load trip 2" in html
    reload = next(s for s in road.load().stops if s.kind is StopKind.PICKUP)
    stop = page.get(f"/driver/blocks/{road.block.id}/stops/{reload.id}").text
    assert "Back to the station: load trip 2" in stop
    assert "Scan trip 2&#39;s parcels" in stop or "Scan trip 2's parcels" in stop


def test_a_reload_counts_as_no_stop_for_the_offer_or_the_shopper(multi_trip: Road) -> None:
    """The driver's list shows the way back to the station; the block's stop count (what its
    offer says) and the stops a shopper's page and messages count before the door
    (`tracking.repository`) are deliveries and pickups alone."""
    road = multi_trip
    assert road.check_in().status_code == 200
    itinerary = road.client.get(road.url(), headers=road.headers).json()
    stops = itinerary["stops"]
    reload = next(s for s in stops if s["reload"])
    assert itinerary["stop_count"] == road.block.stop_count == sum(not s["reload"] for s in stops)
    # A parcel of trip 2: the doors of trip 1 and those before its own on trip 2 are ahead,
    # the way back to the station is not.
    last = [s for s in stops if s["kind"] == "delivery"][-1]
    assert last["sequence"] > reload["sequence"]
    code = last["parcels"][0]["code"]
    package = road.session.scalars(select(Package).where(Package.tracking_code == code)).one()
    facts = load_facts(road.session, [package.id])[package.id]
    doors_before = [s for s in stops if s["sequence"] < last["sequence"] and not s["reload"]]
    assert facts.stops_ahead == len(doors_before)


def test_the_offer_of_a_reloading_block_counts_its_doors(session: Session) -> None:
    block = reloading_block(session)
    assert block.plan_id is not None
    itinerary = plan_views.block_detail(session, block.plan_id, block.id).itinerary
    doors = [s for s in itinerary if not s.reload]
    assert len(doors) < len(itinerary)
    driver, _ = new_driver(session)
    [offer] = [
        view
        for view in offers.list_offers(session, driver, now=local(8), policy=OFFERS)
        if view.block_id == block.id
    ]
    assert offer.stop_count == len(doors)


def test_a_trip_missing_at_the_station_takes_its_doors_off_the_count_not_the_reload(
    multi_trip: Road,
) -> None:
    road = multi_trip
    assert road.check_in().status_code == 200
    stops = road.client.get(road.url(), headers=road.headers).json()["stops"]
    reload = next(s for s in stops if s["reload"])
    trip_two = [s for s in stops if s["trip"] == 2 and not s["reload"]]
    before = road.block.stop_count
    answer = road.post("/missing", {"codes": [p["code"] for p in reload["parcels"]]})
    assert answer.status_code == 200, answer.text
    # The reload and the doors of trip 2 are left empty (skipped); only the doors counted.
    assert reload["id"] in answer.json()["skipped_stops"]
    assert answer.json()["stop_count"] == before - len(trip_two)
