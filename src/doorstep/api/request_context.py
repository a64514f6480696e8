"""The request id: taken from the caller or made here, bound to every log line, echoed back;
and the headers every answer carries unless it set its own:

- ``X-Content-Type-Options: nosniff``: a browser must not guess that a JSON error echoing what
  a caller sent is a page to render.
- ``Cache-Control: no-store`` on what may hold private data: every ``/v1/`` answer (orders,
  addresses, keys, previews of a shopper's basket, errors about them), and any answer to a
  request that carried credentials (an ``Authorization`` header or a cookie). Public assets
  (``/widget.js``, ``/assets/…``) set their own caching, and it is kept.
- ``Strict-Transport-Security`` on every answer to an HTTPS request: the scheme is the
  connection's, or a trusted proxy's ``X-Forwarded-Proto`` (``DOORSTEP_TRUSTED_PROXIES``, read
  by the outermost middleware); a browser then never tries plain HTTP for the host again.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs the rest of the app in a separate task and streams the response
through a memory channel, which cost about a millisecond of CPU on every request.
"""

from __future__ import annotations

import random
import time

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# Answers under this prefix may hold a merchant's or a shopper's data.
PRIVATE_PREFIX = "/v1/"

log = structlog.get_logger("doorstep.http")

# A request id only has to be unique, not secret: Python's generator, not os.urandom, which
# releases the GIL and so makes the event loop wait for it behind a busy worker thread.
_ids = random.Random()


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # Honour an id from the caller (a proxy, a merchant's retry) so logs line up end to end.
        request_id = headers.get(REQUEST_ID_HEADER) or f"{_ids.getrandbits(128):032x}"
        private = (
            scope["path"].startswith(PRIVATE_PREFIX)
            or "authorization" in headers
            or "cookie" in headers
        )
        # Request.state reads scope["state"]: error handlers put the id in the error body.
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        hsts = self.hsts if scope.get("scheme") == "https" else None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer = MutableHeaders(scope=message)
                answer[REQUEST_ID_HEADER] = request_id
                answer.setdefault("X-Content-Type-Options", "nosniff")
                if private:
                    answer.setdefault("Cache-Control", "no-store")
                if hsts is not None:
                    answer.setdefault("Strict-Transport-Security", hsts)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
