"""Acting on exceptions: re-offer a no-show's block, send a missing parcel by carrier, contact
the shopper, resolve with a note; each recorded on the exception and in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import held, offers
from doorstep.drivers.road import checkin
from doorstep.models import (
    AuditEntry,
    Block,
    BlockEvent,
    BlockStatus,
    CarrierShipment,
    Channel,
    ExceptionKind,
    Message,
    Node,
    OperatorRole,
    OpsException,
    Order,
    Package,
    PackageEvent,
    Plan,
    Route,
    Stop,
)
from doorstep.ops import detectors
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from tests.drivers.conftest import _road
from tests.drivers.road import OFFERS, Road, block_starting_at, hand_over, new_driver, plan_day
from tests.ops.conftest import bearer


@pytest.fixture
def road(session: Session, client: TestClient) -> Road:
    plan_day(session)
    return _road(session, client, "station")


def _no_show(road: Road) -> OpsException:
    later = road.block.starts_at + timedelta(minutes=31)
    assert checkin.flag_no_shows(road.session, later) == 1
    road.set_clock(later)
    return road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.NO_CHECK_IN)
    ).one()


def _missing(session: Session, road: Road) -> OpsException:
    package = session.scalars(
        select(Package).where(Package.state == PackageState.ASSIGNED).order_by(Package.id)
    ).first()
    assert package is not None
    transition_package(session, package, PackageState.MISSING, actor="test", reason="missing")
    exception = OpsException(
        kind=ExceptionKind.MISSING_AT_PICKUP,
        package_id=package.id,
        driver_id=road.driver.id,
        detail=f"parcel {package.tracking_code} was not at its pickup",
        opened_at=road.block.starts_at,
        opened_by="test",
    )
    session.add(exception)
    session.commit()
    return exception


def test_a_dispatcher_re_offers_a_no_shows_block(
    road: Road, tokens: dict[OperatorRole, str]
) -> None:
    exception = _no_show(road)
    client = road.client
    viewer = bearer(tokens[OperatorRole.VIEWER])
    [listed] = client.get("/v1/ops/exceptions", headers=viewer).json()
    assert listed["id"] == exception.id
    assert "reoffer" in listed["actions"]
    url = f"/v1/ops/exceptions/{exception.id}/actions"
    assert client.post(url, json={"action": "reoffer"}, headers=viewer).status_code == 403

    done = client.post(
        url, json={"action": "reoffer"}, headers=bearer(tokens[OperatorRole.DISPATCHER])
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"
    assert done.json()["resolution"].startswith(f"block {road.block.id} offered again")
    road.session.refresh(road.block)
    assert road.block.status is BlockStatus.OPEN
    assert road.block.driver_id is None
    again = client.post(
        url, json={"action": "reoffer"}, headers=bearer(tokens[OperatorRole.DISPATCHER])
    )
    assert again.status_code == 409
    entry = road.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exceptions.reoffer")
    ).one()
    assert entry.actor == "dispatcher@ops.example.com"
    assert entry.before is not None
    assert entry.before["status"] == "open"
    assert entry.after is not None
    assert entry.after["status"] == "resolved"


def test_a_no_shows_block_offered_again_starts_late_enough_for_another_driver_to_take_it(
    road: Road, tokens: dict[OperatorRole, str]
) -> None:
    """A no-show is flagged half an hour after the block's slot: offered again as it was,
    it would start in the past, and no driver's listing shows such a block."""
    exception = _no_show(road)
    flagged = road.block.starts_at + timedelta(minutes=31)
    planned = (road.block.starts_at, road.block.ends_at)
    route = road.session.scalars(select(Route).where(Route.block_id == road.block.id)).one()
    route_times = (route.planned_start_at, route.planned_end_at)
    stops = road.session.scalars(select(Stop).where(Stop.route_id == route.id)).all()
    arrivals = {stop.id: stop.planned_arrival_at for stop in stops}
    assert any(arrivals.values())
    done = road.client.post(
        f"/v1/ops/exceptions/{exception.id}/actions",
        json={"action": "reoffer"},
        headers=bearer(tokens[OperatorRole.DISPATCHER]),
    )
    assert done.status_code == 200, done.text
    block = road.session.get_one(Block, road.block.id, populate_existing=True)
    assert block.arrival_opens_at == flagged + held.RESCUE_LEAD
    moved_by = block.starts_at - planned[0]
    assert moved_by > timedelta(0)
    assert block.ends_at - planned[1] == moved_by  # the same work and pay, later
    moved = road.session.scalars(
        select(BlockEvent).where(BlockEvent.block_id == block.id).order_by(BlockEvent.id.desc())
    ).first()
    assert moved is not None
    assert moved.reason == "taken_back"
    assert moved.data["moved_by_s"] == moved_by.total_seconds()
    # The route's planned times move with it: the new driver's stop list and the live map
    # (which times a stop by its plan until a check-in) show when the stops are now due.
    road.session.refresh(route)
    assert (route.planned_start_at, route.planned_end_at) == tuple(
        at + moved_by for at in route_times
    )
    for stop in stops:
        road.session.refresh(stop)
        was = arrivals[stop.id]
        assert stop.planned_arrival_at == (was and was + moved_by)
    later = int(moved_by.total_seconds() // 60)
    assert done.json()["resolution"] == (
        f"block {block.id} offered again first come, {later} min later than planned"
    )

    other, _ = new_driver(road.session, "bo@example.com")
    listed = offers.list_offers(road.session, other, now=flagged, policy=OFFERS)
    assert block.id in [view.block_id for view in listed]
    hand_over(road.session, block, other, at=flagged)
    assert block.status is BlockStatus.ACCEPTED
    # The second driver does not come either: a no-show of theirs, flagged in its turn.
    assert block.arrival_closes_at is not None
    again = block.arrival_closes_at + timedelta(minutes=31)
    assert checkin.flag_no_shows(road.session, again) == 1
    assert checkin.flag_no_shows(road.session, again + timedelta(minutes=5)) == 0
    flagged_drivers = road.session.scalars(
        select(OpsException.driver_id)
        .where(OpsException.kind == ExceptionKind.NO_CHECK_IN)
        .order_by(OpsException.id)
    ).all()
    assert flagged_drivers == [road.driver.id, other.id]


def test_a_missing_parcel_goes_by_carrier_and_the_shopper_is_told(
    session: Session, road: Road, tokens: dict[OperatorRole, str]
) -> None:
    client = road.client
    dispatcher = bearer(tokens[OperatorRole.DISPATCHER])
    first = _missing(session, road)
    url = f"/v1/ops/exceptions/{first.id}/actions"
    sent = client.post(url, json={"action": "carrier", "service": "ground"}, headers=dispatcher)
    assert sent.status_code == 200, sent.text
    package = session.get(Package, first.package_id, populate_existing=True)
    assert package is not None
    assert package.state is PackageState.ASSIGNED
    assert package.channel is Channel.CARRIER
    shipment = session.scalars(
        select(CarrierShipment).where(CarrierShipment.package_id == package.id)
    ).one()
    assert shipment.service == "ground"
    reasons = session.scalars(
        select(PackageEvent.reason).where(PackageEvent.package_id == package.id)
    ).all()
    assert "sent_by_carrier" in reasons

    second = _missing(session, road)
    missing = session.get(Package, second.package_id)
    assert missing is not None
    order = session.get(Order, missing.order_id)
    assert order is not None
    order.recipient_email = "sam@example.com"
    session.commit()
    url = f"/v1/ops/exceptions/{second.id}/actions"
    empty = client.post(url, json={"action": "contact_shopper"}, headers=dispatcher)
    assert empty.status_code == 422
    assert empty.json()["context"]["field"] == "message"
    told = client.post(
        url,
        json={"action": "contact_shopper", "message": "Your parcel leaves by carrier tomorrow."},
        headers=dispatcher,
    )
    assert told.status_code == 200, told.text
    [message] = session.scalars(select(Message).where(Message.template == "operator_note")).all()
    assert "leaves by carrier tomorrow" in message.body_text


def test_resolving_needs_a_note(road: Road, tokens: dict[OperatorRole, str]) -> None:
    exception = _no_show(road)
    admin = bearer(tokens[OperatorRole.ADMIN])
    url = f"/v1/ops/exceptions/{exception.id}/actions"
    assert road.client.post(url, json={"action": "resolve"}, headers=admin).status_code == 422
    done = road.client.post(
        url, json={"action": "resolve", "note": "Ada called: flat tyre"}, headers=admin
    )
    assert done.json()["resolution"] == "Ada called: flat tyre"
    assert road.client.get("/v1/ops/exceptions", headers=admin).json() == []
    resolved = road.client.get(
        "/v1/ops/exceptions", params={"status": "resolved"}, headers=admin
    ).json()
    assert [e["id"] for e in resolved] == [exception.id]


def test_the_exceptions_page_acts_for_a_dispatcher_and_shows_a_viewer(
    road: Road, tokens: dict[OperatorRole, str]
) -> None:
    from tests.ops.test_pages import sign_in

    exception = _no_show(road)
    client = road.client
    sign_in(client, OperatorRole.VIEWER)
    page = client.get("/ops/exceptions")
    assert page.status_code == 200
    assert "no check in" in page.text
    assert "Re-offer the block" not in page.text
    refused = client.post(f"/ops/exceptions/{exception.id}/act", data={"action": "reoffer"})
    assert refused.status_code == 403
    sign_in(client, OperatorRole.DISPATCHER)
    page = client.get("/ops/exceptions")
    assert "Re-offer the block" in page.text
    done = client.post(f"/ops/exceptions/{exception.id}/act", data={"action": "reoffer"})
    assert done.status_code == 200
    assert "offered again" in done.text


def test_an_exception_on_a_planned_block_links_to_re_planning_its_wave(
    road: Road, tokens: dict[OperatorRole, str]
) -> None:
    from tests.ops.test_pages import sign_in

    _no_show(road)
    client = road.client
    plan = road.session.get_one(Plan, road.block.plan_id)
    station = road.session.get_one(Node, plan.station_id).code
    [listed] = client.get("/v1/ops/exceptions", headers=bearer(tokens[OperatorRole.VIEWER])).json()
    assert (listed["wave_station"], listed["wave_date"]) == (station, str(plan.service_date))

    sign_in(client, OperatorRole.VIEWER)
    assert "Re-plan the wave" not in client.get("/ops/exceptions").text  # viewers never plan
    sign_in(client, OperatorRole.DISPATCHER)
    page = client.get("/ops/exceptions").text
    link = f"/ops/plans/new?station={station}&amp;date={plan.service_date}&amp;force=1"
    assert link in page
    form = client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert f'<option value="{station}" selected>' in form.text
    assert f'value="{plan.service_date}"' in form.text
    assert 'name="force" value="1" checked' in form.text


def test_a_dispatcher_raises_the_pay_of_a_block_nobody_took(
    session: Session, client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    plan_day(session)
    block = block_starting_at(session, "station")
    before = block.starts_at - timedelta(minutes=30)
    assert detectors.detect(session, before, detectors.Thresholds())["unclaimed_block"] >= 1
    session.commit()
    [flagged] = [
        e
        for e in session.scalars(select(OpsException)).all()
        if e.kind is ExceptionKind.UNCLAIMED_BLOCK and e.block_id == block.id
    ]
    planned = block.pay_cents
    client.app.state.clock = lambda: before  # type: ignore[attr-defined]
    dispatcher = bearer(tokens[OperatorRole.DISPATCHER])
    url = f"/v1/ops/exceptions/{flagged.id}/actions"
    listed = client.get(f"/v1/ops/exceptions/{flagged.id}", headers=dispatcher).json()
    assert "raise_pay" in listed["actions"]
    assert "reoffer" not in listed["actions"]  # nobody holds it
    refused = client.post(url, json={"action": "raise_pay", "percent": 300}, headers=dispatcher)
    assert refused.status_code == 422, refused.text
    assert refused.json()["context"]["field"] == "percent"
    session.expire_all()
    assert session.get_one(Block, block.id).pay_cents == planned  # nothing kept of it

    done = client.post(url, json={"action": "raise_pay", "percent": 50}, headers=dispatcher)
    assert done.status_code == 200, done.text
    raised = round(planned * 1.5)
    assert done.json()["resolution"] == (
        f"block {block.id}'s pay raised to ${raised / 100:.2f} from ${planned / 100:.2f}"
    )
    session.expire_all()
    block = session.get_one(Block, block.id)
    assert (block.pay_cents, block.pay_raised_from_cents) == (raised, planned)
    [event] = session.scalars(
        select(BlockEvent).where(BlockEvent.block_id == block.id, BlockEvent.reason == "pay_raised")
    ).all()
    assert event.actor == "operator dispatcher@ops.example.com"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exceptions.raise_pay")
    ).one()
    assert entry.after is not None
    assert entry.after["status"] == "resolved"
