"""The OSRM client against recorded responses (never the network)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import httpx
import numpy as np
import pytest

from doorstep.geo import (
    OsrmError,
    OsrmTravel,
    parse_table,
)

DATA = Path(__file__).parent / "data"
AMSTERDAM = [(52.3731, 4.8952), (52.3600, 4.8899), (52.3510, 4.9340)]


def _recorded(name: str) -> dict[str, object]:
    payload: dict[str, object] = json.loads((DATA / name).read_text())
    return payload


def test_parse_recorded_table() -> None:
    m = parse_table(_recorded("osrm_table_3.json"))
    assert m.durations[0, 1] == 261
    assert m.distances[2, 0] == 4809
    assert m.distances[0, 2] != m.distances[2, 0]  # one-way streets: asymmetric


@pytest.mark.parametrize(
    ("name", "message"), [("osrm_no_route.json", "no route"), ("osrm_invalid.json", "InvalidQuery")]
)
def test_parse_errors(name: str, message: str) -> None:
    with pytest.raises(OsrmError, match=message):
        parse_table(_recorded(name))


def test_client_builds_the_table_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_recorded("osrm_table_3.json"))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    provider = OsrmTravel("http://osrm.local:5000/", client=client, max_table_size=6)
    m = provider.matrix(AMSTERDAM)
    assert m.durations.shape == (3, 3)
    url = unquote(str(seen[0].url))
    assert url.startswith("http://osrm.local:5000/table/v1/driving/4.895200,52.373100;")
    assert "annotations=duration,distance" in url
    assert "sources=0;1;2" in url
    assert "destinations=3;4;5" in url


def test_large_requests_are_split_into_blocks() -> None:
    calls: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        rows = len(params["sources"].split(";"))
        cols = len(params["destinations"].split(";"))
        calls.append((rows, cols))
        grid = np.full((rows, cols), 7.0).tolist()
        return httpx.Response(200, json={"code": "Ok", "durations": grid, "distances": grid})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    points = [(52.0 + i / 100, 4.0) for i in range(5)]
    m = OsrmTravel("http://osrm", client=client, max_table_size=4).matrix(points)
    assert sorted(calls) == sorted(
        [(2, 2), (2, 2), (2, 1), (2, 2), (2, 2), (2, 1), (1, 2), (1, 2), (1, 1)]
    )
    assert (m.durations == 7).all()


def test_server_errors_become_osrm_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(OsrmError, match="503"):
        OsrmTravel("http://osrm", client=client).matrix(AMSTERDAM)
