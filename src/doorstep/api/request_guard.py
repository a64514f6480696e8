"""Refusing, at the door, text no handler can store: the NUL character.

PostgreSQL's text types cannot hold NUL (``\\x00``): one that reaches a query fails there, a
500. Rather than trust every model, query parameter and form field of every endpoint and page
to refuse it, this plain ASGI middleware looks at each request once, before routing: the
path, the query string, the headers, and a JSON (its ``\\u0000`` escape), URL-encoded or
multipart body (text fields; a file's bytes are its own business). A NUL anywhere is a 422
naming where it was: the API's error envelope, or for the browser pages (hosted checkout,
console) their HTML problem page.

A body is read only for those content types, and handed on to the app unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
_JSON_NUL = b"\\u0000"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
# Methods whose body an endpoint reads.
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestGuard:
    """``html_paths``: path prefixes answered with ``html_problem(path)`` rather than JSON."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        html_paths: tuple[str, ...] = (),
        html_problem: Callable[[str], Response] | None = None,
    ) -> None:
        self.app = app
        self.html_paths = html_paths
        self.html_problem = html_problem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        where = _nul_in_path(scope) or _nul_in_query(scope) or _nul_in_headers(headers)
        if where is None and scope["method"] in _WITH_BODY:
            kind = _body_kind(headers.get("content-type"))
            if kind is not None:
                body = await _read_body(receive)
                where = _nul_in_body(body, kind, headers.get("content-type", ""))
                receive = _replay(body, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, where)(scope, receive, send)

    def _refuse(self, scope: Scope, where: str) -> Response:
        if self.html_problem is not None and scope["path"].startswith(self.html_paths):
            return self.html_problem(scope["path"])
        request_id = scope.get("state", {}).get("request_id")
        problem = {
            "field": where,
            "message": "text may not contain the NUL character (\\u0000)",
            "type": "nul_character",
        }
        return JSONResponse(
            status_code=422,
            content={"error": "validation_error", "detail": [problem], "request_id": request_id},
        )


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


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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
