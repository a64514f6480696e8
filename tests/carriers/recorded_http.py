"""Replay recorded carrier HTTP responses under Karrio, so no test reaches the network.

Karrio's connectors send every request through ``urllib.request.urlopen`` as imported in
``karrio.core.utils.helpers``; ``RecordedTransport.urlopen`` stands in for it. A route is the
HTTP method and the URL path; its answer is a status and a file in ``recorded/``. A request with
no route is kept in ``unmatched`` (Karrio would turn an exception into a message, which a test
could mistake for a carrier's answer), and the fixture fails the test on it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

RECORDED = Path(__file__).parent / "recorded"


@dataclass(frozen=True)
class Route:
    status: int
    file: str

    def body(self) -> bytes:
        return (RECORDED / self.file).read_bytes()


@dataclass(frozen=True)
class SeenRequest:
    method: str
    url: str
    headers: dict[str, str]
    data: bytes | None

    def json(self) -> Any:
        return json.loads(self.data or b"null")


class _Response:
    def __init__(self, body: bytes, status: int) -> None:
        self._body = body
        self.status = status
        self.headers = Message()
        self.headers["Content-Type"] = "application/json"

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *args: object) -> None:
        return None


@dataclass
class RecordedTransport:
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    def add(self, method: str, path: str, file: str, status: int = 200) -> None:
        self.routes[(method, path)] = Route(status, file)

    def urlopen(self, request: Request, timeout: float | None = None) -> _Response:
        method = request.get_method()
        path = urlsplit(request.full_url).path
        data = request.data if isinstance(request.data, bytes) else None
        self.seen.append(SeenRequest(method, request.full_url, dict(request.header_items()), data))
        route = self.routes.get((method, path))
        if route is None:
            self.unmatched.append(f"{method} {request.full_url}")
            raise AssertionError(f"no recorded response for {method} {path}")
        if route.status >= 400:
            headers = Message()
            headers["Content-Type"] = "application/json"
            raise HTTPError(
                request.full_url, route.status, "recorded error", headers, io.BytesIO(route.body())
            )
        return _Response(route.body(), route.status)

    def requests_to(self, path_end: str) -> list[SeenRequest]:
        return [seen for seen in self.seen if urlsplit(seen.url).path.endswith(path_end)]
