"""The authorization matrix: every endpoint of the app x every kind of caller.

The endpoints come from the app's own routes, so a new one cannot be forgotten: a route that
`ACCESS` does not classify fails the test. Each (endpoint, caller) is one request, in a
savepoint rolled back afterwards (a sign-out or a revocation by one caller changes nothing
for the next). Path parameters name merchant A's own rows where it has one of that kind, so
merchant B asking for them probes cross-merchant access.

A caller is *denied* by 401 or 403, by a redirect to a sign-in page, or, for a row of
merchant A, by 404 (another merchant's row is "not found"). A public endpoint must answer
every caller alike: its Authorization header changes nothing.

Adding a kind of caller (partner-store staff, an operator role) is one entry in `CALLERS`
(the classes it may use) plus the token it presents in `tests/api/world.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.models import OperatorRole
from doorstep.ops import policy
from doorstep.ops.policy import Action
from doorstep.settings import Environment, Settings
from tests.api.routes import Operation, operations
from tests.api.world import CALLER_KINDS, OPERATOR_TOKEN, World, build_world
from tests.shop import DOWNTOWN_CHANDLER, local


class Access(StrEnum):
    PUBLIC = "public"  # anyone; the Authorization header changes nothing
    MERCHANT = "merchant"  # a merchant's secret key, on its own data
    MERCHANT_ROW = "merchant_row"  # merchant A's secret key, on a row of merchant A
    ANY_KEY = "any_key"  # a merchant's secret or publishable key
    OPERATOR = "operator"  # any operator: an action every role may take (a read)
    OPERATOR_RUN = "operator_run"  # an operator who runs the day: admin or dispatcher
    OPERATOR_ADMIN = "operator_admin"  # an operator admin
    DRIVER = "driver"  # a driver's token
    STORE = "store"  # a partner store's staff token, on its own store
    PAGE = "page"  # a page behind its own sign-in (a cookie): no bearer caller gets in


@dataclass(frozen=True)
class CallerKind:
    description: str
    allowed: frozenset[Access]


_MERCHANT = frozenset({Access.PUBLIC, Access.MERCHANT, Access.ANY_KEY})
_STAFF = frozenset({Access.PUBLIC, Access.STORE})
_ADMIN = frozenset({Access.PUBLIC, Access.OPERATOR, Access.OPERATOR_RUN, Access.OPERATOR_ADMIN})
CALLERS: dict[str, CallerKind] = {
    "anonymous": CallerKind(CALLER_KINDS["anonymous"], frozenset({Access.PUBLIC})),
    "secret_a": CallerKind(CALLER_KINDS["secret_a"], _MERCHANT | {Access.MERCHANT_ROW}),
    "publishable_a": CallerKind(
        CALLER_KINDS["publishable_a"], frozenset({Access.PUBLIC, Access.ANY_KEY})
    ),
    "secret_b": CallerKind(CALLER_KINDS["secret_b"], _MERCHANT),
    "revoked": CallerKind(CALLER_KINDS["revoked"], frozenset({Access.PUBLIC})),
    "operator": CallerKind(CALLER_KINDS["operator"], _ADMIN),  # acts as an admin
    "driver": CallerKind(CALLER_KINDS["driver"], frozenset({Access.PUBLIC, Access.DRIVER})),
    "staff_a": CallerKind(CALLER_KINDS["staff_a"], _STAFF),
    "staff_b": CallerKind(CALLER_KINDS["staff_b"], _STAFF),
    "admin": CallerKind(CALLER_KINDS["admin"], _ADMIN),
    "dispatcher": CallerKind(CALLER_KINDS["dispatcher"], _ADMIN - {Access.OPERATOR_ADMIN}),
    "viewer": CallerKind(CALLER_KINDS["viewer"], frozenset({Access.PUBLIC, Access.OPERATOR})),
}

P, M, R, K, OP, RUN, ADM, D, S, G = (
    Access.PUBLIC,
    Access.MERCHANT,
    Access.MERCHANT_ROW,
    Access.ANY_KEY,
    Access.OPERATOR,
    Access.OPERATOR_RUN,
    Access.OPERATOR_ADMIN,
    Access.DRIVER,
    Access.STORE,
    Access.PAGE,
)
#: Every endpoint's class. A new route must be added here, or the test fails.
ACCESS: dict[str, Access] = {
    "GET /openapi.json": P,
    "GET /docs": P,
    "GET /redoc": P,
    "GET /healthz": P,
    "GET /readyz": P,
    "GET /": P,
    "GET /widget.js": P,
    "GET /assets/{name:path}": P,
    "GET /v1/geo/postal-codes/{code}": P,
    "GET /dev/outbox": P,  # outside production only
    "GET /dev/outbox/{message_id}": P,
    "POST /v1/notifications/sms/inbound": P,  # signed by the SMS provider, not by a caller
    # Merchants (secret keys)
    "GET /v1/merchant": M,
    "GET /v1/api-keys": M,
    "POST /v1/api-keys": M,
    "POST /v1/api-keys/{key_id}/revoke": R,
    "PUT /v1/products": M,
    "GET /v1/products": M,
    "PUT /v1/inventory": M,
    "GET /v1/inventory": M,
    "POST /v1/catalog/import": M,
    "POST /v1/delivery-previews": K,
    "POST /v1/orders": M,
    "GET /v1/orders": M,
    "GET /v1/orders.csv": M,
    "GET /v1/orders/{order_id}": R,
    "POST /v1/orders/{order_id}/cancel": R,
    "POST /v1/webhook-endpoints": M,
    "GET /v1/webhook-endpoints": M,
    "GET /v1/webhook-endpoints/{endpoint_id}": R,
    "PATCH /v1/webhook-endpoints/{endpoint_id}": R,
    "POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret": R,
    "DELETE /v1/webhook-endpoints/{endpoint_id}": R,
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries": R,
    "POST /v1/webhook-deliveries/{delivery_id}/redeliver": R,
    "GET /v1/notification-settings": M,
    "PUT /v1/notification-settings": M,
    "GET /v1/returns": M,
    # Operators, by the roles `doorstep.ops.policy` allows (checked against it below)
    "GET /v1/network/nodes": OP,
    "GET /v1/network/nodes/{code}": OP,
    "GET /v1/network/service-areas": OP,
    "PATCH /v1/network/nodes/{code}": RUN,
    "POST /v1/plans": RUN,
    "GET /v1/plans/{plan_id}": OP,
    "GET /v1/plans/{plan_id}/blocks/{block_id}": OP,
    "POST /v1/carrier/handovers": RUN,
    "POST /v1/stations/{code}/returns": RUN,
    "POST /v1/partner-stores/{code}/drop": RUN,
    "POST /v1/returns/{code}/receive": RUN,
    "GET /v1/ops/me": OP,
    "GET /v1/ops/users": ADM,
    "POST /v1/ops/users": ADM,
    "PATCH /v1/ops/users/{user_id}": ADM,
    "POST /v1/ops/users/{user_id}/tokens": ADM,
    "GET /v1/ops/tokens": ADM,
    "DELETE /v1/ops/tokens/{token_id}": ADM,
    "GET /v1/ops/audit": ADM,
    "GET /v1/ops/exceptions": OP,
    "GET /v1/ops/exceptions/{exception_id}": OP,
    "POST /v1/ops/exceptions/{exception_id}/actions": RUN,
    "GET /v1/ops/numbers": OP,
    # Partner stores' staff
    "POST /v1/store/sign-in": P,
    "POST /v1/store/sign-in/verify": P,
    "POST /v1/store/sign-out": S,
    "GET /v1/store/me": S,
    "POST /v1/store/location": S,
    "PUT /v1/store/profile": S,
    "GET /v1/store/manifest": S,
    "POST /v1/store/manifest/scans": S,
    "POST /v1/store/manifest/unexpected": S,
    "POST /v1/store/manifest/{outcome}": S,
    "GET /v1/store/route": S,
    "POST /v1/store/route/start": S,
    "POST /v1/store/route/stops/{stop_id}/deliver": S,
    "POST /v1/store/route/stops/{stop_id}/attempt": S,
    "GET /v1/store/counter": S,
    "POST /v1/store/counter/hand-over": S,
    "POST /v1/store/returns": S,
    "GET /v1/store/statement": S,
    "GET /v1/store/statement.csv": S,
    # Drivers
    "POST /v1/driver/sign-up": P,
    "POST /v1/driver/sign-in": P,
    "POST /v1/driver/sign-in/verify": P,
    "POST /v1/driver/sign-out": D,
    "GET /v1/driver/me": D,
    "PATCH /v1/driver/me": D,
    "GET /v1/driver/availability": D,
    "PUT /v1/driver/availability/weekly": D,
    "POST /v1/driver/availability/exceptions": D,
    "DELETE /v1/driver/availability/exceptions/{exception_id}": D,
    "GET /v1/driver/offers": D,
    "GET /v1/driver/offers/{offer_id}": D,
    "POST /v1/driver/offers/{offer_id}/accept": D,
    "POST /v1/driver/offers/{offer_id}/decline": D,
    "POST /v1/driver/position": D,
    "GET /v1/driver/blocks": D,
    "POST /v1/driver/blocks/{block_id}/forfeit": D,
    "GET /v1/driver/blocks/{block_id}": D,
    "POST /v1/driver/blocks/{block_id}/check-in": D,
    "POST /v1/driver/blocks/{block_id}/scans": D,
    "POST /v1/driver/blocks/{block_id}/missing": D,
    "POST /v1/driver/blocks/{block_id}/depart": D,
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/deliver": D,
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/attempt": D,
    "POST /v1/driver/blocks/{block_id}/return": D,
    "POST /v1/driver/blocks/{block_id}/returns": D,
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/drop": D,
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/collect": D,
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/not-collected": D,
    "GET /v1/driver/earnings": D,
    "GET /v1/driver/earnings.csv": D,
    "GET /v1/driver/standing": D,
    # Pages: the console (a merchant user's cookie), the driver app (a driver's cookie),
    # hosted checkout (a publishable key in the link)
    "GET /console": P,  # a redirect to the orders page
    "GET /console/login": P,
    "POST /console/login": P,
    "POST /console/logout": P,
    "GET /console/orders": G,
    "GET /console/orders.csv": G,
    "GET /driver/": G,
    "GET /driver/sw.js": P,
    "GET /driver/manifest.webmanifest": P,
    "GET /driver/sign-in": P,
    "POST /driver/sign-in": P,
    "POST /driver/sign-in/code": P,
    "POST /driver/sign-out": P,
    "GET /driver/sign-up": P,
    "POST /driver/sign-up": P,
    "GET /driver/offers": G,
    "GET /driver/blocks/{block_id}": G,
    "GET /driver/blocks/{block_id}/scan": G,
    "GET /driver/blocks/{block_id}/stops/{stop_id}": G,
    "GET /driver/earnings": G,
    "GET /driver/standing": G,
    "GET /driver/availability": G,
    "GET /driver/account": G,
    # The store pages (a staff member's cookie)
    "GET /store/sign-in": P,
    "POST /store/sign-in": P,
    "POST /store/sign-in/code": P,
    "POST /store/sign-out": P,
    "GET /store/": G,
    "GET /store/route": G,
    "GET /store/counter": G,
    "GET /store/statement": G,
    "GET /store/onboarding": G,
    # The operator's console (an operator's cookie)
    "GET /ops": P,  # a redirect to the console's home
    "GET /ops/sign-in": P,
    "POST /ops/sign-in": P,
    "POST /ops/sign-out": P,
    "GET /ops/": G,
    "GET /ops/plans": G,
    "GET /ops/plans/{plan_id}": G,
    "GET /ops/users": G,
    "POST /ops/users/tokens/{token_id}/revoke": G,
    "GET /ops/exceptions": G,
    "POST /ops/exceptions/{exception_id}/act": G,
    "GET /ops/numbers.csv": G,
    "GET /ops/numbers": G,
    "GET /ops/map": G,
    "GET /ops/map/events": G,
    "GET /ops/network": G,
    "GET /ops/network/{code}": G,
    "POST /ops/network/{code}": G,
    "GET /ops/plans/new": G,
    "POST /ops/plans/new": G,
    # The shopper's tracking page: the token in the link is the credential
    "GET /track/{token}": P,
    "POST /track/{token}/instructions": P,
    "POST /track/{token}/return": P,
    "POST /track/{token}/counter": P,
    "GET /track/{token}/photo": P,
    "GET /track/{token}/events": P,
    "GET /checkout": P,
    "POST /checkout": P,
    "POST /checkout/requote": P,
    "GET /checkout/confirmation": P,
}

# Endpoints that check the key inside their own transaction, after the body: sent a body
# they accept, so a bad key is what they answer about.
BODIES: dict[str, dict[str, Any]] = {
    "POST /v1/delivery-previews": {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER,
    },
    "POST /v1/orders": {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": DOWNTOWN_CHANDLER,
        "speed": "same_day",
        "recipient": {"name": "Ana Ruiz"},
    },
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass
class Matrix:
    world: World
    client: TestClient
    connection: Connection


@pytest.fixture
def matrix(
    engine: Engine, connection: Connection, session_factory: sessionmaker[Session]
) -> Iterator[Matrix]:
    with session_factory() as session:
        world = build_world(session)
        session.commit()
    settings = Settings(
        environment=Environment.TEST,
        operator_token=OPERATOR_TOKEN,
        rate_limit="",
        auth_failure_limit="",
        console_login_limit="",
        # No background outbox reader: it would share the test's connection (and savepoints).
        tracking_page_cache_seconds=0,
    )
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory
    app.state.clock = lambda: local(10)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Matrix(world, client, connection)


def _path(operation: Operation, world: World) -> tuple[str, bool]:
    """The path with merchant A's rows where it has one; whether it names one."""
    owned = False

    def fill(match: re.Match[str]) -> str:
        nonlocal owned
        if match.group(1) in world.owned_by_a:
            owned = True
            return world.owned_by_a[match.group(1)]
        return "1"

    return _PARAM.sub(fill, operation.path), owned


#: The class of an operator endpoint, from the roles `doorstep.ops.policy` allows its action.
BY_ROLES: dict[frozenset[OperatorRole], Access] = {
    policy.EVERYONE: Access.OPERATOR,
    policy.RUNS_THE_DAY: Access.OPERATOR_RUN,
    policy.ADMINS: Access.OPERATOR_ADMIN,
}


def _action(operation: Operation) -> Action | None:
    """The action an operator endpoint names (its `operator_may` dependency, its router's
    included); None for every other endpoint."""
    stack = [operation.route.dependant] if operation.api else []
    while stack:
        dependant = stack.pop()
        action = getattr(dependant.call, "action", None)
        if action is not None:
            return Action(action)
        stack.extend(dependant.dependencies)
    return None


def test_operator_endpoints_are_classed_as_the_policy_says(matrix: Matrix) -> None:
    named = 0
    for operation in operations(matrix.client.app):  # type: ignore[arg-type]
        action = _action(operation)
        if action is None:
            assert ACCESS.get(operation.key) not in set(BY_ROLES.values()), operation.key
            continue
        named += 1
        assert ACCESS[operation.key] is BY_ROLES[policy.ALLOWED[action]], operation.key
    assert named >= 20


def _outcome(status: int, location: str, owned: bool) -> str:
    if status in (401, 403) or (owned and status == 404):
        return "denied"
    if 300 <= status < 400 and ("login" in location or "sign-in" in location):
        return "denied"
    return "allowed"


def test_every_endpoint_for_every_caller(matrix: Matrix) -> None:
    world, client = matrix.world, matrix.client
    assert set(CALLERS) == set(world.headers)
    routes = list(operations(client.app))  # type: ignore[arg-type]
    unclassified = [op.key for op in routes if op.key not in ACCESS]
    assert unclassified == [], "classify these routes in ACCESS"
    assert not set(ACCESS) - {op.key for op in routes}, "ACCESS names routes that are gone"

    table: dict[str, dict[str, str]] = {}
    wrong: list[str] = []
    tally: Counter[tuple[Access, str, str]] = Counter()
    for operation in routes:
        access = ACCESS[operation.key]
        path, owned = _path(operation, world)
        answers: dict[str, int] = {}
        for caller, kind in CALLERS.items():
            body = BODIES.get(operation.key, {}) if operation.method in _WRITES else None
            savepoint = matrix.connection.begin_nested()
            try:
                response = client.request(
                    operation.method,
                    path,
                    headers=world.headers[caller],
                    json=body,
                    follow_redirects=False,
                )
            finally:
                savepoint.rollback()
            answers[caller] = response.status_code
            outcome = _outcome(response.status_code, response.headers.get("location", ""), owned)
            tally[(access, caller, outcome)] += 1
            expected = "allowed" if access in kind.allowed else "denied"
            mark = "✓" if outcome == "allowed" else "✗"
            table.setdefault(operation.key, {})[caller] = f"{response.status_code}{mark}"
            if access is not Access.PUBLIC and outcome != expected:
                wrong.append(f"{operation.key} as {caller}: {response.status_code}, {expected}?")
            assert response.status_code < 500, (operation.key, caller, response.text)
        if access is Access.PUBLIC and len(set(answers.values())) != 1:
            wrong.append(f"{operation.key} (public) answers callers differently: {answers}")

    _print(table, tally)
    assert wrong == [], "\n".join(wrong)


def _print(table: dict[str, dict[str, str]], tally: Counter[tuple[Access, str, str]]) -> None:
    callers = list(CALLERS)
    # Each column as wide as its caller's name (and at least a "12/16" tally).
    width = {c: max(len(c), 5) for c in callers}
    heads = " ".join(f"{c:>{width[c]}}" for c in callers)
    print(f"\n{'endpoint':62} {'class':14} {heads}")
    for key, row in table.items():
        cells = " ".join(f"{row[c]:>{width[c]}}" for c in callers)
        print(f"{key[:62]:62} {ACCESS[key].value:14} {cells}")
    print(f"\nallowed, of the endpoints of each class\n{'class':14} {'endpoints':>9} {heads}")
    for access in Access:
        count = sum(1 for key in table if ACCESS[key] is access)
        allowed = [f"{tally[(access, c, 'allowed')]:>{width[c]}}" for c in callers]
        print(f"{access.value:14} {count:>9} " + " ".join(allowed))
