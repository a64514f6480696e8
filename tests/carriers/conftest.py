"""Carrier tests never touch the network: sockets refuse to connect, HTTP goes to recordings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from doorstep.carriers.model import Address, Parcel, ServiceLevel, ShipmentRequest
from tests.carriers.recorded_http import RecordedTransport


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("carrier tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedTransport]:
    helpers = pytest.importorskip("karrio.core.utils.helpers")
    recorded = RecordedTransport()
    monkeypatch.setattr(helpers, "urlopen", recorded.urlopen)
    yield recorded
    assert not recorded.unmatched, f"requests without a recorded response: {recorded.unmatched}"


@pytest.fixture
def station() -> Address:
    return Address(
        name="Chandler Station",
        company="doorstep",
        street_lines=("2150 W Pecos Rd",),
        city="Chandler",
        state="AZ",
        postal_code="85224",
        phone="+1 480 555 0100",
    )


@pytest.fixture
def customer() -> Address:
    return Address(
        name="Maria Gonzalez",
        street_lines=("1420 N Alma School Rd", "Apt 12B"),
        city="Chandler",
        state="AZ",
        postal_code="85224",
        phone="+1 480 555 0142",
    )


@pytest.fixture
def shipment(station: Address, customer: Address) -> ShipmentRequest:
    return ShipmentRequest(
        reference="PKG-7K2M9QX4",
        ship_from=station,
        ship_to=customer,
        parcel=Parcel(weight_g=1250, length_mm=300, width_mm=200, height_mm=150),
        service_level=ServiceLevel.GROUND,
    )


@pytest.fixture
def fixed_now() -> datetime:
    return datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
