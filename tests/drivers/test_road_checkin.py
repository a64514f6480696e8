"""Check-in at the start node, and the stop list a driver follows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from doorstep.drivers import held
from doorstep.drivers.blocks import history
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import checkin
from doorstep.drivers.road.load import driver_clock
from doorstep.models import (
    Block,
    BlockStatus,
    ExceptionKind,
    ExceptionStatus,
    Offer,
    OfferMode,
    OfferStatus,
    OpsException,
    Package,
    Route,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.service import cancel_order
from doorstep.planning.loading import DriverPlan, load_wave
from doorstep.planning.persist import release_previous
from tests.drivers.road import DAY, Road, new_driver
from tests.shop import local


def test_check_in_inside_the_geofence_starts_the_block_on_time(road: Road) -> None:
    answer = road.check_in(local(10, 50))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "in_progress"
    assert body["on_time"] is True
    assert body["late_by_s"] == 0
    assert 100 <= body["distance_m"] <= 120  # 0.001° of latitude north of the station
    assert body["to_scan"] == road.block.package_count
    assert body["replayed"] is False
    road.session.expire_all()
    assert road.block.status is BlockStatus.IN_PROGRESS
    assert road.block.checked_in_at == local(10, 50)
    events = history(road.session, road.block.id)
    assert [(e.from_status, e.to_status) for e in events][-1] == (
        BlockStatus.ACCEPTED,
        BlockStatus.IN_PROGRESS,
    )
    assert events[-1].actor == f"driver:{road.driver.id}"
    assert events[-1].data["on_time"] is True
    assert road.driver.last_lat == road.start.lat + 0.001
    # Every stop ahead got an ETA from the travel model.
    assert all(s.eta_at is not None for s in road.load().stops)
    again = road.check_in(local(10, 58))
    assert again.status_code == 200
    assert again.json() | {"replayed": False} == body
    assert len(history(road.session, road.block.id)) == len(events)


def test_a_late_check_in_is_recorded_against_the_arrival_slot(road: Road) -> None:
    road.block.arrival_opens_at = local(10, 30)
    road.block.arrival_closes_at = local(10, 45)
    road.session.flush()
    body = road.check_in(local(10, 52)).json()
    assert body["on_time"] is False
    assert body["late_by_s"] == 7 * 60


def test_check_in_is_refused_far_away_without_a_fix_too_early_or_for_others(road: Road) -> None:
    start = road.start
    road.set_clock(local(10, 50))
    far = road.post(
        "/check-in", {"lat": start.lat + 0.01, "lng": start.lng, "at": "2026-11-24T17:50:00Z"}
    )
    assert far.status_code == 422
    assert far.json()["error"] == "outside_geofence"
    assert far.json()["context"]["radius_m"] == 300
    assert 1100 <= far.json()["context"]["distance_m"] <= 1120
    assert "300 m" in far.json()["detail"]
    blind = road.post("/check-in", {"at": "2026-11-24T17:50:00Z"})
    assert blind.status_code == 422
    assert blind.json()["error"] == "position_required"
    early = road.check_in(local(8))
    assert early.status_code == 409
    assert early.json()["error"] == "too_early_to_check_in"
    # In the driver's words and on the station's clock, not a UTC timestamp.
    opens = (road.block.arrival_opens_at or road.block.starts_at) - checkin.EARLIEST
    assert early.json()["context"]["opens_at"] == opens.isoformat()
    wait = int((opens - local(8)).total_seconds() // 60)
    hours, minutes = divmod(wait, 60)
    expected = f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    assert early.json()["detail"].startswith("check-in opens at ")
    assert early.json()["detail"].endswith(f" am, {expected}")
    assert "+00:00" not in early.json()["detail"]
    _, other_token = new_driver(road.session, "bo@example.com")
    road.set_clock(local(10, 50))
    theirs = road.client.post(
        road.url("/check-in"),
        json={"lat": start.lat, "lng": start.lng, "at": "2026-11-24T17:50:00Z"},
        headers={"Authorization": f"Bearer {other_token}"},
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"] == "block_not_found"
    road.session.expire_all()
    assert road.block.status is BlockStatus.ACCEPTED
    assert road.block.checked_in_at is None


def test_the_itinerary_lists_stops_in_order_with_links_proof_and_etas(road: Road) -> None:
    road.check_in()
    answer = road.client.get(road.url(), headers=road.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "in_progress"
    assert body["station"] == "DCH1"
    assert body["start"]["code"] == "DCH1"
    assert len(body["start"]["to_scan"]) == road.block.package_count
    stops = body["stops"]
    assert [s["sequence"] for s in stops] == sorted(s["sequence"] for s in stops)
    first = stops[0]
    assert first["kind"] == StopKind.DELIVERY
    assert first["recipients"]
    assert first["address"]
    assert first["package_count"] == len(first["parcels"]) >= 1
    assert first["window_end"] is not None  # the parcels' promise
    assert first["proof"] == {"photo": "required", "signature": "off", "pin": "off", "scan": "off"}
    lat, lng = f"{first['lat']:.6f}", f"{first['lng']:.6f}"
    links = first["navigation"]
    assert links["google"] == f"https://www.google.com/maps/dir/?api=1&destination={lat},{lng}"
    assert links["apple"] == f"https://maps.apple.com/?daddr={lat},{lng}"
    assert links["geo"].startswith(f"geo:{lat},{lng}?q={lat},{lng}(")
    etas = [datetime.fromisoformat(s["eta_at"]) for s in stops]
    assert etas == sorted(etas)
    assert etas[0] > local(10, 50)


def test_the_itinerary_follows_a_cancellation(road: Road) -> None:
    load = road.load()
    stop = next(s for s in load.stops if s.kind is StopKind.DELIVERY)
    package = load.live[stop.id][0]
    order = load.orders[package.order_id]
    cancel_order(road.session, order.merchant_id, order.public_id, now=local(9))
    road.session.flush()
    body = road.client.get(road.url(), headers=road.headers).json()
    codes = {p["code"] for s in body["stops"] for p in s["parcels"]}
    assert package.tracking_code not in codes
    assert package.tracking_code not in body["start"]["to_scan"]
    cancelled_stop = next(s for s in body["stops"] if s["id"] == stop.id)
    if not cancelled_stop["parcels"]:
        assert cancelled_stop["status"] == "skipped"


def test_a_driver_who_has_not_checked_in_half_an_hour_after_the_slot_is_flagged(
    road: Road,
) -> None:
    starts = road.block.starts_at
    assert checkin.flag_no_shows(road.session, starts + timedelta(minutes=29)) == 0
    assert checkin.flag_no_shows(road.session, starts + timedelta(minutes=31)) == 1
    assert checkin.flag_no_shows(road.session, starts + timedelta(minutes=45)) == 0
    flagged = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.NO_CHECK_IN)
    ).one()
    assert (flagged.block_id, flagged.driver_id) == (road.block.id, road.driver.id)
    # On the station's wall clock (Chandler keeps MST all year), not in UTC.
    closes = road.block.arrival_closes_at or starts
    assert flagged.detail.endswith(
        f"the slot closed at {closes - timedelta(hours=7):%a %d %b %H:%M} MST"
    )
    # Turning up after all: a late check-in, not a no-show.
    late = road.check_in(starts + timedelta(minutes=50)).json()
    assert late["on_time"] is False
    assert late["late_by_s"] == 50 * 60
    road.session.expire_all()
    assert flagged.status is ExceptionStatus.RESOLVED
    assert flagged.resolution == checkin.CHECKED_IN_LATE


def test_a_held_block_nobody_started_by_its_end_goes_back_for_a_plan_to_release(
    road: Road,
) -> None:
    # Nobody re-offered the no-show's block: held, it would keep its parcels for good.
    block = road.block
    policy = OfferPolicy(mode=OfferMode.FIRST_COME)
    # Another driver's offer, withdrawn when the no-show took the block.
    other, _ = new_driver(road.session, "bo@example.com")
    withdrawn = Offer(
        block_id=block.id,
        driver_id=other.id,
        status=OfferStatus.WITHDRAWN,
        offered_at=block.starts_at - timedelta(hours=20),
        expires_at=block.starts_at,
        responded_at=block.starts_at - timedelta(hours=19),
    )
    road.session.add(withdrawn)
    road.session.commit()
    assert held.give_back_unstarted(road.session, block.ends_at, policy=policy) == 0
    after = block.ends_at + timedelta(minutes=1)
    assert held.give_back_unstarted(road.session, after, policy=policy) == 1
    assert held.give_back_unstarted(road.session, after, policy=policy) == 0
    road.session.refresh(block)
    assert block.status is BlockStatus.OPEN
    assert block.driver_id is None
    last = history(road.session, block.id)[-1]
    assert (last.from_status, last.to_status) == (BlockStatus.ACCEPTED, BlockStatus.OPEN)
    assert last.reason == held.NEVER_STARTED
    assert last.driver_id == road.driver.id
    # The block has ended: nobody can take it, so no withdrawn offer comes back to life.
    road.session.refresh(withdrawn)
    assert withdrawn.status is OfferStatus.WITHDRAWN
    parcels = set(
        road.session.scalars(
            select(StopPackage.package_id)
            .join(Stop, Stop.id == StopPackage.stop_id)
            .join(Route, Route.id == Stop.route_id)
            .where(Route.block_id == block.id)
        )
    )
    assert parcels
    # The next plan of its wave (here the end of the day's release) frees them.
    wave = load_wave(road.session, "DCH1", DAY, DriverPlan(8, 2))
    release_previous(road.session, wave, now=after)
    status = road.session.scalar(select(Block.status).where(Block.id == block.id))
    assert status is BlockStatus.CANCELLED
    states = road.session.scalars(select(Package.state).where(Package.id.in_(parcels))).all()
    assert PackageState.ASSIGNED not in states


def test_a_started_block_is_never_given_back_at_its_end(road: Road) -> None:
    assert road.check_in(local(10, 50)).status_code == 200
    later = road.block.ends_at + timedelta(hours=1)
    policy = OfferPolicy(mode=OfferMode.FIRST_COME)
    assert held.give_back_unstarted(road.session, later, policy=policy) == 0


def test_a_time_on_another_day_is_written_with_its_day_not_a_wait(road: Road) -> None:
    tomorrow = local(9, 5) + timedelta(days=1)
    assert driver_clock(tomorrow, road.start, local(20)) == f"{tomorrow:%a %d %b}, 9:05 am"
    assert driver_clock(local(21, 30), road.start, local(20)) == "9:30 pm, in 1 h 30 min"
