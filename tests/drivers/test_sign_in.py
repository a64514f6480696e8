"""Signing up and in as a driver: the API and the pages, with the code read from the outbox."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.models import Message
from doorstep.network.service import import_network_file
from doorstep.notifications import service as notifications
from tests.conftest import EXAMPLES

SIGN_UP = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+1 480 555 0100",
    "home_station": "DCH1",
    "vehicle": {"description": "2019 Honda Fit", "cargo_litres": 1200, "payload_kg": 350},
}


@pytest.fixture
def network(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")


def _last_code(session: Session, email: str) -> str:
    messages = [m for m in notifications.latest_messages(session) if m.recipient == email]
    assert messages, f"no message to {email}"
    message: Message = messages[0]
    assert message.template == "sign_in_code"
    found = re.search(r"\b(\d{6})\b", message.body_text)
    assert found is not None
    return found.group(1)


def test_sign_up_then_sign_in_with_the_code_from_the_email(
    client: TestClient, session: Session, network: None
) -> None:
    signed_up = client.post("/v1/driver/sign-up", json=SIGN_UP)
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.json()["driver"]["vehicle"]["capacity_cm3"] == 1_200_000
    assert signed_up.json()["code"]["sent_to"] == "a**@example.com"
    code = _last_code(session, "ada@example.com")

    verified = client.post(
        "/v1/driver/sign-in/verify", json={"email": "ada@example.com", "code": code}
    )
    assert verified.status_code == 200, verified.text
    token = verified.json()["token"]
    me = client.get("/v1/driver/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "Ada Lovelace"

    again = client.post(
        "/v1/driver/sign-in/verify", json={"email": "ada@example.com", "code": code}
    )
    assert again.status_code == 401
    assert again.json()["error"] == "sign_in_code_refused"

    out = client.post("/v1/driver/sign-out", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert (
        client.get("/v1/driver/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_the_same_email_twice_is_refused_with_the_field(client: TestClient, network: None) -> None:
    assert client.post("/v1/driver/sign-up", json=SIGN_UP).status_code == 201
    second = client.post("/v1/driver/sign-up", json=SIGN_UP | {"name": "Someone Else"})
    assert second.status_code == 409
    assert second.json()["error"] == "driver_email_taken"
    assert second.json()["context"]["field"] == "email"


def test_sign_in_answers_the_same_for_an_unknown_email(
    client: TestClient, session: Session, network: None
) -> None:
    client.post("/v1/driver/sign-up", json=SIGN_UP)
    known = client.post("/v1/driver/sign-in", json={"email": "ada@example.com"})
    unknown = client.post("/v1/driver/sign-in", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert not [
        m for m in notifications.latest_messages(session) if m.recipient == "nobody@example.com"
    ]


def test_wrong_codes_count_even_though_each_request_fails(
    client: TestClient, session: Session, network: None
) -> None:
    client.post("/v1/driver/sign-up", json=SIGN_UP)
    code = _last_code(session, "ada@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    lefts = []
    for _ in range(5):
        answer = client.post(
            "/v1/driver/sign-in/verify", json={"email": "ada@example.com", "code": wrong}
        )
        assert answer.status_code == 401
        lefts.append(answer.json()["context"]["tries_left"])
    assert lefts == [4, 3, 2, 1, 0]
    locked = client.post(
        "/v1/driver/sign-in/verify", json={"email": "ada@example.com", "code": code}
    )
    assert locked.status_code == 429
    assert locked.json()["error"] == "sign_in_code_locked"


def test_the_pages_sign_a_driver_in_with_a_cookie_and_guard_changes_with_a_header(
    client: TestClient, session: Session, network: None
) -> None:
    form = {
        "name": "Bo Ruiz",
        "email": "bo@example.com",
        "phone": "480 555 0101",
        "home_station": "DCH1",
        "vehicle_description": "Prius",
        "vehicle_cargo_litres": "5",
        "vehicle_payload_kg": "",
    }
    refused = client.post("/driver/sign-up", data=form)
    assert refused.status_code == 422
    assert "vehicle_cargo_litres-error" in refused.text
    assert 'value="Bo Ruiz"' in refused.text

    created = client.post("/driver/sign-up", data=form | {"vehicle_cargo_litres": "800"})
    assert created.status_code == 201, created.text
    assert "We sent a six-digit code" in created.text
    code = _last_code(session, "bo@example.com")
    signed_in = client.post(
        "/driver/sign-in/code",
        data={"email": "bo@example.com", "code": code},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert SESSION_COOKIE in signed_in.cookies
    home = client.get("/driver/")
    assert home.status_code == 200
    assert "Hi Bo" in home.text
    assert "Chandler Delivery Station" in home.text

    # The cookie alone cannot change anything: a form on another site could send it too.
    forged = client.patch("/v1/driver/me", json={"status": "paused"})
    assert forged.status_code == 403
    assert forged.json()["error"] == "csrf_header_missing"
    paused = client.patch(
        "/v1/driver/me", json={"status": "paused"}, headers={"X-Doorstep-Csrf": "1"}
    )
    assert paused.status_code == 200
    assert "You are paused" in client.get("/driver/").text


def test_the_app_pages_are_guarded_and_installable(client: TestClient) -> None:
    assert client.get("/driver/", follow_redirects=False).headers["location"] == "/driver/sign-in"
    manifest = client.get("/driver/manifest.webmanifest")
    assert manifest.json()["start_url"] == "/driver/"
    worker = client.get("/driver/sw.js")
    assert worker.headers["content-type"].startswith("application/javascript")
    page = client.get("/driver/sign-in")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
