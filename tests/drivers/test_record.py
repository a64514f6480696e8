"""Standing as the driver sees it: the number, its tier, and every event behind it; the same
counts as the rounds use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from doorstep.drivers import fairness, held, offers
from doorstep.drivers.offers import OfferTakenBack
from doorstep.drivers.road import checkin
from doorstep.models import AvailabilityException, Offer, OfferStatus
from tests.drivers.road import OFFERS, Road, delivery_stops
from tests.shop import local


def _standing(road: Road) -> dict[str, Any]:
    answer = road.client.get("/v1/driver/standing", headers=road.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _same_counts_as_the_rounds(road: Road, body: dict[str, Any]) -> None:
    road.session.expire_all()
    now = road.client.app.state.clock()  # type: ignore[attr-defined]
    counts = fairness.standing_counts(road.session, [road.driver.id], now)[road.driver.id]
    assert body["counts"] == vars(counts)


def test_a_new_driver_is_great_with_nothing_behind_it(road: Road) -> None:
    road.set_clock(local(9))
    body = _standing(road)
    assert (body["standing"], body["tier"]) == (70, "great")
    assert body["events"] == []
    assert [t["tier"] for t in body["tiers"]] == ["fantastic", "great", "fair", "at_risk"]
    _same_counts_as_the_rounds(road, body)


def test_a_block_on_the_road_leaves_its_events_in_the_standing(road: Road) -> None:
    road.check_in(road.block.starts_at + timedelta(minutes=10))  # late
    road.scan_all()
    first, *middle, last = delivery_stops(road.session, road.block)
    road.deliver(first, lat=first.lat + 0.003, confirm_far=True)  # far, confirmed: flagged
    for stop in middle:
        road.deliver(stop)
    road.attempt(last)
    for package in road.load().with_the_driver():
        station = road.start
        road.set_clock(local(13))
        road.post(
            "/returns",
            {
                "code": package.tracking_code,
                "lat": station.lat,
                "lng": station.lng,
                "at": local(13).isoformat(),
                "client_event_id": f"back-{package.tracking_code}",
            },
        )
    road.set_clock(local(14))
    body = _standing(road)
    kinds = {e["kind"]: e for e in body["events"]}
    assert set(kinds) == {"completed", "late_check_in", "flagged_delivery", "failed_attempt"}
    assert kinds["late_check_in"]["points"] == -3
    assert "10 min after the slot closed" in kinds["late_check_in"]["detail"]
    assert kinds["flagged_delivery"]["points"] == -3
    assert kinds["failed_attempt"]["points"] == -1
    assert kinds["completed"]["points"] == 2
    assert body["standing"] == 70 + 2 - 3 - 3 - 1
    assert body["tier"] == "fair"
    assert body["points"]["flagged_deliveries"] == -3
    times = [e["at"] for e in body["events"]]
    assert times == sorted(times, reverse=True)
    _same_counts_as_the_rounds(road, body)


def test_a_door_delivered_on_another_try_is_not_a_failed_door(road: Road) -> None:
    road.check_in()
    road.scan_all()
    first, *rest = delivery_stops(road.session, road.block)
    road.attempt(first, now=local(11, 10))
    road.deliver(first, now=local(11, 40), client_event_id="again")
    for stop in rest:
        road.deliver(stop)
    road.set_clock(local(14))
    body = _standing(road)
    assert [e["kind"] for e in body["events"]] == ["completed", "on_time_check_in"]
    assert body["counts"]["failed_attempts"] == 0
    _same_counts_as_the_rounds(road, body)


def test_a_no_show_counts_unless_the_day_was_an_excused_absence(road: Road) -> None:
    checkin.flag_no_shows(road.session, road.block.starts_at + timedelta(hours=1))
    road.set_clock(local(14))
    body = _standing(road)
    [no_show] = body["events"]
    assert (no_show["kind"], no_show["points"], no_show["excused"]) == ("no_show", -25, False)
    assert (body["standing"], body["tier"]) == (45, "at_risk")
    _same_counts_as_the_rounds(road, body)
    road.session.add(
        AvailabilityException(
            driver_id=road.driver.id, day=local(9).date(), available=False, excused=True
        )
    )
    road.session.flush()
    body = _standing(road)
    [no_show] = body["events"]
    assert (no_show["points"], no_show["counted"], no_show["excused"]) == (0, False, True)
    assert body["standing"] == 70
    _same_counts_as_the_rounds(road, body)


def test_a_no_shows_block_taken_back_is_one_no_show_not_a_forfeit_too(road: Road) -> None:
    flagged_at = road.block.starts_at + timedelta(hours=1)
    checkin.flag_no_shows(road.session, flagged_at)
    held.take_back_block(
        road.session, road.block.id, actor="operator", now=flagged_at, policy=OFFERS
    )
    road.session.flush()
    offer = road.session.scalars(
        select(Offer).where(Offer.block_id == road.block.id, Offer.driver_id == road.driver.id)
    ).one()
    assert offer.status is OfferStatus.TAKEN_BACK
    with pytest.raises(OfferTakenBack):
        offers.accept_offer(road.session, road.driver, offer.id, now=flagged_at, policy=OFFERS)
    road.set_clock(local(14))
    body = _standing(road)
    assert [e["kind"] for e in body["events"]] == ["no_show"]  # it gave nothing back
    assert body["counts"]["forfeits"] == 0
    _same_counts_as_the_rounds(road, body)


def test_a_no_show_falls_on_its_slots_day_after_the_block_moved_past_midnight(
    road: Road,
) -> None:
    """A late block taken back from a no-show moves later for another driver; moved past
    midnight, its start is on the next day, and the no-show's excused day must still count."""
    flagged_at = road.block.starts_at + timedelta(hours=1)
    checkin.flag_no_shows(road.session, flagged_at)
    held.take_back_block(
        road.session, road.block.id, actor="operator", now=flagged_at, policy=OFFERS
    )
    road.block.starts_at += timedelta(hours=16)  # as a 23:00 block moved would be
    road.block.ends_at += timedelta(hours=16)
    road.session.add(
        AvailabilityException(
            driver_id=road.driver.id, day=local(9).date(), available=False, excused=True
        )
    )
    road.session.flush()
    road.set_clock(local(14) + timedelta(days=1))
    body = _standing(road)
    [no_show] = body["events"]
    assert (no_show["kind"], no_show["excused"], no_show["points"]) == ("no_show", True, 0)
    _same_counts_as_the_rounds(road, body)
    assert body["counts"]["no_shows"] == 0
