"""Signing out takes the whole token, and each app's API takes only its own kind of token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.world import bearer, build_world


def test_a_token_lookup_part_alone_signs_no_one_out(client: TestClient, session: Session) -> None:
    world = build_world(session)
    session.commit()
    staff = world.headers["staff_a"]
    token = staff["Authorization"].removeprefix("Bearer ")
    # What operators' token lists show (``stf_<lookup>``), with a made-up secret.
    forged = bearer(token[:16] + "_" + "A" * 43)
    assert client.post("/v1/store/sign-out", headers=forged).status_code == 204
    assert client.get("/v1/store/me", headers=staff).status_code == 200
    assert client.post("/v1/store/sign-out", headers=staff).status_code == 204
    assert client.get("/v1/store/me", headers=staff).status_code == 401


def test_the_store_api_refuses_other_tokens_before_the_body(
    client: TestClient, session: Session
) -> None:
    world = build_world(session)
    session.commit()
    driver = world.headers["driver"]
    # A driver's token signs nothing out at the store API (it was revoked before).
    assert client.post("/v1/store/sign-out", headers=driver).status_code == 401
    assert client.get("/v1/driver/me", headers=driver).status_code == 200
    # A merchant's key on a store form: refused as a credential, not as a form.
    for caller in ("secret_a", "driver", "admin"):
        answer = client.post(
            "/v1/store/route/stops/1/deliver", data={}, headers=world.headers[caller]
        )
        assert answer.status_code == 401, (caller, answer.text)
        assert answer.json()["error"] == "not_authenticated"
