"""The SMS provider's inbound posts: STOP and START, signed with the auth token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.models import SmsOptOut
from doorstep.notifications import service
from doorstep.notifications.twilio import compute_signature
from doorstep.settings import Environment, Settings

INBOUND = "/v1/notifications/sms/inbound"
TOKEN = "inbound-test-token"
STOP = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC00000000000000000000000000000000",
    "From": "+14805550101",
    "To": "+14805550199",
    "Body": "STOP",
    "NumMedia": "0",
}


def app_client(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], **changes: object
) -> TestClient:
    # Validated again, as the environment would be.
    changed = Settings.model_validate({**settings.model_dump(), **changes})
    app = create_app(changed, engine=engine)
    app.state.session_factory = sessions
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def signed(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    with app_client(settings, engine, session_factory, sms_auth_token=TOKEN) as client:
        yield client


def signature(form: dict[str, str], url: str = f"http://testserver{INBOUND}") -> str:
    return compute_signature(url, form.items(), TOKEN)


def test_a_signed_stop_opts_out_and_start_opts_back_in(
    signed: TestClient, session: Session
) -> None:
    response = signed.post(INBOUND, data=STOP, headers={"X-Twilio-Signature": signature(STOP)})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert service.is_opted_out(session, "+14805550101")

    start = {**STOP, "Body": "start"}
    response = signed.post(INBOUND, data=start, headers={"X-Twilio-Signature": signature(start)})
    assert response.status_code == 200
    session.expire_all()
    assert not service.is_opted_out(session, "+14805550101")


def test_a_forged_or_missing_signature_is_refused(signed: TestClient, session: Session) -> None:
    # Signed for another body: someone replaying a START as a STOP.
    forged = signed.post(
        INBOUND, data=STOP, headers={"X-Twilio-Signature": signature({**STOP, "Body": "HI"})}
    )
    assert forged.status_code == 403
    assert forged.json()["error"] == "invalid_signature"
    unsigned = signed.post(INBOUND, data=STOP)
    assert unsigned.status_code == 403
    assert unsigned.json()["error"] == "invalid_signature"
    assert session.get(SmsOptOut, "+14805550101") is None


def test_behind_a_proxy_the_configured_public_url_is_what_is_signed(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    public = "https://doorstep.example/v1/notifications/sms/inbound"
    with app_client(
        settings, engine, session_factory, sms_auth_token=TOKEN, sms_inbound_url=public
    ) as client:
        as_seen_here = client.post(
            INBOUND, data=STOP, headers={"X-Twilio-Signature": signature(STOP)}
        )
        assert as_seen_here.status_code == 403
        as_signed = client.post(
            INBOUND, data=STOP, headers={"X-Twilio-Signature": signature(STOP, public)}
        )
        assert as_signed.status_code == 200
    assert service.is_opted_out(session, "+14805550101")


def test_without_a_token_posts_are_taken_in_development_and_refused_in_production(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    session: Session,
    client: TestClient,
) -> None:
    assert client.post(INBOUND, data=STOP).status_code == 200
    assert service.is_opted_out(session, "+14805550101")

    production = {
        "environment": Environment.PRODUCTION,
        "operator_token": "op-7fQ2xK9mWv3LrT8bNc4ZhY6dJs1GpE5a",
        "secret_key": "sk-Hq4Vn8Rt2Lx6Bw9Mz3Kc7Pf1Yd5Gj0Sa",
    }
    with app_client(settings, engine, session_factory, **production) as live:
        refused = live.post(INBOUND, data={**STOP, "From": "+14805550102"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "inbound_sms_not_configured"
    assert not service.is_opted_out(session, "+14805550102")


def test_an_ordinary_reply_changes_nothing(client: TestClient, session: Session) -> None:
    response = client.post(INBOUND, data={**STOP, "Body": "Leave it by the back door please"})
    assert response.status_code == 200
    assert not service.is_opted_out(session, "+14805550101")
