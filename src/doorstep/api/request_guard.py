"""What the API refuses at the door, before routing: bodies that are too large, and text no
handler can store (the NUL character).

**Body size.** Every request body has a limit, by path prefix (`BodyLimits`: 1 MiB by default,
more where photos are uploaded): a declared ``Content-Length`` past it is refused at once, a
body that grows past it while it is read is refused then. A 413 ``request_too_large`` in the
API's error envelope.

**NUL.** PostgreSQL's text types cannot hold NUL (``\x00``): one that reaches a query fails
there, a 500. Rather than trust every model, query parameter and form field of every endpoint
and page to refuse it, the guard looks at each request once: the path, the query string, the
headers, and a JSON (its ``\u0000`` escape), URL-encoded or multipart body (text fields; a
file's bytes are its own business). A NUL anywhere is a 422 naming where it was: the API's
error envelope, or for the browser pages (hosted checkout, console) their HTML problem page.

A body is read ahead only for those content types, and handed on to the app unchanged; other
bodies stream through, counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
_JSON_NUL = b"\\u0000"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
# Methods whose body an endpoint reads.
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class BodyLimits:
    """The largest request body in bytes: ``default``, or that of the longest prefix of
    ``by_path`` the request's path starts with."""

    default: int
    by_path: Mapping[str, int] = field(default_factory=dict)

    def for_path(self, path: str) -> int:
        matches = [prefix for prefix in self.by_path if path.startswith(prefix)]
        return self.by_path[max(matches, key=len)] if matches else self.default


class BodyTooLarge(HTTPException):
    """Raised while the app reads a body past its limit; rendered by the app's handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes, this path's limit")


class RequestGuard:
    """``html_paths``: path prefixes answered with ``html_problem(path)`` rather than JSON."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limits: BodyLimits,
        html_paths: tuple[str, ...] = (),
        html_problem: Callable[[str], Response] | None = None,
    ) -> None:
        self.app = app
        self.body_limits = body_limits
        self.html_paths = html_paths
        self.html_problem = html_problem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.body_limits.for_path(scope["path"])
        if _declared_length(headers) > limit:
            await self._too_large(scope, limit)(scope, receive, send)
            return
        where = _nul_in_path(scope) or _nul_in_query(scope) or _nul_in_headers(headers)
        kind = _body_kind(headers.get("content-type")) if scope["method"] in _WITH_BODY else None
        if where is None and kind is not None:
            body = await _read_body(receive, limit)
            if body is None:
                await self._too_large(scope, limit)(scope, receive, send)
                return
            where = _nul_in_body(body, kind, headers.get("content-type", ""))
            receive = _replay(body, receive)
        elif where is None:
            receive = _counted(receive, limit)
        if where is None:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, where)(scope, receive, send)

    def _too_large(self, scope: Scope, limit: int) -> Response:
        return _envelope(scope, 413, "request_too_large", BodyTooLarge(limit).detail)

    def _refuse(self, scope: Scope, where: str) -> Response:
        if self.html_problem is not None and scope["path"].startswith(self.html_paths):
            return self.html_problem(scope["path"])
        problem = {
            "field": where,
            "message": "text may not contain the NUL character (\\u0000)",
            "type": "nul_character",
        }
        return _envelope(scope, 422, "validation_error", [problem])


def _envelope(scope: Scope, status: int, code: str, detail: Any) -> JSONResponse:
    request_id = scope.get("state", {}).get("request_id")
    return JSONResponse(
        status_code=status, content={"error": code, "detail": detail, "request_id": request_id}
    )


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0  # the server refuses a malformed length itself


def _nul_in_path(scope: Scope) -> str | None:
    return "path" if NUL in scope["path"] else None


def _nul_in_query(scope: Scope) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    return _nul_in_pairs(raw, "query")


def _nul_in_pairs(raw: bytes, prefix: str) -> str | None:
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace"):
        if NUL in name or NUL in value:
            return f"{prefix}.{name.replace(NUL, '')}"
    return None


def _nul_in_headers(headers: Headers) -> str | None:
    for name, value in headers.items():
        if NUL in value:
            return f"header.{name}"
    return None


def _body_kind(content_type: str | None) -> str | None:
    # FastAPI reads a body without a content type as JSON unless its content types are strict.
    if not content_type:
        return "json"
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in (_FORM, _MULTIPART):
        return media
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is past ``limit`` bytes."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _nul_in_body(body: bytes, kind: str, content_type: str) -> str | None:
    if kind == "json":
        return _nul_in_json(body) if _JSON_NUL in body else None
    if kind == _FORM:
        return _nul_in_pairs(body, "body") if b"%00" in body or b"\x00" in body else None
    return _nul_in_multipart(body, content_type) if b"\x00" in body else None


def _nul_in_json(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the endpoint says so itself
    return next(_nul_paths(document, "body"), None)


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key.replace(NUL, '')}"
            if NUL in key:
                yield name
            yield from _nul_paths(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}")


def _nul_in_multipart(body: bytes, content_type: str) -> str | None:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return None
    for part in body.split(b"--" + boundary):
        head, found, content = part.partition(b"\r\n\r\n")
        if not found:
            continue
        _, disposition = parse_options_header(_header(head, b"content-disposition"))
        name = disposition.get(b"name", b"").decode("utf-8", "replace").replace(NUL, "")
        # A file's bytes may be anything; its name and every text field may not hold NUL.
        if b"\x00" in head or (b"filename" not in disposition and b"\x00" in content):
            return f"body.{name}"
    return None


def _header(head: bytes, name: bytes) -> bytes:
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return b""
