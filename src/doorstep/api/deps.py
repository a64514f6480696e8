"""Request-scoped dependencies: the transaction and the caller's identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from annotated_types import Interval
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from doorstep.api.key_cache import KeyCache
from doorstep.api.ratelimit import COUNTED, RateLimits
from doorstep.db import READ_ONLY_BEGIN, unit_of_work
from doorstep.errors import DomainError
from doorstep.merchants.keys import SCOPES, prefix_of
from doorstep.merchants.service import InvalidApiKey, authenticate
from doorstep.models import ApiKeyKind
from doorstep.promise.network import NetworkSnapshot, SnapshotCache
from doorstep.promise.rules import PromisePolicy
from doorstep.settings import Settings

#: The largest id a row can have: ids are INTEGER columns (PostgreSQL's is 32 bits).
MAX_ROW_ID = 2**31 - 1
# An id in a path or query: a larger number names no row, and would not fit the database's
# parameter (a 500 on PostgreSQL); it is a 422 naming the parameter instead.
RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class KeyNotAllowed(DomainError):
    status = 403
    code = "key_not_allowed"


# Dependencies that neither block nor touch the database are ``async``: FastAPI runs a sync
# dependency in a worker thread, and each such hop costs more than the work itself.


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def _now(request: Request) -> datetime:
    # The app's clock, so tests (and the simulator) can run the API at a chosen time.
    now: datetime = request.app.state.clock()
    return now


Now = Annotated[datetime, Depends(_now)]


def _session(request: Request) -> Iterator[Session]:
    # The request owns the transaction: one commit after the endpoint returns and before the
    # response is sent, so nothing acknowledged to a client can be lost afterwards.
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


# scope="function": the commit runs before the response leaves, not after it.
DbSession = Annotated[Session, Depends(_session, scope="function")]


async def _network(request: Request) -> NetworkSnapshot:
    cache: SnapshotCache = request.app.state.network_cache
    fresh = cache.fresh()
    if fresh is not None:
        return fresh
    # Reloading reads the database: do it off the event loop, in a read-only transaction of
    # its own (no request session is opened just to find the snapshot fresh).
    return await run_in_threadpool(_reload_network, request)


def _reload_network(request: Request) -> NetworkSnapshot:
    cache: SnapshotCache = request.app.state.network_cache
    with unit_of_work(request.app.state.session_factory) as session:
        session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})
        return cache.get(session)


# The network's coverage as this process last read it (see doorstep.promise.network).
Network = Annotated[NetworkSnapshot, Depends(_network)]


async def _promise_policy(request: Request) -> PromisePolicy:
    # Built once per app from the settings: its travel model is the process's one model.
    policy: PromisePolicy = request.app.state.promise_policy
    return policy


Promises = Annotated[PromisePolicy, Depends(_promise_policy)]


@dataclass(frozen=True)
class Caller:
    """The merchant behind the API key of this request."""

    merchant_id: int
    key_id: int
    key_prefix: str
    kind: ApiKeyKind
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


_api_key_bearer = HTTPBearer(auto_error=False, description="A merchant's API key")


ApiKeyCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key_bearer)]


def _merchant_caller(
    request: Request, session: DbSession, credentials: ApiKeyCredentials
) -> Caller:
    return identify(session, credentials, request)


def identify(
    session: Session, credentials: HTTPAuthorizationCredentials | None, request: Request
) -> Caller:
    """The merchant behind the request's API key (for endpoints that run their own
    transaction; others depend on `requires`)."""
    if credentials is None:
        raise NotAuthenticated("missing 'Authorization: Bearer <API key>' header")
    keys: KeyCache | None = getattr(request.app.state, "key_cache", None)
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    client = request.client.host if request.client else "unknown"
    api_key = keys.get(credentials.credentials) if keys is not None else None
    if limits is not None:
        setattr(request.state, COUNTED, True)  # by the key's budget or the failures'
    if api_key is None:
        try:
            api_key = authenticate(session, credentials.credentials)
        except InvalidApiKey:
            if limits is not None:
                limits.key_failed(client)  # the address pays, never the key's owner
            raise
        if keys is not None:
            keys.put(credentials.credentials, api_key)
    if limits is not None:
        # Only now, with the key verified, does the call spend the key's budget.
        limits.spend_key(api_key.prefix, api_key.kind, client)
    caller = Caller(
        merchant_id=api_key.merchant_id,
        key_id=api_key.id,
        key_prefix=api_key.prefix,
        kind=api_key.kind,
        scopes=api_key.scopes,
    )
    request.state.caller = caller
    return caller


def presented_key(scope: str) -> Callable[..., Awaitable[HTTPAuthorizationCredentials]]:
    """A dependency for endpoints that check the key inside their own transaction.

    It refuses, before the body is even validated, what the key's shape alone tells: no key,
    a malformed key, a publishable key on an endpoint that only secret keys may call. The
    database check (`identify`) then runs in the endpoint's transaction.
    """

    async def check(credentials: ApiKeyCredentials) -> HTTPAuthorizationCredentials:
        if credentials is None:
            raise NotAuthenticated("missing 'Authorization: Bearer <API key>' header")
        prefix = prefix_of(credentials.credentials)
        if prefix is None:
            raise InvalidApiKey("the API key is not valid")
        kind = ApiKeyKind.PUBLISHABLE if prefix.startswith("pk_") else ApiKeyKind.SECRET
        if "*" not in SCOPES[kind] and scope not in SCOPES[kind]:
            raise KeyNotAllowed(
                f"a {kind} key cannot do this; use the secret key on your server",
                required_scope=scope,
            )
        return credentials

    return check


def check_scope(caller: Caller, scope: str) -> Caller:
    if not caller.allows(scope):
        raise KeyNotAllowed(
            f"a {caller.kind} key cannot do this; use the secret key on your server",
            required_scope=scope,
        )
    return caller


def requires(scope: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller's key must carry ``scope`` (secret keys carry every scope)."""

    async def check(caller: Annotated[Caller, Depends(_merchant_caller)]) -> Caller:
        return check_scope(caller, scope)

    return check


# Secret keys only: everything that reads or changes a merchant's data.
SecretKeyCaller = Annotated[Caller, Depends(requires("*"))]
