"""The day's numbers, checked against the rows they are computed from."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Block, BlockStatus, Channel, OperatorRole, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from tests.drivers.conftest import _road
from tests.drivers.road import DAY, Road, plan_day
from tests.ops.conftest import bearer


@pytest.fixture
def road(session: Session, client: TestClient) -> Road:
    plan_day(session)
    return _road(session, client, "station")


def _deliver(session: Session, package: Package, late: bool) -> None:
    at = package.promised_by + (timedelta(minutes=5) if late else -timedelta(hours=1))
    for state in (PackageState.PICKED_UP, PackageState.OUT_FOR_DELIVERY, PackageState.DELIVERED):
        transition_package(session, package, state, actor="test", at=at)


def test_the_days_numbers_follow_the_tables(
    session: Session, road: Road, tokens: dict[OperatorRole, str]
) -> None:
    packages = session.scalars(select(Package).where(Package.service_date == DAY)).all()
    on_block = [p for p in packages if p.channel is Channel.STATION_ROUTE][:2]
    _deliver(session, on_block[0], late=False)
    _deliver(session, on_block[1], late=True)
    session.commit()
    road.set_clock(road.block.ends_at + timedelta(hours=2))
    viewer = bearer(tokens[OperatorRole.VIEWER])
    answer = road.client.get(
        "/v1/ops/numbers", params={"from": str(DAY), "to": str(DAY)}, headers=viewer
    )
    assert answer.status_code == 200, answer.text
    [day] = answer.json()
    assert day["packages"] == len(packages)
    assert day["delivered"] == 2
    assert day["on_time_rate"] == 0.5
    channelled = [p for p in packages if p.channel is not None]
    carrier = [p for p in channelled if p.channel is Channel.CARRIER]
    assert day["carrier_share"] == round(len(carrier) / len(channelled), 4)
    taken = session.scalars(select(Block).where(Block.status == BlockStatus.ACCEPTED)).all()
    assert [b.id for b in taken] == [road.block.id]
    block = road.block
    assert day["cost_per_package_cents"]["station_route"] == round(
        block.pay_cents / block.package_count
    )
    assert day["driver_miles"] == round(block.estimated_distance_m / 1609.344, 1)
    assert day["driver_utilisation"] is None  # nobody checked in

    csv = road.client.get(
        "/v1/ops/numbers",
        params={"from": str(DAY), "to": str(DAY), "format": "csv"},
        headers=viewer,
    )
    header, row = csv.text.strip().split("\r\n")
    assert header.startswith("day,packages,delivered,delivered_on_time,on_time_rate")
    assert row.startswith(f"{DAY},{len(packages)},2,1,0.5,")


def test_a_range_backwards_or_too_long_is_refused(
    client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    viewer = bearer(tokens[OperatorRole.VIEWER])
    backwards = client.get(
        "/v1/ops/numbers", params={"from": "2026-12-03", "to": "2026-12-01"}, headers=viewer
    )
    assert backwards.status_code == 422
    assert backwards.json()["context"]["field"] == "to"
    long = client.get(
        "/v1/ops/numbers", params={"from": "2026-01-01", "to": "2026-12-01"}, headers=viewer
    )
    assert long.status_code == 422


def test_the_numbers_page_and_its_csv(
    client: TestClient, road: Road, tokens: dict[OperatorRole, str]
) -> None:
    from tests.ops.test_pages import sign_in

    sign_in(client, OperatorRole.VIEWER)
    page = client.get("/ops/numbers", params={"from": str(DAY), "to": str(DAY)})
    assert page.status_code == 200
    assert "Cost per package" in page.text
    csv = client.get("/ops/numbers.csv", params={"from": str(DAY), "to": str(DAY)})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.count("\r\n") == 2
