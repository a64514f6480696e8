"""Who may call which operator endpoint: every endpoint × every role, anonymous, and the
tokens of merchants, drivers and partner-store staff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.access import service as access
from doorstep.api.app import create_app
from doorstep.merchants import service as merchants
from doorstep.models import AuditEntry, OperatorRole, Principal
from doorstep.ops import policy
from doorstep.ops.policy import Action
from doorstep.settings import Environment, Settings
from tests.ops.conftest import NOW, bearer

# Paths whose every endpoint is the operator's: nothing here may skip the policy.
OPERATOR_PATHS = re.compile(r"^/v1/(plans|network|carrier|ops)(/|$)|^/v1/stations/[^/]+/returns$")


def _action_of(route: APIRoute, included: list[Any]) -> Action | None:
    """The action the route's operator dependency names (None: not an operator endpoint)."""
    stack = list(route.dependant.dependencies)
    calls = [d.dependency for d in included]
    while stack:
        dep = stack.pop()
        calls.append(dep.call)
        stack.extend(dep.dependencies)
    for call in calls:
        action = getattr(call, "action", None)
        if action is not None:
            return Action(action)
    return None


def _routes(routes: list[Any], included: list[Any]) -> Iterator[tuple[str, APIRoute, list[Any]]]:
    # FastAPI 0.165 includes routers lazily: the app's routes hold the included routers, each
    # route's full path and its own dependencies come from walking them.
    for route in routes:
        if isinstance(route, fastapi_routing._IncludedRouter):
            context = route.include_context
            yield from _routes(route.effective_candidates(), [*included, *context.dependencies])
        elif isinstance(route, fastapi_routing._EffectiveRouteContext):
            if isinstance(route.original_route, APIRoute):
                yield route.path, route.original_route, included
        elif isinstance(route, APIRoute):
            yield route.path, route, included


def operator_endpoints(client: TestClient) -> list[tuple[str, str, Action]]:
    found = []
    for full_path, route, included in _routes(client.app.routes, []):  # type: ignore[attr-defined]
        action = _action_of(route, included)
        if OPERATOR_PATHS.match(full_path):
            assert action is not None, f"{full_path} is an operator path without an action"
        if action is None:
            continue
        for method in sorted(route.methods or ()):
            found.append((method, re.sub(r"\{[^}]+\}", "999999", full_path), action))
    return found


def test_every_operator_path_names_an_action(client: TestClient) -> None:
    endpoints = operator_endpoints(client)
    paths = {path for _, path, _ in endpoints}
    assert {"/v1/plans", "/v1/network/nodes", "/v1/carrier/handovers", "/v1/ops/users"} <= paths
    assert {"/v1/stations/999999/returns", "/v1/ops/exceptions", "/v1/ops/numbers"} <= paths
    assert ("PATCH", "/v1/network/nodes/999999", Action.NETWORK_EDIT) in endpoints


def test_a_viewer_may_not_plan_and_a_dispatcher_may(
    client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    body = {"station": "NOWHERE", "date": "2026-12-04"}
    refused = client.post("/v1/plans", json=body, headers=bearer(tokens[OperatorRole.VIEWER]))
    assert refused.status_code == 403
    assert refused.json()["error"] == "role_not_allowed"
    allowed = client.post("/v1/plans", json=body, headers=bearer(tokens[OperatorRole.DISPATCHER]))
    assert allowed.status_code not in (401, 403)  # past the policy: the station is unknown
    assert allowed.status_code == 404


def test_every_endpoint_by_every_role(
    client: TestClient, session: Session, tokens: dict[OperatorRole, str]
) -> None:
    created = merchants.create_merchant(session, "Stride Sneakers")
    others = {
        "merchant secret key": created.secret_key.plaintext,
        "merchant publishable key": created.publishable_key.plaintext,
        "driver": access.issue_token(session, Principal.DRIVER, 1, now=NOW).plaintext,
        "partner staff": access.issue_token(session, Principal.PARTNER_STAFF, 1, now=NOW).plaintext,
        "garbage": "opr_000000000000_" + "x" * 43,
    }
    session.commit()
    table: list[tuple[str, str, str, int]] = []
    for method, path, action in operator_endpoints(client):
        anonymous = client.request(method, path, json={})
        assert anonymous.status_code == 401, (method, path)
        for who, token in others.items():
            answer = client.request(method, path, json={}, headers=bearer(token))
            assert answer.status_code == 401, (method, path, who, answer.status_code)
        for role, token in tokens.items():
            answer = client.request(method, path, json={}, headers=bearer(token))
            table.append((method, path, role.value, answer.status_code))
            if policy.may(role, action):
                assert answer.status_code not in (401, 403), (method, path, role, answer.json())
            else:
                assert answer.status_code == 403, (method, path, role)
                assert answer.json()["error"] == "role_not_allowed"
    assert len(table) >= 3 * 15


def test_a_viewer_only_reads() -> None:
    for action in Action:
        if policy.may(OperatorRole.VIEWER, action):
            assert action in policy.READS, action
        assert policy.may(OperatorRole.ADMIN, action)


def test_a_revoked_or_deactivated_operator_is_refused_at_once(
    client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    admin = bearer(tokens[OperatorRole.ADMIN])
    viewer = bearer(tokens[OperatorRole.VIEWER])
    assert client.get("/v1/ops/me", headers=viewer).json()["role"] == "viewer"
    listed = client.get("/v1/ops/tokens", headers=admin).json()
    [mine] = [t for t in listed if t["email"] == "viewer@ops.example.com"]
    assert "token" not in mine
    assert tokens[OperatorRole.VIEWER].startswith(mine["prefix"])
    revoked = client.delete(f"/v1/ops/tokens/{mine['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    assert client.get("/v1/ops/me", headers=viewer).status_code == 401

    dispatcher = bearer(tokens[OperatorRole.DISPATCHER])
    me = client.get("/v1/ops/me", headers=dispatcher).json()
    closed = client.patch(f"/v1/ops/users/{me['user_id']}", json={"active": False}, headers=admin)
    assert closed.status_code == 200
    assert client.get("/v1/ops/me", headers=dispatcher).status_code == 401


def test_changes_are_audited_with_before_and_after(
    client: TestClient, session: Session, tokens: dict[OperatorRole, str]
) -> None:
    admin = bearer(tokens[OperatorRole.ADMIN])
    made = client.post(
        "/v1/ops/users", json={"email": "Ola@Ops.example.com", "role": "viewer"}, headers=admin
    )
    assert made.status_code == 201
    new_id = made.json()["id"]
    client.patch(f"/v1/ops/users/{new_id}", json={"role": "dispatcher"}, headers=admin)
    entries = client.get(
        "/v1/ops/audit",
        params={"subject_type": "operator_user", "subject_id": new_id},
        headers=admin,
    ).json()
    assert [e["action"] for e in entries] == ["users.update", "users.create"]
    assert entries[0]["actor"] == "admin@ops.example.com"
    assert entries[0]["before"]["role"] == "viewer"
    assert entries[0]["after"]["role"] == "dispatcher"
    # A change of nothing is refused, not answered 200 with nothing audited.
    for empty in ({}, {"name": None}):
        refused = client.patch(f"/v1/ops/users/{new_id}", json=empty, headers=admin)
        assert refused.status_code == 422, refused.text
        assert "nothing to change" in refused.text
    # A refused change writes nothing.
    taken = client.post(
        "/v1/ops/users", json={"email": "ola@ops.example.com", "role": "viewer"}, headers=admin
    )
    assert taken.status_code == 409
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "users.create")).all()
    assert (
        len(
            [
                e
                for e in client.get("/v1/ops/audit", headers=admin).json()
                if e["action"] == "users.create"
            ]
        )
        == 4
    )


def test_the_shared_token_works_only_outside_production(
    client: TestClient, operator_headers: dict[str, str], settings: Settings
) -> None:
    assert client.get("/v1/ops/me", headers=operator_headers).json()["role"] == "admin"
    production = settings.model_copy(
        update={"environment": Environment.PRODUCTION, "operator_token": "p" * 8 + "Q7r!" * 8}
    )
    app = create_app(production, engine=client.app.state.engine)  # type: ignore[attr-defined]
    app.state.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as prod:
        shared = bearer(production.operator_token)
        assert prod.get("/v1/ops/me", headers=shared).status_code == 401
        assert prod.get("/v1/network/nodes", headers=shared).status_code == 401
