"""Rate limits per API key, enforced in a small ASGI middleware over the `limits` library.

A secret key has one budget for all its calls. A publishable key is used by every shopper's
browser on the merchant's site, so its budget is per key *and* client address: one abusive
client can't spend the whole site's share. Calls without a key are limited per address.

(slowapi, the usual wrapper, finds the endpoint by walking ``app.routes``; FastAPI 0.16x keeps
included routers behind a lazy wrapper there, so slowapi would silently limit nothing. We use
its engine, `limits`, directly.)
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse, storage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from doorstep.merchants.keys import prefix_of
from doorstep.settings import Settings

# Probes must answer even when a client floods the API.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


def rate_limit_key(authorization: str, client: str) -> str:
    scheme, _, token = authorization.partition(" ")
    prefix = prefix_of(token.strip()) if scheme.lower() == "bearer" else None
    if prefix is None:
        return f"ip:{client}"
    return f"{prefix}:{client}" if prefix.startswith("pk_") else prefix


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: str, storage_uri: str) -> None:
        self.app = app
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope["client"][0] if scope.get("client") else "unknown"
        key = rate_limit_key(headers.get("authorization", ""), client)
        if self.limiter.hit(self.item, key):
            await self.app(scope, receive, send)
            return
        reset_at = self.limiter.get_window_stats(self.item, key).reset_time
        response = JSONResponse(
            status_code=429,
            content={
                "error": "rate_limited",
                "detail": f"too many requests: the limit is {self.item}",
                "request_id": headers.get("x-request-id"),
            },
            headers={"Retry-After": str(max(1, int(reset_at - time.time()) + 1))},
        )
        await response(scope, receive, send)


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    if settings.rate_limit:
        app.add_middleware(
            RateLimitMiddleware,
            limit=settings.rate_limit,
            storage_uri=settings.rate_limit_storage,
        )
