"""The worker's HTTP client keeps connections alive and notices when a receiver closed one."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from doorstep.webhooks import sender
from doorstep.webhooks.sender import RemoteProtocolError
from doorstep.webhooks.worker import http_client
from tests.webhooks.conftest import local_receivers


class _Server:
    def __init__(self, *, close_after_each: bool) -> None:
        self.connections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                owner.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                # Closed without saying so (no "Connection: close"), as a receiver's idle
                # timeout does: the client must see it before reusing the connection.
                self.close_connection = close_after_each

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def servers() -> Iterator[list[_Server]]:
    started: list[_Server] = []
    yield started
    for server in started:
        server.server.shutdown()
        server.server.server_close()


def _post_three(url: str) -> list[int]:
    async def go() -> list[int]:
        async with http_client(local_receivers()) as client:
            statuses = []
            for _ in range(3):
                response = await client.post(url, content=b"{}")
                statuses.append(response.status_code)
                await asyncio.sleep(0.1)  # the server's close reaches the client's socket
            return statuses

    return asyncio.run(go())


def test_a_kept_connection_is_reused(servers: list[_Server]) -> None:
    server = _Server(close_after_each=False)
    servers.append(server)
    assert _post_three(server.url) == [200, 200, 200]
    assert server.connections == 1


def test_a_connection_the_receiver_closed_is_replaced_not_reused(servers: list[_Server]) -> None:
    server = _Server(close_after_each=True)
    servers.append(server)
    try:
        statuses = _post_three(server.url)
    except RemoteProtocolError as exc:  # a closed connection was reused
        raise AssertionError(exc) from None
    assert statuses == [200, 200, 200]
    assert server.connections == 3


def test_connections_left_idle_are_closed_even_if_their_endpoint_gets_nothing_more(
    servers: list[_Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _Server(close_after_each=False), _Server(close_after_each=False)
    servers.extend([first, second])
    monkeypatch.setattr(sender, "KEEP_ALIVE_S", 0.2)

    async def go() -> int:
        async with http_client(local_receivers()) as client:
            await client.post(first.url, content=b"{}")
            await asyncio.sleep(0.3)
            await client.post(second.url, content=b"{}")  # the first's connection goes
            return sum(len(kept) for kept in client._kept.values())

    assert asyncio.run(go()) == 1


def test_a_reply_whose_body_ends_with_the_connection_is_read() -> None:
    # HTTP/1.0 style: no length, the body ends when the receiver closes the connection.
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.0 202 Accepted\r\ncontent-type: text/plain\r\n\r\nthanks")

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"

    async def go() -> tuple[int, str, int]:
        async with http_client(local_receivers()) as client:
            response = await client.post(url, content=b"{}")
            kept = sum(len(connections) for connections in client._kept.values())
            return response.status_code, response.text, kept

    try:
        assert asyncio.run(go()) == (202, "thanks", 0)  # read, and not kept
    finally:
        listener.close()
