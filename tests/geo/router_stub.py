"""A road router on localhost that answers OSRM ``/table`` requests from a stored table.

The table (OSRM's response format, over known points) is sliced to the requested sources and
destinations, as a real router would answer; a point it does not know is an ``InvalidQuery``.
Code under test reaches it over real HTTP, exactly as it would reach an operator's OSRM.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class _Table:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.index = {
            _key(lon, lat): i
            for i, (lon, lat) in enumerate(p["location"] for p in payload["sources"])
        }
        self.requests = 0

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        coords = unquote(parts.path.rsplit("/", 1)[-1]).split(";")
        try:
            rows = [self.index[_key(*map(float, c.split(",")))] for c in coords]
        except (KeyError, ValueError):
            return 400, {"code": "InvalidQuery", "message": "a point the router does not know"}
        query = parse_qs(parts.query)
        sources = [rows[int(i)] for i in query["sources"][0].split(";")]
        targets = [rows[int(i)] for i in query["destinations"][0].split(";")]
        self.requests += 1
        return 200, {
            "code": "Ok",
            "durations": [[self.payload["durations"][s][t] for t in targets] for s in sources],
            "distances": [[self.payload["distances"][s][t] for t in targets] for s in sources],
        }


def _key(lon: float, lat: float) -> tuple[float, float]:
    return round(lon, 5), round(lat, 5)


@contextmanager
def osrm_router(table: Path) -> Iterator[tuple[str, _Table]]:
    """(base URL, table) of a router serving ``table`` until the block ends."""
    served = _Table(json.loads(table.read_text()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = served.answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
