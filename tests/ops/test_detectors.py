"""The periodic checks that open exceptions: late stops, blocks with nobody near, long stops,
carrier parcels without news; one exception per subject, and their resolving actions."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import boost
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road.load import wall_clock
from doorstep.jobs import Registry
from doorstep.models import (
    Block,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    ExceptionKind,
    ExceptionStatus,
    OperatorRole,
    OpsException,
    Package,
    StopPackage,
    StopStatus,
)
from doorstep.ops import detectors
from doorstep.ops import exceptions as ops_exceptions
from doorstep.ops.detectors import Thresholds, detect
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.settings import Settings
from tests.drivers.conftest import _road
from tests.drivers.road import Road, block_starting_at, delivery_stops, new_driver, plan_day
from tests.factories import make_planned_carrier_shipment
from tests.ops.conftest import bearer
from tests.shop import local

THRESHOLDS = Thresholds()


def _open(session: Session, kind: ExceptionKind) -> list[OpsException]:
    return list(
        session.scalars(
            select(OpsException)
            .where(OpsException.kind == kind, OpsException.status == ExceptionStatus.OPEN)
            .order_by(OpsException.id)
        )
    )


def test_a_stop_whose_eta_passes_its_promise_opens_one_exception(
    session: Session, client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    plan_day(session)
    road: Road = _road(session, client, "station")
    stop = delivery_stops(session, road.block)[-1]
    parcel = session.scalars(
        select(Package)
        .join(StopPackage, StopPackage.package_id == Package.id)
        .where(StopPackage.stop_id == stop.id)
    ).first()
    assert parcel is not None
    now = parcel.promised_by - timedelta(hours=2)
    stop.eta_at = parcel.promised_by - timedelta(minutes=5)
    assert detect(session, now, THRESHOLDS)[ExceptionKind.LATE_STOP] == 0
    stop.eta_at = parcel.promised_by + timedelta(minutes=20)  # the road re-timed it
    assert detect(session, now, THRESHOLDS)[ExceptionKind.LATE_STOP] == 1
    assert detect(session, now + timedelta(minutes=1), THRESHOLDS)[ExceptionKind.LATE_STOP] == 0
    [late] = _open(session, ExceptionKind.LATE_STOP)
    assert late.block_id == road.block.id
    assert late.driver_id == road.driver.id
    assert late.data["stop_id"] == stop.id
    assert late.package_id is not None
    # The promise on the station's clock, as a dispatcher reads it (it said "... UTC").
    assert late.detail.endswith(
        f"({wall_clock(stop.window_end or parcel.promised_by, road.start)})"
    )
    assert "UTC" not in late.detail
    session.commit()

    # The exceptions page and API offer its actions: message the driver or the shopper.
    listed = client.get(
        "/v1/ops/exceptions?kind=late_stop", headers=bearer(tokens[OperatorRole.DISPATCHER])
    ).json()
    [row] = [e for e in listed if e["id"] == late.id]
    assert {"contact_driver", "contact_shopper", "resolve", "reoffer"} <= set(row["actions"])
    done = client.post(
        f"/v1/ops/exceptions/{late.id}/actions",
        json={"action": "contact_driver", "message": "Stop 9 is running late: call the shopper."},
        headers=bearer(tokens[OperatorRole.DISPATCHER]),
    )
    assert done.status_code == 200, done.text
    # Resolved stays resolved: the same late stop is not opened again.
    assert detect(session, now + timedelta(minutes=2), THRESHOLDS)[ExceptionKind.LATE_STOP] == 0


def test_a_block_with_no_driver_near_its_start(session: Session, client: TestClient) -> None:
    plan_day(session)
    block = block_starting_at(session, "station")
    start = block.starts_at
    far = Thresholds(near_m=5_000)
    before = start - timedelta(minutes=30)
    # Nobody has sent a position: an open block with no driver anywhere near.
    assert detect(session, start - timedelta(hours=3), far)[ExceptionKind.UNCLAIMED_BLOCK] == 0
    planned = block.pay_cents
    boost.raise_pay(session, block.id, 20, actor="system", now=before, policy=OfferPolicy())
    opened = detect(session, before, far)[ExceptionKind.UNCLAIMED_BLOCK]
    assert opened >= 1
    [flagged] = [e for e in _open(session, ExceptionKind.UNCLAIMED_BLOCK) if e.block_id == block.id]
    # Its pay, and that it was raised already: the operator's "raise the pay" starts there.
    assert flagged.detail.startswith(
        f"block {block.id} from DCH1 is still on offer (${round(planned * 1.2) / 100:.2f}, "
        f"raised from ${planned / 100:.2f}) and no driver is near"
    )
    assert detect(session, before, far)[ExceptionKind.UNCLAIMED_BLOCK] == 0  # once per block


def test_a_driver_near_the_start_keeps_the_block_quiet_and_a_far_one_does_not(
    session: Session, client: TestClient
) -> None:
    plan_day(session)
    road = _road(session, client, "station")  # the block is taken, not checked in
    start, node = road.block.starts_at, road.start
    before = start - timedelta(minutes=20)
    # Nothing recent from the driver (yesterday's position, far away): nothing against them
    # (an hour before, most drivers have sent no position yet; the no-show flag is for them).
    road.driver.last_lat, road.driver.last_lng = node.lat + 0.5, node.lng
    road.driver.last_seen_at = before - timedelta(hours=20)
    detect(session, before - timedelta(minutes=5), THRESHOLDS)
    assert road.block.id not in {e.block_id for e in _open(session, ExceptionKind.UNCLAIMED_BLOCK)}
    # Every other open block of the plan: someone (this driver) is near their start too.
    road.driver.last_lat, road.driver.last_lng = node.lat + 0.01, node.lng
    road.driver.last_seen_at = before - timedelta(minutes=5)
    detect(session, before, THRESHOLDS)
    assert road.block.id not in {e.block_id for e in _open(session, ExceptionKind.UNCLAIMED_BLOCK)}
    road.driver.last_lat = node.lat + 0.5  # about 35 miles north
    road.driver.last_seen_at = before
    detect(session, before + timedelta(minutes=1), THRESHOLDS)
    [mine] = [
        e for e in _open(session, ExceptionKind.UNCLAIMED_BLOCK) if e.block_id == road.block.id
    ]
    assert "not near" in mine.detail
    assert mine.detail.endswith(f"it starts at {wall_clock(start, node)}")
    # The block is the driver's and nobody checked in: it can be re-offered from here.
    session.flush()
    [row] = [r for r in ops_exceptions.list_exceptions(session) if r.id == mine.id]
    assert ops_exceptions.Act.REOFFER in row.actions


def test_a_long_stop(session: Session, client: TestClient) -> None:
    plan_day(session)
    road = _road(session, client, "station")
    assert road.check_in().status_code == 200
    session.refresh(road.block)
    assert road.block.status is BlockStatus.IN_PROGRESS
    stop = delivery_stops(session, road.block)[0]
    stop.status, stop.arrived_at = StopStatus.ARRIVED, local(11, 0)
    thresholds = Thresholds(long_stop=timedelta(minutes=15))
    assert detect(session, local(11, 14), thresholds)[ExceptionKind.LONG_STOP] == 0
    assert detect(session, local(11, 16), thresholds)[ExceptionKind.LONG_STOP] == 1
    assert detect(session, local(11, 40), thresholds)[ExceptionKind.LONG_STOP] == 0
    [long] = _open(session, ExceptionKind.LONG_STOP)
    assert long.data["stop_id"] == stop.id
    assert "16 minutes" in long.detail


def _handed_to_carrier(session: Session, carrier: str, at: datetime) -> CarrierShipment:
    shipment = make_planned_carrier_shipment(session, at.date())
    package = session.get_one(Package, shipment.package_id)
    transition_package(session, package, PackageState.HANDED_TO_CARRIER, actor="counter")
    shipment.carrier, shipment.tracking_number = carrier, "1Z999"
    shipment.status, shipment.handed_over_at = CarrierShipmentStatus.HANDED_OVER, at
    session.flush()
    return shipment


def test_a_carrier_parcel_without_news(session: Session) -> None:
    handed = local(9)
    shipment = _handed_to_carrier(session, "ups", handed)
    silent = Thresholds(carrier_silent=timedelta(hours=48))
    assert detect(session, handed + timedelta(hours=47), silent)[ExceptionKind.CARRIER_SILENT] == 0
    assert detect(session, handed + timedelta(hours=49), silent)[ExceptionKind.CARRIER_SILENT] == 1
    assert detect(session, handed + timedelta(hours=60), silent)[ExceptionKind.CARRIER_SILENT] == 0
    [quiet] = _open(session, ExceptionKind.CARRIER_SILENT)
    assert quiet.package_id == shipment.package_id
    assert "ups has given no tracking news" in quiet.detail
    # News, then silence again: a new silence, a new exception.
    shipment.tracking_news_at = handed + timedelta(hours=50)
    assert detect(session, handed + timedelta(hours=80), silent)[ExceptionKind.CARRIER_SILENT] == 0
    assert detect(session, handed + timedelta(hours=99), silent)[ExceptionKind.CARRIER_SILENT] == 1
    # The counter carrier reports nothing by design: never flagged.
    counter = _handed_to_carrier(session, "manual", handed)
    detect(session, handed + timedelta(days=9), silent)
    assert counter.package_id not in {
        e.package_id for e in _open(session, ExceptionKind.CARRIER_SILENT)
    }


def test_the_worker_runs_the_checks(settings: Settings) -> None:
    registry = Registry()
    detectors.register(registry, settings)
    assert [p.name for p in registry.periodic] == [detectors.PERIODIC_NAME]
    thresholds = Thresholds.from_settings(
        settings.model_copy(update={"ops_long_stop_minutes": 7, "ops_carrier_silent_hours": 3})
    )
    assert thresholds.long_stop == timedelta(minutes=7)
    assert thresholds.carrier_silent == timedelta(hours=3)


def test_no_driver_at_all(session: Session) -> None:
    """Blocks nobody took and no driver ever reported a position: every one is flagged."""
    plan_day(session)
    new_driver(session)  # a driver without a position counts as nowhere
    first = min(b.starts_at for b in session.scalars(select(Block)))
    opened = detect(session, first - timedelta(minutes=10), THRESHOLDS)
    due = [
        b
        for b in session.scalars(select(Block).where(Block.status == BlockStatus.OPEN))
        if b.starts_at <= first + timedelta(minutes=50)
    ]
    assert opened[ExceptionKind.UNCLAIMED_BLOCK] == len(due)
