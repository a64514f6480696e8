"""Rate limits, over the `limits` library: per verified API key, and per client address.

A secret key has one budget for all its calls. A publishable key is used by every shopper's
browser on the merchant's site, so its budget is per key *and* client address: one abusive
client can't spend the whole site's share. A key's budget is spent only once the key is
verified (`RateLimits.spend_key`, called by the dependency that checks keys): a key's prefix
is public (it is in every page that embeds a publishable key, and secret and publishable
prefixes look alike), so counting what merely *looks* like a merchant's key would let anyone
exhaust its budget with forged keys.

What is not a verified key is counted per client address, in two budgets: calls without a
key (`ip:`), and failed key checks (`auth-fail:`), which, once spent, refuse every call with a
key from that address before any look-up. A call that presented a key but reached no key
check (a public endpoint) is counted per address when it has been answered.

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

from doorstep.errors import DomainError
from doorstep.merchants.keys import prefix_of
from doorstep.models import ApiKeyKind
from doorstep.settings import Settings

# Probes must answer even when a client floods the API.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
# Set in the request's state once a verified key's budget paid for the call.
COUNTED = "rate_limit_counted"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, limit: RateLimitItem, retry_after_s: int) -> None:
        super().__init__(f"too many requests: the limit is {limit}")
        self.headers = {"Retry-After": str(retry_after_s)}


def presents_key(authorization: str) -> bool:
    """Whether the Authorization header carries something shaped like an API key."""
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and prefix_of(token.strip()) is not None


class RateLimits:
    """The budgets, in memory (one process) or Redis (shared): ``limit`` per verified key and
    per address for calls without one; ``failures`` failed key checks per address."""

    def __init__(self, limit: str, failures: str, storage_uri: str) -> None:
        self.item: RateLimitItem = parse(limit)
        self.failures: RateLimitItem | None = parse(failures) if failures else None
        self.limiter = MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def spend_key(self, prefix: str, kind: ApiKeyKind, client: str) -> None:
        """Count a call of a verified key; `RateLimited` when its budget is spent."""
        bucket = f"{prefix}:{client}" if kind is ApiKeyKind.PUBLISHABLE else prefix
        self._spend(self.item, bucket)

    def key_failed(self, client: str) -> None:
        """Count a failed key check from ``client``."""
        if self.failures is not None:
            self.limiter.hit(self.failures, f"auth-fail:{client}")

    def spend_address(self, client: str) -> None:
        """Count a call without a verified key from ``client``."""
        self._spend(self.item, f"ip:{client}")

    def check_address(self, client: str) -> None:
        """Refuse (without counting) an address whose failed key checks or keyless calls
        have spent their budget."""
        if self.failures is not None:
            self._check(self.failures, f"auth-fail:{client}")
        self._check(self.item, f"ip:{client}")

    def _spend(self, item: RateLimitItem, bucket: str) -> None:
        if not self.limiter.hit(item, bucket):
            raise RateLimited(item, self._retry_after(item, bucket))

    def _check(self, item: RateLimitItem, bucket: str) -> None:
        if not self.limiter.test(item, bucket):
            raise RateLimited(item, self._retry_after(item, bucket))

    def _retry_after(self, item: RateLimitItem, bucket: str) -> int:
        reset_at = self.limiter.get_window_stats(item, bucket).reset_time
        return max(1, int(reset_at - time.time()) + 1)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        keyed = presents_key(Headers(scope=scope).get("authorization", ""))
        try:
            if keyed:
                self.limits.check_address(client)
            else:
                self.limits.spend_address(client)
        except RateLimited as refused:
            await self._refuse(scope, refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
        if keyed and not scope.get("state", {}).get(COUNTED):
            # A key no endpoint checked (a public endpoint): the address pays, afterwards.
            self.limits.limiter.hit(self.limits.item, f"ip:{client}")

    def _refuse(self, scope: Scope, refused: RateLimited) -> JSONResponse:
        return JSONResponse(
            status_code=refused.status,
            content={
                "error": refused.code,
                "detail": refused.detail,
                "request_id": scope.get("state", {}).get("request_id"),
            },
            headers=refused.headers,
        )


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    """The middleware, and ``app.state.rate_limits`` for the key check (None: no limits)."""
    app.state.rate_limits = None
    if settings.rate_limit:
        limits = RateLimits(
            settings.rate_limit, settings.auth_failure_limit, settings.rate_limit_storage
        )
        app.state.rate_limits = limits
        app.add_middleware(RateLimitMiddleware, limits=limits)
