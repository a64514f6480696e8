"""A recorded UPS for the carrier steps after the plan (labels, tracking): never the network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from doorstep.carriers import Carrier
from tests.carriers.recorded_http import RecordedTransport

TOKEN = "/security/v1/oauth/token"


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedTransport]:
    pytest.importorskip("karrio.mappers.ups")
    import karrio.core.utils.helpers as karrio_http  # type: ignore[import-untyped]

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("carrier tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    recorded = RecordedTransport()
    monkeypatch.setattr(karrio_http, "urlopen", recorded.urlopen)
    recorded.add("POST", TOKEN, "ups/oauth_token.json")
    yield recorded
    assert not recorded.unmatched, recorded.unmatched


@pytest.fixture
def ups(transport: RecordedTransport) -> Carrier:
    from doorstep.carriers.karrio_adapter import KarrioCarrier, create_gateway

    gateway = create_gateway(
        "ups",
        {"client_id": "test-client-id", "client_secret": "secret", "account_number": "A1B2C3"},
        test_mode=True,
    )
    return KarrioCarrier(gateway)
