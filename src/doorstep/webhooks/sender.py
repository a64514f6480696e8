"""The webhook worker's HTTP/1.1 client: signed POSTs over kept-alive connections, each
connection opened to an address the policy checked.

Why not httpx: its connection pool looked at every kept connection for every request (a
scan growing with the slots in flight, a poll of each socket, anyio's and sniffio's look-ups),
about a millisecond of CPU per request, which on a 2-core machine capped the worker below the
rate orders come in. A webhook request is one small POST to a URL the merchant registered;
this client does only that: one request per connection at a time, connections kept per host
and reused newest first, the response parsed by httptools (the C parser uvicorn uses).

What it keeps from the policy (`addresses.AddressPolicy`): every new connection resolves the
host once, checks every answer and connects to a checked address (the next one if that fails),
so a DNS answer that changes after the check cannot reach the internal network; TLS verifies
the certificate against the host name. No proxy from the environment (a proxy would make the
connection out of the check's sight), redirects are answers like any other (a 3xx is a
failure of the attempt), and a reply's body is read up to `MAX_BODY_BYTES`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httptools

from doorstep.webhooks.addresses import AddressPolicy, literal_address

#: A reply's body beyond this is not read: the connection is closed instead of kept.
MAX_BODY_BYTES = 64 * 1024
#: What is kept of a reply's body: the delivery log shows its first 500 characters.
EXCERPT_BYTES = 2048
#: A kept connection unused for this long is closed rather than reused (receivers close
#: idle connections after 5 to 75 s; reusing one just closed costs a retried request).
KEEP_ALIVE_S = 4.0
#: Connections kept per host at most; more in flight are closed after their reply.
MAX_KEPT_PER_HOST = 100


class SendError(Exception):
    """A request that got no complete HTTP reply; the class name is the attempt's error."""


class ConnectError(SendError):
    """No connection: refused, unreachable, a name that does not resolve, a TLS failure."""


class ConnectTimeout(SendError):
    """The connection (with its TLS handshake) took longer than the timeout."""


class ReadTimeout(SendError):
    """The reply did not come in within the timeout."""


class RemoteProtocolError(SendError):
    """The receiver closed the connection or answered with something that is not HTTP/1.1."""


@dataclass(frozen=True)
class SentResponse:
    """A receiver's reply: its status and the beginning of its body."""

    status_code: int
    text: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class _Target:
    secure: bool
    host: str  # as written in the URL, without brackets
    port: int
    authority: str  # the Host header
    target: str  # path and query


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        # A receiver that closed an idle connection has sent its EOF, which the loop has fed
        # to the reader by now; one that sent anything unasked is not in a state to reuse.
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < KEEP_ALIVE_S
        )

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Reply:
    """What the parser has read of one reply."""

    status: int = 0
    body: bytearray = field(default_factory=bytearray)
    body_bytes: int = 0
    headers_done: bool = False
    complete: bool = False
    keep_alive: bool = False
    parser: httptools.HttpResponseParser | None = None

    def on_body(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        room = EXCERPT_BYTES - len(self.body)
        if room > 0:
            self.body += chunk[:room]

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_message_complete(self) -> None:
        self.complete = True
        # Asked here: once the parser has moved past the message it answers False.
        self.keep_alive = self.parser is not None and self.parser.should_keep_alive()


class WebhookSender:
    """POSTs to receivers, a connection per request in flight, kept alive per host."""

    def __init__(
        self,
        addresses: AddressPolicy,
        *,
        timeout_s: float = 10.0,
        user_agent: str = "doorstep-webhooks/1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.addresses = addresses
        self.timeout_s = timeout_s
        self.user_agent = user_agent
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._kept: dict[tuple[bool, str, int], list[_Connection]] = {}
        self._pruned_at = time.monotonic()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for kept in self._kept.values():
            for connection in kept:
                connection.close()
        self._kept.clear()

    async def post(
        self, url: str, *, content: bytes | str, headers: Mapping[str, str] | None = None
    ) -> SentResponse:
        """One POST of ``content`` (text is sent as UTF-8); `SendError` (or
        `AddressNotPublic`) when no reply came."""
        body = content.encode() if isinstance(content, str) else content
        self._prune()
        target = _parse(url)
        head = _request_head(target, len(body), self.user_agent, headers or {})
        connected: list[bool] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._exchange(target, head + body, connected)
        except TimeoutError:
            if not connected:
                raise ConnectTimeout(
                    f"no connection to {target.authority} within {self.timeout_s} s"
                ) from None
            raise ReadTimeout(
                f"no reply from {target.authority} within {self.timeout_s} s"
            ) from None

    def _prune(self) -> None:
        # Kept connections are looked at when reused; those of an endpoint that gets no more
        # events would stay open for good, so every few seconds the stale ones are closed.
        now = time.monotonic()
        if now - self._pruned_at < KEEP_ALIVE_S:
            return
        self._pruned_at = now
        for key, kept in list(self._kept.items()):
            fresh = [connection for connection in kept if connection.usable()]
            for connection in kept:
                if connection not in fresh:
                    connection.close()
            if fresh:
                self._kept[key] = fresh
            else:
                del self._kept[key]

    async def _exchange(
        self, target: _Target, request: bytes, connected: list[bool]
    ) -> SentResponse:
        """The request over a kept connection, or a new one; ``connected`` gets an entry once
        a connection is in hand (a timeout before that is the connection's)."""
        key = (target.secure, target.host, target.port)
        kept = self._kept.setdefault(key, [])
        while kept:
            connection = kept.pop()
            if not connection.usable():
                connection.close()
                continue
            connected.append(True)
            try:
                return await self._over(connection, key, request)
            except _ClosedBeforeReply:
                continue  # closed by the receiver as we reused it: a new connection
        connection = await self._open(target)
        connected.append(True)
        try:
            return await self._over(connection, key, request)
        except _ClosedBeforeReply:
            raise RemoteProtocolError(
                f"{target.authority} closed the connection without a reply"
            ) from None

    async def _over(
        self, connection: _Connection, key: tuple[bool, str, int], request: bytes
    ) -> SentResponse:
        reply = _Reply()
        parser = reply.parser = httptools.HttpResponseParser(reply)
        read_any = False
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            while not reply.complete and reply.body_bytes <= MAX_BODY_BYTES:
                data = await connection.reader.read(65536)
                if not data:
                    if not read_any:
                        raise _ClosedBeforeReply
                    if reply.headers_done:  # a body that ends with the connection
                        break
                    raise RemoteProtocolError("the reply ended before its headers")
                read_any = True
                parser.feed_data(data)
            reply.status = parser.get_status_code()
        except (ConnectionError, httptools.HttpParserError) as exc:
            connection.close()
            if not read_any and isinstance(exc, ConnectionError):
                raise _ClosedBeforeReply from exc
            raise RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            connection.close()  # a timeout or a cancellation mid-reply: the state is unknown
            raise
        kept = self._kept.setdefault(key, [])
        if reply.keep_alive and len(kept) < MAX_KEPT_PER_HOST:
            connection.idle_since = time.monotonic()
            kept.append(connection)
        else:
            connection.close()
        return SentResponse(reply.status, bytes(reply.body).decode("utf-8", "replace"))

    async def _open(self, target: _Target) -> _Connection:
        if literal_address(target.host) is not None:
            addresses = self.addresses.addresses(target.host, target.port)
        else:
            try:
                addresses = await asyncio.to_thread(
                    self.addresses.addresses, target.host, target.port
                )
            except OSError as exc:
                raise ConnectError(f"{target.host} does not resolve: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                reader, writer = await asyncio.open_connection(
                    str(address),
                    target.port,
                    ssl=self.ssl_context if target.secure else None,
                    server_hostname=target.host if target.secure else None,
                )
            except (OSError, ssl.SSLError) as exc:
                failure = exc
                continue
            return _Connection(reader, writer)
        raise ConnectError(f"{target.authority}: {failure}") from failure


class _ClosedBeforeReply(Exception):
    """The connection ended before any byte of the reply (a kept one the receiver closed)."""


def _parse(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConnectError(f"not an http(s) URL: {url[:200]}")
    host = parts.hostname
    if not host:
        raise ConnectError(f"no host in the URL: {url[:200]}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ConnectError(f"bad port in the URL: {url[:200]}") from exc
    authority = parts.netloc.rsplit("@", 1)[-1]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme == "https", host, port, authority, target)


def _request_head(
    target: _Target, length: int, user_agent: str, headers: Mapping[str, str]
) -> bytes:
    lines = [
        f"POST {target.target} HTTP/1.1",
        f"host: {target.authority}",
        f"user-agent: {user_agent}",
        f"content-length: {length}",
    ]
    for name, value in headers.items():
        if name.lower() in ("host", "content-length", "user-agent"):
            continue
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ConnectError(f"a header with a line break: {name}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
