"""A shopper's return collected from the door on a later block: chosen on the tracking page,
put on a block of the next day by the planner as a pickup stop, collected at the door with
its code (or not: nobody home), received at the station with the stock back on hand."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from doorstep.drivers.road.load import station_of
from doorstep.drivers.road.returns import back_at_station
from doorstep.models import (
    Block,
    BlockStatus,
    ExceptionKind,
    InventoryLevel,
    Merchant,
    Message,
    Node,
    NodeKind,
    OpsException,
    Order,
    OrderLine,
    OutboxCursor,
    OutboxEvent,
    Package,
    Product,
    Return,
    Route,
    Stop,
    StopKind,
    StopStatus,
)
from doorstep.notifications import milestones
from doorstep.ops import detectors
from doorstep.ops.detectors import Thresholds
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from doorstep.tracking import returns
from tests.drivers.road import OFFERS, Road, delivery_stops, hand_over, new_driver
from tests.shop import local
from tests.tracking.conftest import parcels_at

NEXT_DAY = date(2026, 11, 25)


def _delivered_and_returnable(road: Road) -> Package:
    """The block's first door delivered this morning, its products returnable for 30 days."""
    stop = delivery_stops(road.session, road.block)[0]
    road.deliver(stop, now=local(11, 10))
    package = parcels_at(road.session, stop)[0]
    products = road.session.scalars(
        select(OrderLine.product_id).where(OrderLine.package_id == package.id)
    ).all()
    road.session.execute(
        update(Product).where(Product.id.in_(products)).values(return_window_days=30)
    )
    road.session.flush()
    return package


def _a_parcel_for_tomorrow(road: Road) -> None:
    """The block's second door tried and brought back: the station's wave of the next day has
    a parcel, so a station block goes out that day."""
    stop = delivery_stops(road.session, road.block)[1]
    road.attempt(stop, now=local(11, 30))
    for package in parcels_at(road.session, stop):
        back_at_station(
            road.session,
            road.load(),
            package,
            who="station:test",
            station=station_of(road.session, road.block),
            now=local(18),
            max_attempts=3,
        )


def _plan(road: Road, day: date) -> None:
    plan_wave(
        road.session,
        "DCH1",
        day,
        drivers=DriverPlan(2, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        offers=OFFERS,
        now=local(7, day=day.day),
    )


def _events(road: Road, code: str) -> list[str]:
    """The return's outbox events, in the order the outbox has them."""
    returned = road.session.scalars(select(Return).where(Return.public_id == code)).one()
    return list(
        road.session.scalars(
            select(OutboxEvent.event_type)
            .where(OutboxEvent.aggregate_type == "return", OutboxEvent.aggregate_id == returned.id)
            .order_by(OutboxEvent.id)
        )
    )


def _on_hand(road: Road, product_id: int) -> int:
    station = road.session.scalars(select(Node).where(Node.code == "DCH1")).one()
    road.session.expire_all()
    return (
        road.session.scalar(
            select(InventoryLevel.on_hand).where(
                InventoryLevel.product_id == product_id, InventoryLevel.node_id == station.id
            )
        )
        or 0
    )


def _door_return_requested(road: Road) -> tuple[Package, Return]:
    package = _delivered_and_returnable(road)
    _a_parcel_for_tomorrow(road)
    road.set_clock(local(15))
    page = road.client.get(f"/track/{package.tracking_token}").text
    assert "Collect it from my door" in page
    assert "A driver can come from Wed 25 Nov" in page
    started = road.client.post(
        f"/track/{package.tracking_token}/return",
        data={"method": "door", "reason": "Too small"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    returned = road.session.scalars(select(Return).where(Return.package_id == package.id)).one()
    assert returned.door_from == NEXT_DAY
    assert returns.method_of(returned) is returns.ReturnMethod.DOOR
    return package, returned


def _pickup_stop(road: Road, returned: Return) -> tuple[Block, Stop]:
    road.session.expire_all()
    returned = road.session.get_one(Return, returned.id)
    assert returned.door_stop_id is not None, "the planner put no stop for the return"
    stop = road.session.get_one(Stop, returned.door_stop_id)
    route = road.session.get_one(Route, stop.route_id)
    assert route.block_id is not None
    return road.session.get_one(Block, route.block_id), stop


def _on_the_road(road: Road, block: Block) -> Road:
    """The next day's block in a second driver's hands, checked in and loaded."""
    driver, token = new_driver(road.session, "grace@example.com")
    hand_over(road.session, block, driver, at=local(8, day=25))
    tomorrow = Road(road.session, road.client, driver, token, block, road.set_clock)
    assert tomorrow.check_in(at=block.starts_at - timedelta(minutes=5)).status_code == 200
    tomorrow.scan_all()
    return tomorrow


def test_a_return_collected_at_the_door_is_received_at_the_station(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    package, returned = _door_return_requested(road)
    [product_id, *_] = [int(i["product_id"]) for i in returned.items]
    before = _on_hand(road, product_id)

    _plan(road, NEXT_DAY)
    block, stop = _pickup_stop(road, returned)
    assert (stop.kind, stop.node_id) == (StopKind.PICKUP, None)
    assert stop.address
    assert stop.planned_arrival_at is not None
    assert session.get_one(Node, block.start_node_id).kind is NodeKind.STATION
    session.refresh(returned)
    assert returned.door_planned_for == NEXT_DAY
    page = client.get(f"/track/{package.tracking_token}").text
    assert "A driver comes for it on" in page
    assert "Wed 25 Nov" in page

    tomorrow = _on_the_road(road, block)
    itinerary = tomorrow.client.get(tomorrow.url(), headers=tomorrow.headers).json()
    [at_door] = [s for s in itinerary["stops"] if s["id"] == stop.id]
    assert at_door["kind"] == "pickup"
    assert at_door["site"] is None
    assert [r["code"] for r in at_door["returns"]] == [returned.public_id]
    assert at_door["status"] == "pending"

    here = {"lat": stop.lat, "lng": stop.lng, "at": local(12, day=25).isoformat()}
    road.set_clock(local(12, day=25))
    wrong = tomorrow.post(
        f"/stops/{stop.id}/collect", here | {"code": "RNOTTHIS", "client_event_id": "c-1"}
    )
    assert wrong.status_code == 409, wrong.text
    assert wrong.json()["error"] == "wrong_return_code"
    session.expire_all()
    assert session.get_one(Return, returned.id).collected_at is None

    collected = tomorrow.post(
        f"/stops/{stop.id}/collect",
        here | {"code": returned.public_id.lower(), "client_event_id": "c-2"},
    )
    assert collected.status_code == 200, collected.text
    assert collected.json()["stop_status"] == "completed"
    assert collected.json()["replayed"] is False
    again = tomorrow.post(
        f"/stops/{stop.id}/collect", here | {"code": returned.public_id, "client_event_id": "c-3"}
    )
    assert again.json()["replayed"] is True

    # The doors of the day, then back at the station with the return in the car.
    session.expire_all()  # the API's requests changed the stops under this session
    for door in delivery_stops(session, block):
        session.refresh(door)
        if door.status is StopStatus.PENDING:
            tomorrow.deliver(door, now=local(13, day=25))
    session.refresh(block)
    assert block.status is BlockStatus.RETURNING
    station = session.get_one(Node, block.start_node_id)
    road.set_clock(local(16, day=25))
    received = tomorrow.post(
        "/returns",
        {
            "code": returned.public_id,
            "lat": station.lat,
            "lng": station.lng,
            "at": local(16, day=25).isoformat(),
            "client_event_id": "back-1",
        },
    )
    assert received.status_code == 200, received.text
    assert received.json()["return_status"] == "received"
    assert received.json()["block_status"] == "completed"
    quantity = sum(int(i["quantity"]) for i in returned.items if i["product_id"] == product_id)
    assert _on_hand(road, product_id) == before + quantity
    assert _events(road, returned.public_id) == [
        "return.requested",
        "return.collection_planned",
        "return.collected",
        "return.received",
    ]
    page = client.get(f"/track/{package.tracking_token}").text
    assert "Return collected from your door" in page
    assert "Return received" in page


def test_nobody_home_offers_another_day_then_a_counter(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    package, returned = _door_return_requested(road)
    _plan(road, NEXT_DAY)
    block, stop = _pickup_stop(road, returned)
    tomorrow = _on_the_road(road, block)
    road.set_clock(local(12, day=25))
    nobody_home = {
        "reason": "nobody_home",
        "lat": stop.lat,
        "lng": stop.lng,
        "at": local(12, day=25).isoformat(),
        "client_event_id": "miss-1",
    }
    missed = tomorrow.post(
        f"/stops/{stop.id}/not-collected",
        nobody_home,
    )
    assert missed.status_code == 200, missed.text
    assert missed.json()["stop_status"] == "failed"
    assert missed.json()["again_from"] == "2026-11-26"
    session.expire_all()
    returned = session.get_one(Return, returned.id)
    assert (returned.door_attempts, returned.door_stop_id) == (1, None)
    assert returned.door_from == date(2026, 11, 26)
    # Tapped again: the same stop, nothing counted twice.
    twice = tomorrow.post(
        f"/stops/{stop.id}/not-collected",
        nobody_home,
    )
    assert twice.json()["replayed"] is True
    session.expire_all()
    assert session.get_one(Return, returned.id).door_attempts == 1
    station = session.scalars(select(Node).where(Node.code == "DCH1")).one()
    due = returns.due_at_doors(session, station.id, date(2026, 11, 26))
    assert [r.public_id for r, _, _ in due] == [returned.public_id]
    assert returns.due_at_doors(session, station.id, NEXT_DAY) == []
    page = client.get(f"/track/{package.tracking_token}").text
    assert "Nobody was home to hand over your return" in page
    assert "We will come again from Thu 26 Nov" in page

    # The second door that finds nobody: the shopper is asked to use a counter.
    returns.collection_failed(
        session,
        returned,
        block_id=block.id,
        reason="nobody_home",
        now=local(12, day=26),
        tz=ZoneInfo("America/Phoenix"),
        doors=returns.DoorCollection(),
    )
    assert returned.door_from is None
    assert returns.due_at_doors(session, station.id, date(2026, 11, 27)) == []
    page = client.get(f"/track/{package.tracking_token}").text
    assert "Please hand it in at a partner store counter" in page
    assert _events(road, returned.public_id) == [
        "return.requested",
        "return.collection_planned",
        "return.collection_failed",
        "return.collection_failed",
    ]
    last = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "return.collection_failed")
        .order_by(OutboxEvent.id.desc())
    ).first()
    assert last is not None
    assert last.payload["return"]["next"] == "counter"


def test_bad_requests_write_nothing(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    package = _delivered_and_returnable(road)
    token = package.tracking_token
    road.set_clock(local(15))
    unknown = client.post(f"/track/{token}/return", data={"method": "drone"})
    assert unknown.status_code == 422
    # Not yet delivered: no return either way.
    waiting = parcels_at(session, delivery_stops(session, road.block)[2])[0]
    early = client.post(f"/track/{waiting.tracking_token}/return", data={"method": "door"})
    assert early.status_code == 409  # return_not_allowed (the page offers no return yet)
    # Too late.
    road.set_clock(local(15) + timedelta(days=31))
    late = client.post(f"/track/{token}/return", data={"method": "door"})
    assert late.status_code == 409
    assert 'data-error="return_window_closed"' in late.text
    assert session.scalar(select(func.count()).select_from(Return)) == 0
    # Started for a counter, then asked for the door: refused, the first choice stands.
    road.set_clock(local(15))
    counter = client.post(f"/track/{token}/return", data={"method": "counter"})
    assert counter.status_code == 200  # the page after the redirect
    door = client.post(f"/track/{token}/return", data={"method": "door"})
    assert door.status_code == 409
    assert 'data-error="return_already_requested"' in door.text
    returned = session.scalars(select(Return)).one()
    assert returned.door_from is None
    requested = session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.event_type == "return.requested")
    )
    assert requested == 1


def test_no_door_collection_where_no_station_driver_delivers(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    package = _delivered_and_returnable(road)
    store = session.scalars(select(Node).where(Node.kind == NodeKind.PARTNER_STORE)).first()
    assert store is not None
    package.serving_node_id = store.id  # as if a partner store's staff had delivered it
    session.flush()
    road.set_clock(local(15))
    page = client.get(f"/track/{package.tracking_token}").text
    assert "Collect it from my door" not in page
    refused = client.post(f"/track/{package.tracking_token}/return", data={"method": "door"})
    assert refused.status_code == 409
    assert "door_collection_unavailable" in refused.text
    assert session.scalar(select(func.count()).select_from(Return)) == 0
    assert package.state is PackageState.DELIVERED


def test_the_shopper_hears_the_day_and_the_missed_door(loaded: Road) -> None:
    road, session = loaded, loaded.session
    package, returned = _door_return_requested(road)
    session.execute(
        update(Order)
        .where(Order.id == package.order_id)
        .values(recipient_email="isla@example.com", recipient_phone="+14805550100")
    )
    newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
    session.merge(OutboxCursor(name=milestones.CURSOR, last_event_id=newest))
    session.flush()
    _plan(road, NEXT_DAY)
    block, _ = _pickup_stop(road, returned)
    returns.collection_failed(
        session,
        session.get_one(Return, returned.id),
        block_id=block.id,
        reason="nobody_home",
        now=local(12, day=25),
        tz=ZoneInfo("America/Phoenix"),
        doors=returns.DoorCollection(),
    )
    milestones.follow_outbox(
        session, local(13, day=25), public_url="https://t.example", max_attempts=3
    )
    sent = {
        (m.channel.value, m.body_text.split("\n")[0] if m.channel.value == "sms" else m.subject)
        for m in session.scalars(
            select(Message).where(
                Message.package_id == package.id, Message.template == "return_collection"
            )
        )
    }
    order = session.get_one(Order, package.order_id)
    shop = session.get_one(Merchant, order.merchant_id)
    brand = shop.display_name or shop.name
    assert sent == {
        ("email", f"{brand}: A driver comes for your return on Wed 25 Nov"),
        ("email", f"{brand}: Nobody was home to hand over your return"),
        (
            "sms",
            f"{brand}: A driver comes for your return on Wed 25 Nov. Have it packed "
            f"at the door with its code {returned.public_id}.",
        ),
        (
            "sms",
            f"{brand}: Nobody was home to hand over your return. We will come again "
            "from Thu 26 Nov.",
        ),
    }


def test_left_at_a_counter_after_all_the_door_stop_is_skipped(loaded: Road) -> None:
    road, session = loaded, loaded.session
    _, returned = _door_return_requested(road)
    _plan(road, NEXT_DAY)
    block, stop = _pickup_stop(road, returned)
    store = session.scalars(select(Node).where(Node.kind == NodeKind.PARTNER_STORE)).first()
    assert store is not None
    returns.drop_at_counter(
        session, returned.public_id, node=store, actor="store:test", now=local(9, day=25)
    )
    tomorrow = _on_the_road(road, block)
    itinerary = tomorrow.client.get(tomorrow.url(), headers=tomorrow.headers).json()
    [at_door] = [s for s in itinerary["stops"] if s["id"] == stop.id]
    assert (at_door["status"], at_door["returns"]) == ("skipped", [])
    road.set_clock(local(12, day=25))
    refused = tomorrow.post(
        f"/stops/{stop.id}/collect",
        {
            "code": returned.public_id,
            "lat": stop.lat,
            "lng": stop.lng,
            "at": local(12, day=25).isoformat(),
            "client_event_id": "c-1",
        },
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "wrong_return_code"


def test_a_replan_that_finds_no_block_for_it_takes_the_day_back(loaded: Road) -> None:
    road, session, client = loaded, loaded.session, loaded.client
    package, returned = _door_return_requested(road)
    _plan(road, NEXT_DAY)
    _pickup_stop(road, returned)
    # The shopper's door, as the planner sees it, now out of every block's reach.
    session.execute(
        update(Order).where(Order.id == package.order_id).values(dest_lat=34.9, dest_lng=-110.2)
    )
    session.flush()
    _plan(road, NEXT_DAY)
    session.expire_all()
    returned = session.get_one(Return, returned.id)
    assert (returned.door_stop_id, returned.door_planned_for) == (None, None)
    assert returned.door_from == NEXT_DAY
    page = client.get(f"/track/{package.tracking_token}").text
    assert "A driver collects it from your door from" in page


def test_one_try_at_the_door_where_the_network_allows_one(loaded: Road) -> None:
    road, session = loaded, loaded.session
    _, returned = _door_return_requested(road)
    _plan(road, NEXT_DAY)
    block, _ = _pickup_stop(road, returned)
    again = returns.collection_failed(
        session,
        session.get_one(Return, returned.id),
        block_id=block.id,
        reason="nobody_home",
        now=local(12, day=25),
        tz=ZoneInfo("America/Phoenix"),
        doors=returns.DoorCollection(tries=1),
    )
    # `DOORSTEP_DOOR_RETURN_TRIES=1`: the first door that finds nobody asks for a counter.
    assert again is False
    assert session.get_one(Return, returned.id).door_from is None


def test_the_door_window_is_the_networks(loaded: Road) -> None:
    """`DOORSTEP_DOOR_RETURN_FROM_HOUR` / `_UNTIL_HOUR`: the page says the hours, the plan
    rings in them."""
    road, session = loaded, loaded.session
    app = road.client.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"door_return_from_hour": 17, "door_return_until_hour": 20}
    )
    package = _delivered_and_returnable(road)
    road.set_clock(local(15))
    page = road.client.get(f"/track/{package.tracking_token}").text
    assert "between 5 pm and 8 pm; we tell you the day" in page
    started = road.client.post(
        f"/track/{package.tracking_token}/return",
        data={"method": "door", "reason": "Too small"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    returned = session.scalars(select(Return).where(Return.package_id == package.id)).one()
    _a_parcel_for_tomorrow(road)
    doors = returns.DoorCollection.from_settings(app.state.settings)  # type: ignore[attr-defined]
    plan_wave(
        session,
        "DCH1",
        NEXT_DAY,
        drivers=DriverPlan(2, 0, doors=doors),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        offers=OFFERS,
        now=local(7, day=25),
    )
    _, stop = _pickup_stop(road, returned)
    assert stop.planned_arrival_at is not None
    arrives = stop.planned_arrival_at.astimezone(ZoneInfo("America/Phoenix"))
    assert 17 <= arrives.hour < 20


def test_a_door_return_no_plan_takes_for_a_day_opens_one_exception(loaded: Road) -> None:
    road, session = loaded, loaded.session
    package, returned = _door_return_requested(road)
    thresholds = Thresholds()  # a day
    # Its first day (Wed 25) is under way: nothing yet.
    assert detectors.waiting_door_returns(session, local(18, day=25), thresholds) == 0
    # A day later no plan has taken it (no wave was planned): the operator hears of it once.
    assert detectors.waiting_door_returns(session, local(18, day=26), thresholds) == 1
    assert detectors.waiting_door_returns(session, local(19, day=26), thresholds) == 0
    [opened] = session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.DOOR_RETURN_WAITING)
    ).all()
    assert opened.package_id == package.id
    assert returned.public_id in opened.detail
    assert opened.data["door_from"] == NEXT_DAY.isoformat()


def test_a_door_return_on_a_block_opens_no_exception(loaded: Road) -> None:
    road, session = loaded, loaded.session
    _, returned = _door_return_requested(road)
    _plan(road, NEXT_DAY)
    _pickup_stop(road, returned)
    thresholds = Thresholds()
    # Planned for Wed 25: quiet that day and the next; its day long gone, it is left.
    assert detectors.waiting_door_returns(session, local(20, day=25), thresholds) == 0
    assert detectors.waiting_door_returns(session, local(12, day=26), thresholds) == 0
    assert detectors.waiting_door_returns(session, local(18, day=27), thresholds) == 1
