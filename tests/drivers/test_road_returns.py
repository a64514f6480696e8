"""Back at the station: the block waits for its undelivered parcels, then completes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from doorstep.cli.worker import build_registry
from doorstep.drivers.blocks import history
from doorstep.drivers.road import background, returns
from doorstep.geo import TravelModel
from doorstep.jobs import ClaimedJob, Registry
from doorstep.models import (
    BlockStatus,
    ExceptionKind,
    Job,
    Message,
    MessageChannel,
    OpsException,
    Package,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.settings import Settings
from doorstep.webhooks.worker import DeliveryWorker
from tests.drivers.road import Road, delivery_stops
from tests.shop import local

TRAVEL = TravelModel()


@pytest.fixture
def returning(road: Road) -> Road:
    """Every door done, the last one failed: the block is returning with its parcels."""
    road.check_in()
    road.scan_all()
    *first, last = delivery_stops(road.session, road.block)
    for stop in first:
        road.deliver(stop)
    road.attempt(last)
    road.session.expire_all()
    assert road.block.status is BlockStatus.RETURNING
    return road


def _to_return(road: Road) -> list[Package]:
    return road.load().with_the_driver()


def _scan_back(road: Road, code: str, north: float = 0.0005) -> Any:
    station = road.start  # a station block goes back where it started
    road.set_clock(local(12, 10))
    return road.post(
        "/returns",
        {
            "code": code,
            "lat": station.lat + north,
            "lng": station.lng,
            "at": local(12, 9).isoformat(),
            "client_event_id": f"r-{code}",
        },
    )


def test_parcels_scanned_back_at_the_station_complete_the_block(returning: Road) -> None:
    road = returning
    parcels = _to_return(road)
    assert parcels
    far = _scan_back(road, parcels[0].tracking_code, north=0.01)
    assert far.status_code == 422
    assert far.json()["error"] == "outside_geofence"
    for number, package in enumerate(parcels, start=1):
        answer = _scan_back(road, package.tracking_code)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] == "ready_for_pickup"
        assert len(body["left_to_return"]) == len(parcels) - number
        assert body["block_status"] == ("completed" if number == len(parcels) else "returning")
    again = _scan_back(road, parcels[0].tracking_code)
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    road.session.expire_all()
    assert road.block.status is BlockStatus.COMPLETED
    assert road.block.completed_at == local(12, 10)
    moves = [(e.from_status, e.to_status) for e in history(road.session, road.block.id)]
    assert moves[-2:] == [
        (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING),
        (BlockStatus.RETURNING, BlockStatus.COMPLETED),
    ]
    for package in parcels:
        road.session.refresh(package)
        assert package.state is PackageState.READY_FOR_PICKUP
        # Another try in a later block: off this block, due the next day.
        assert package.service_date == date(2026, 11, 25)
        assert not road.session.scalars(
            select(StopPackage).where(StopPackage.package_id == package.id)
        ).all()


def test_a_parcel_out_of_attempts_goes_back_to_its_merchant(road: Road) -> None:
    road.check_in()
    road.scan_all()
    *first, last = delivery_stops(road.session, road.block)
    for package in road.load().live[last.id]:
        package.delivery_attempts = 2
    road.session.flush()
    for stop in first:
        road.deliver(stop)
    road.attempt(last)
    for package in _to_return(road):
        body = _scan_back(road, package.tracking_code).json()
        assert body["state"] == "returned_to_merchant"


def test_bringing_them_back_the_next_morning_sets_a_due_time_and_a_reminder(
    returning: Road,
) -> None:
    road = returning
    road.set_clock(local(19))
    answer = road.post("/return", {"when": "next_morning"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["return_due_at"] == local(10, day=25).isoformat().replace("+00:00", "Z")
    assert body["reminder_at"] == local(8, day=25).isoformat().replace("+00:00", "Z")
    job = road.session.scalars(select(Job).where(Job.kind == returns.REMINDER_JOB)).one()
    assert job.payload == {"block_id": road.block.id}
    assert job.run_at == local(8, day=25)
    now = road.post("/return", {"when": "now"}).json()
    assert now["reminder_at"] is None
    assert local(19) < datetime.fromisoformat(now["return_due_at"]) < local(20)


def test_the_morning_reminder_goes_to_the_drivers_phone_once(returning: Road) -> None:
    road = returning
    road.set_clock(local(19))
    road.post("/return", {"when": "next_morning"})
    job = road.session.scalars(select(Job).where(Job.kind == returns.REMINDER_JOB)).one()
    claimed = ClaimedJob(job.id, job.kind, job.payload, 1, local(8, day=25), "test")
    road.session.expire_all()  # as a job's own transaction would read the block
    returns.send_return_reminder(road.session, claimed)
    returns.send_return_reminder(road.session, claimed)  # at least once: run twice, sent once
    message = road.session.scalars(select(Message)).one()
    assert message.template == "driver_reminder"
    assert message.channel is MessageChannel.EMAIL  # the test driver gave no phone
    assert message.recipient == road.driver.email
    count = len(_to_return(road))
    assert f"{count} undelivered parcel" in message.body_text
    assert "by 10:00 today" in message.body_text
    for package in _to_return(road):
        _scan_back(road, package.tracking_code)
    road.session.expire_all()
    assert road.block.status is BlockStatus.COMPLETED
    returns.send_return_reminder(
        road.session, ClaimedJob(job.id, job.kind, job.payload, 2, local(8, day=26), "test")
    )
    assert len(road.session.scalars(select(Message)).all()) == 1


def test_a_block_still_out_past_its_due_time_is_flagged_once(returning: Road) -> None:
    road = returning
    due = road.block.return_due_at
    assert due is not None
    assert returns.flag_late_returns(road.session, due + timedelta(minutes=30)) == 0
    assert returns.flag_late_returns(road.session, due + timedelta(hours=2)) == 1
    assert returns.flag_late_returns(road.session, due + timedelta(hours=3)) == 0
    flagged = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.LATE_RETURN)
    ).one()
    assert flagged.block_id == road.block.id
    assert flagged.driver_id == road.driver.id


def test_the_station_scans_back_what_a_driver_brought(
    returning: Road, operator_headers: dict[str, str]
) -> None:
    road = returning
    parcels = _to_return(road)
    url = "/v1/stations/DCH1/returns"
    refused = road.client.post(url, json={"code": parcels[0].tracking_code})
    assert refused.status_code == 401
    for package in parcels:
        answer = road.client.post(
            url, json={"code": package.tracking_code}, headers=operator_headers
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["block_status"] == "completed"
    wrong = road.client.post(
        "/v1/stations/NOPE/returns",
        json={"code": parcels[0].tracking_code},
        headers=operator_headers,
    )
    assert wrong.status_code == 404
    assert wrong.json()["error"] == "station_not_found"
    delivered = next(p for p in road.load().packages.values() if p.state is PackageState.DELIVERED)
    nothing = road.client.post(
        url, json={"code": delivered.tracking_code}, headers=operator_headers
    )
    assert nothing.status_code == 409
    assert nothing.json()["error"] == "package_not_returnable"


def test_the_worker_looks_for_late_returns(settings: Settings) -> None:
    registry = build_registry(settings, cast(DeliveryWorker, _NoLane()))
    periodic = {p.name for p in registry.periodic}
    assert {background.LATE_RETURNS, background.NO_SHOWS, background.UNSTARTED} <= periodic
    assert returns.REMINDER_JOB in registry.handlers


class _NoLane:
    def register(self, registry: Registry) -> None:
        """The webhook lane is not what this test is about."""
