"""The console's pages: sign-in with the page session, and the policy on every page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from doorstep.models import OperatorRole
from tests.ops.conftest import PASSWORD


def sign_in(client: TestClient, role: OperatorRole) -> None:
    answer = client.post(
        "/ops/sign-in",
        data={"email": f"{role.value}@ops.example.com", "password": PASSWORD, "next": "/ops/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/ops/"


def test_pages_need_a_signed_in_operator(client: TestClient, tokens: object) -> None:
    answer = client.get("/ops/plans", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ops/sign-in?next=%2Fops%2Fplans")
    wrong = client.post(
        "/ops/sign-in", data={"email": "viewer@ops.example.com", "password": "nope nope nope"}
    )
    assert wrong.status_code == 401
    # A merchant console's cookie is no operator's session.
    client.cookies.set("doorstep_ops", "forged")
    assert client.get("/ops/", follow_redirects=False).status_code == 303


def test_a_viewer_sees_the_day_but_not_the_people(client: TestClient, tokens: object) -> None:
    sign_in(client, OperatorRole.VIEWER)
    today = client.get("/ops/")
    assert today.status_code == 200
    assert "open exceptions" in today.text
    assert 'href="/ops/users"' not in today.text
    assert client.get("/ops/users").status_code == 403
    assert client.get("/ops/plans").status_code == 200


def test_an_admin_revokes_a_token_from_the_people_page(
    client: TestClient, tokens: dict[OperatorRole, str]
) -> None:
    sign_in(client, OperatorRole.ADMIN)
    page = client.get("/ops/users")
    assert page.status_code == 200
    assert "viewer@ops.example.com" in page.text
    viewer = {"Authorization": f"Bearer {tokens[OperatorRole.VIEWER]}"}
    listed = client.get(
        "/v1/ops/tokens", headers={"Authorization": f"Bearer {tokens[OperatorRole.ADMIN]}"}
    ).json()
    [token] = [t for t in listed if t["email"] == "viewer@ops.example.com"]
    client.post(f"/ops/users/tokens/{token['id']}/revoke")
    assert client.get("/v1/ops/me", headers=viewer).status_code == 401
    assert "tokens.revoke" in client.get("/ops/users").text
    signed_out = client.post("/ops/sign-out", follow_redirects=False)
    assert signed_out.status_code == 303
