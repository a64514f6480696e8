"""Handing labelled parcels over to their carrier at the counter: what goes on the truck,
what stays, and a record that survives the process."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from doorstep.carriers.manual import tracking_number_for
from doorstep.cli import app
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.models import CarrierShipment, CarrierShipmentStatus, OutboxEvent, Package
from doorstep.models.orders import PackageEvent
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.shipments.handover import HandoverStatus, hand_over
from tests.factories import make_planned_carrier_shipment

DAY = date(2026, 11, 24)
AT = datetime(2026, 11, 24, 16, 5, tzinfo=UTC)


def labelled(session: Session, serial: int) -> CarrierShipment:
    """A shipment whose label was bought, as `carrier labels` leaves it."""
    shipment = make_planned_carrier_shipment(session, DAY)
    shipment.tracking_number = tracking_number_for(serial)
    shipment.status = CarrierShipmentStatus.LABELLED
    shipment.labelled_at = AT
    session.flush()
    return shipment


def _events(session: Session, shipment: CarrierShipment) -> list[PackageEvent]:
    return list(
        session.scalars(
            select(PackageEvent)
            .where(PackageEvent.package_id == shipment.package_id)
            .order_by(PackageEvent.sequence)
        )
    )


def test_a_scanned_label_puts_its_parcel_on_the_truck_with_an_event(session: Session) -> None:
    shipment = labelled(session, 1)
    package = session.get_one(Package, shipment.package_id)
    assert shipment.tracking_number is not None

    [outcome] = hand_over(session, [f" {shipment.tracking_number}\n"], at=AT, location="dock 2")

    assert outcome.status is HandoverStatus.HANDED_OVER
    assert outcome.goes
    assert (outcome.scanned, outcome.package, outcome.carrier) == (
        shipment.tracking_number,
        package.tracking_code,
        "manual",
    )
    assert shipment.status is CarrierShipmentStatus.HANDED_OVER
    assert shipment.handed_over_at == AT
    assert package.state is PackageState.HANDED_TO_CARRIER
    last = _events(session, shipment)[-1]
    assert (last.from_state, last.to_state, last.actor) == (
        PackageState.ASSIGNED,
        PackageState.HANDED_TO_CARRIER,
        "counter",
    )
    assert last.occurred_at == AT
    assert last.data == {
        "carrier": "manual",
        "tracking_number": shipment.tracking_number,
        "location": "dock 2",
    }
    # The merchant hears of it through the outbox, written in the same transaction.
    assert session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(
            OutboxEvent.aggregate_id == package.id,
            OutboxEvent.event_type.contains("handed_to_carrier"),
        )
    )


def test_a_second_scan_changes_nothing(session: Session) -> None:
    shipment = labelled(session, 2)
    number = shipment.tracking_number
    assert number is not None

    first, second = hand_over(session, [number, number.lower()], at=AT)

    assert first.status is HandoverStatus.HANDED_OVER
    assert second.status is HandoverStatus.ALREADY_HANDED_OVER
    assert second.goes
    handed = [e for e in _events(session, shipment) if e.to_state is PackageState.HANDED_TO_CARRIER]
    assert len(handed) == 1


def test_a_parcel_cancelled_after_its_label_was_printed_stays(session: Session) -> None:
    shipment = labelled(session, 3)
    package = session.get_one(Package, shipment.package_id)
    transition_package(session, package, PackageState.CANCELLED, actor="merchant:1")
    assert shipment.tracking_number is not None

    [outcome] = hand_over(session, [shipment.tracking_number], at=AT)

    assert outcome.status is HandoverStatus.NOT_TO_HAND_OVER
    assert not outcome.goes
    assert outcome.detail == "keep it: the package is cancelled"
    assert shipment.status is CarrierShipmentStatus.LABELLED
    assert package.state is PackageState.CANCELLED


def test_a_mistyped_or_unknown_number_is_answered_not_raised(session: Session) -> None:
    labelled(session, 4)
    good = tracking_number_for(4)
    wrong_digit = good[:-1] + str((int(good[-1]) + 1) % 10)

    mistyped, unknown, empty, planned_only = hand_over(
        session, [wrong_digit, "1Z999AA10123456784", "  ", tracking_number_for(5)], at=AT
    )

    assert mistyped.status is HandoverStatus.MISTYPED
    assert "check digit" in mistyped.detail
    assert unknown.status is HandoverStatus.UNKNOWN
    assert unknown.detail == "no labelled shipment has this tracking number"
    assert empty.status is HandoverStatus.UNKNOWN
    # A well-formed counter number that no shipment carries: printed elsewhere, or a typo
    # the check digit cannot catch.
    assert planned_only.status is HandoverStatus.UNKNOWN
    assert not any(o.goes for o in (mistyped, unknown, empty, planned_only))


def test_the_operator_api_answers_every_scan_and_keeps_those_handed_over(
    client: TestClient, session: Session, operator_headers: dict[str, str]
) -> None:
    shipment = labelled(session, 6)
    session.commit()
    number = shipment.tracking_number

    response = client.post(
        "/v1/carrier/handovers",
        json={"tracking_numbers": [number, "DS000000000000000", number], "location": "counter"},
        headers=operator_headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["handed_over"], body["refused"]) == (1, 1)
    assert [s["status"] for s in body["scans"]] == [
        "handed_over",
        "unknown",
        "already_handed_over",
    ]
    assert [s["goes"] for s in body["scans"]] == [True, False, True]
    session.expire_all()
    assert session.get_one(Package, shipment.package_id).state is PackageState.HANDED_TO_CARRIER


def test_the_operator_api_refuses_a_bad_request_with_its_place(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    assert client.post("/v1/carrier/handovers", json={"tracking_numbers": ["DS1"]}).status_code == (
        401
    )
    empty = client.post(
        "/v1/carrier/handovers", json={"tracking_numbers": []}, headers=operator_headers
    )
    assert empty.status_code == 422
    assert "tracking_numbers" in empty.text
    blank = client.post(
        "/v1/carrier/handovers", json={"tracking_numbers": ["  "]}, headers=operator_headers
    )
    assert blank.status_code == 422
    assert "tracking_numbers" in blank.text


def test_the_counter_command_commits_each_scan_from_stdin(own_database: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = create_db_engine(f"sqlite:///{own_database}")
    with unit_of_work(session_factory(engine)) as session:
        number = labelled(session, 7).tracking_number

    result = runner.invoke(
        app, ["carrier", "hand-over", "--location", "counter"], input=f"{number}\n\nDS123\n"
    )

    assert result.exit_code == 1, result.output  # one scan was refused
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"GOES {number} ")
    assert lines[1] == "KEEP DS123: a counter tracking number is DS and 15 digits"
    with unit_of_work(session_factory(engine)) as session:
        shipment = session.scalars(select(CarrierShipment)).one()
        assert shipment.status is CarrierShipmentStatus.HANDED_OVER
    again = runner.invoke(app, ["carrier", "hand-over", "--json", str(number)])
    engine.dispose()

    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert (body["handed_over"], body["refused"]) == (0, 0)
    assert body["scans"][0]["status"] == "already_handed_over"


def test_two_counters_scanning_one_parcel_hand_it_over_once(committed_engine: Engine) -> None:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the scans cannot overlap")
    sessions = session_factory(committed_engine)
    with unit_of_work(sessions) as session:
        shipment = labelled(session, 8)
        number, package_id = str(shipment.tracking_number), shipment.package_id
    start = threading.Barrier(2)
    answers: list[HandoverStatus] = []

    def scan() -> None:
        start.wait()
        with unit_of_work(sessions) as session:
            [outcome] = hand_over(session, [number], at=AT)
        answers.append(outcome.status)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [HandoverStatus.ALREADY_HANDED_OVER, HandoverStatus.HANDED_OVER]
    with unit_of_work(sessions) as session:
        handed = session.scalar(
            select(func.count())
            .select_from(PackageEvent)
            .where(
                PackageEvent.package_id == package_id,
                PackageEvent.to_state == PackageState.HANDED_TO_CARRIER,
            )
        )
        assert handed == 1


def test_a_scan_that_read_the_label_before_another_counter_committed_is_told_already(
    committed_engine: Engine,
) -> None:
    # Regression: the second of two simultaneous scans read the shipment as labelled, then
    # the package as already with the carrier (the first scan committed in between), and
    # told the clerk to keep the parcel.
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the scans cannot overlap")
    sessions = session_factory(committed_engine)
    with unit_of_work(sessions) as session:
        number = str(labelled(session, 9).tracking_number)
    late = sessions()
    try:
        # The late scan's first read: the shipment as it was before the other scan.
        seen = late.scalars(
            select(CarrierShipment).where(CarrierShipment.tracking_number == number)
        ).one()
        assert seen.status is CarrierShipmentStatus.LABELLED
        with unit_of_work(sessions) as first:
            [won] = hand_over(first, [number], at=AT)
        [outcome] = hand_over(late, [number], at=AT)
        late.commit()
    finally:
        late.close()
    assert won.status is HandoverStatus.HANDED_OVER
    assert outcome.status is HandoverStatus.ALREADY_HANDED_OVER
    assert outcome.goes
