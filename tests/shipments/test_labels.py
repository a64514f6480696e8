"""Buying labels for a day's planned carrier shipments: files, tracking numbers, refusals,
and never a second label for the same shipment."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from doorstep.carriers import (
    Carrier,
    LabelResult,
    ManualCarrier,
    Rate,
    RatesResult,
    ShipmentRequest,
)
from doorstep.carriers.manual import is_valid_tracking_number
from doorstep.models import CarrierShipment, CarrierShipmentStatus, NodeKind, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.shipments.labels import LabelRun, LabelStatus, SkipReason, buy_labels
from tests.carriers.recorded_http import RecordedTransport
from tests.factories import make_node, make_planned_carrier_shipment

DAY = date(2026, 11, 24)


def planned_shipment(session: Session, **overrides: Any) -> CarrierShipment:
    shipment = make_planned_carrier_shipment(session, DAY, **overrides)
    session.commit()  # the labels run reads and writes in its own transactions
    return shipment


def _label(
    session_factory: sessionmaker[Session], carrier: Carrier, data_dir: Path, **options: Any
) -> LabelRun:
    return buy_labels(session_factory, DAY, carrier, data_dir, **options)


def _row(session: Session, shipment: CarrierShipment) -> CarrierShipment:
    session.expire_all()
    return session.get_one(CarrierShipment, shipment.id)


def test_a_planned_shipment_gets_a_pdf_label_and_a_tracking_number(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shipment = planned_shipment(session)
    seen: list[tuple[int, int]] = []

    run = _label(session_factory, ManualCarrier(), tmp_path, progress=lambda *p: seen.append(p))

    [outcome] = run.outcomes
    assert outcome.status is LabelStatus.BOUGHT
    assert (outcome.carrier, outcome.service) == ("manual", "counter_handover")
    assert (outcome.rate_cents, outcome.currency) == (700, "USD")  # $5 + $1 per started kg
    assert outcome.tracking_number is not None
    assert is_valid_tracking_number(outcome.tracking_number)
    assert outcome.label_file == tmp_path / "labels" / f"{outcome.tracking_number}.pdf"
    pdf = outcome.label_file.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    # Warehouse stock leaves from the station that planned it, to the order's address.
    assert "Chandler Delivery Station" in text
    assert "2600 S Price Rd" in text
    assert "1 E Chicago St" in text
    assert "Apt 4" in text
    assert seen == [(0, 1), (1, 1)]
    row = _row(session, shipment)
    assert row.status is CarrierShipmentStatus.LABELLED
    assert row.tracking_number == outcome.tracking_number
    assert row.label_path == f"labels/{outcome.tracking_number}.pdf"
    assert (row.label_service, row.label_cents, row.label_currency) == (
        "counter_handover",
        700,
        "USD",
    )
    assert row.labelled_at is not None
    assert row.rate_cents == 2100  # the planner's estimate stays for comparison
    # Labelled is not handed over: the package waits for the carrier.
    assert session.get_one(Package, row.package_id).state is PackageState.ASSIGNED


def test_running_again_buys_no_second_label(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shipment = planned_shipment(session)
    [first] = _label(session_factory, ManualCarrier(), tmp_path).outcomes

    again = _label(session_factory, ManualCarrier(), tmp_path)

    [outcome] = again.outcomes
    assert outcome.status is LabelStatus.ALREADY_LABELLED
    assert outcome.tracking_number == first.tracking_number
    assert outcome.label_file == first.label_file
    assert list((tmp_path / "labels").iterdir()) == [first.label_file]
    assert _row(session, shipment).tracking_number == first.tracking_number


def test_an_order_without_city_state_and_zip_is_reported_not_labelled(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shipment = planned_shipment(
        session,
        dest_address="1 E Chicago St, Chandler, AZ 85225",
        dest_address_line2=None,
        dest_city=None,
        dest_state=None,
        dest_postal_code=None,
    )

    [outcome] = _label(session_factory, ManualCarrier(), tmp_path).outcomes

    assert outcome.status is LabelStatus.SKIPPED
    assert outcome.reason is SkipReason.ADDRESS_INCOMPLETE
    assert outcome.detail is not None
    assert "city, state, postal code" in outcome.detail
    assert _row(session, shipment).status is CarrierShipmentStatus.PLANNED
    assert not (tmp_path / "labels").exists()


def test_a_cancelled_package_gets_no_label(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shipment = planned_shipment(session)
    package = session.get_one(Package, shipment.package_id)
    transition_package(session, package, PackageState.CANCELLED, actor="merchant:1")
    session.commit()

    [outcome] = _label(session_factory, ManualCarrier(), tmp_path).outcomes

    assert (outcome.status, outcome.reason) == (
        LabelStatus.SKIPPED,
        SkipReason.PACKAGE_NOT_ASSIGNED,
    )
    assert _row(session, shipment).status is CarrierShipmentStatus.PLANNED


def test_a_mall_store_sends_from_the_malls_address(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    mall = make_node(
        session,
        kind=NodeKind.MALL,
        name="Chandler Fashion Center",
        address="3111 W Chandler Blvd, Chandler, AZ 85226",
    )
    store = make_node(
        session, kind=NodeKind.MALL_STORE, name="Copper Pot Kitchenware", parent_id=mall.id
    )
    planned_shipment(session, origin=store)

    [outcome] = _label(session_factory, ManualCarrier(), tmp_path).outcomes

    assert outcome.label_file is not None
    text = PdfReader(outcome.label_file).pages[0].extract_text()
    assert "Copper Pot Kitchenware" in text
    assert "3111 W Chandler Blvd" in text


class PowerCut(Exception):
    pass


class DiesWhileBuying(ManualCarrier):
    """The process dies after the carrier sold the label, before it was recorded."""

    def buy_label(self, request: ShipmentRequest, rate: Rate) -> LabelResult:
        super().buy_label(request, rate)
        raise PowerCut


def test_an_interrupted_run_is_reported_and_retried_only_when_asked(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shipment = planned_shipment(session)
    with pytest.raises(PowerCut):
        _label(session_factory, DiesWhileBuying(), tmp_path)
    assert _row(session, shipment).status is CarrierShipmentStatus.LABELLING

    [later] = _label(session_factory, ManualCarrier(), tmp_path).outcomes
    assert (later.status, later.reason) == (LabelStatus.SKIPPED, SkipReason.INTERRUPTED)
    assert later.detail is not None
    assert later.package in later.detail  # the reference to look for in the carrier's account
    # Asked to retry, a run still leaves a claim alone while its run may be waiting.
    [fresh] = _label(session_factory, ManualCarrier(), tmp_path, retry_interrupted=True).outcomes
    assert fresh.reason is SkipReason.INTERRUPTED

    an_hour_later = datetime.now(UTC) + timedelta(hours=1)
    [retried] = _label(
        session_factory,
        ManualCarrier(),
        tmp_path,
        retry_interrupted=True,
        clock=lambda: an_hour_later,
    ).outcomes
    assert retried.status is LabelStatus.BOUGHT
    assert _row(session, shipment).status is CarrierShipmentStatus.LABELLED


class SlowCarrier(ManualCarrier):
    """While it quotes, another run of the same day starts."""

    def __init__(self, meanwhile: Callable[[], LabelRun]) -> None:
        super().__init__()
        self.meanwhile = meanwhile
        self.other_run: LabelRun | None = None

    def rates(self, request: ShipmentRequest) -> RatesResult:
        self.other_run = self.meanwhile()
        return super().rates(request)


def test_a_run_started_while_another_waits_for_its_carrier_buys_nothing(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    planned_shipment(session)
    carrier = SlowCarrier(lambda: _label(session_factory, ManualCarrier(), tmp_path))

    [outcome] = _label(session_factory, carrier, tmp_path).outcomes

    assert outcome.status is LabelStatus.BOUGHT
    assert carrier.other_run is not None
    [other] = carrier.other_run.outcomes
    assert (other.status, other.reason) == (LabelStatus.SKIPPED, SkipReason.INTERRUPTED)
    assert len(list((tmp_path / "labels").iterdir())) == 1


# --- An outside carrier, from recorded UPS answers (tests/carriers/recorded/ups) ---

SHOP = "/api/rating/v2409/Shop"
SHIP = "/api/shipments/v2409/ship"


@pytest.mark.parametrize(
    ("answers", "reason", "said"),
    [
        # UPS serves neither address: no rate, no label asked for.
        ([(SHOP, "ups/rate_error.json", 400)], SkipReason.NO_RATE, "ups 111210: The requested"),
        # UPS quotes, then sends a thermal-printer label instead of a PDF.
        (
            [(SHOP, "ups/rate_shop.json", 200), (SHIP, "ups/ship_zpl.json", 200)],
            SkipReason.LABEL_REFUSED,
            "label_not_pdf",
        ),
    ],
)
def test_a_carrier_refusal_is_reported_with_its_message_and_nothing_changes(
    session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    ups: Carrier,
    transport: RecordedTransport,
    answers: list[tuple[str, str, int]],
    reason: SkipReason,
    said: str,
) -> None:
    shipment = planned_shipment(session, service="ground")
    for path, file, status in answers:
        transport.add("POST", path, file, status=status)

    [outcome] = _label(session_factory, ups, tmp_path).outcomes

    assert (outcome.status, outcome.reason, outcome.carrier) == (
        LabelStatus.SKIPPED,
        reason,
        "ups",
    )
    assert outcome.detail is not None
    assert said in outcome.detail
    row = _row(session, shipment)
    assert (row.status, row.label_requested_at) == (CarrierShipmentStatus.PLANNED, None)
    assert not (tmp_path / "labels").exists()


def test_an_outside_carriers_label_is_bought_at_its_cheapest_rate_in_time(
    session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    ups: Carrier,
    transport: RecordedTransport,
) -> None:
    shipment = planned_shipment(session, service="ground")
    transport.add("POST", SHOP, "ups/rate_shop.json")
    transport.add("POST", SHIP, "ups/ship.json")

    [outcome] = _label(session_factory, ups, tmp_path).outcomes

    assert outcome.status is LabelStatus.BOUGHT
    assert (outcome.carrier, outcome.service, outcome.rate_cents) == ("ups", "ups_ground", 1343)
    assert outcome.label_file is not None
    assert outcome.label_file.read_bytes().startswith(b"%PDF")
    row = _row(session, shipment)
    assert (row.carrier, row.tracking_number) == ("ups", "1ZA1B2C30390123456")
    (sent,) = transport.requests_to(SHIP)
    shipper = sent.json()["ShipmentRequest"]["Shipment"]["Shipper"]["Address"]
    assert shipper["AddressLine"] == ["2600 S Price Rd"]
    assert (shipper["City"], shipper["PostalCode"]) == ("Chandler", "85286")
