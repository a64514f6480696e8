"""What a reviewer expects of any HTTP API: strict bodies, HSTS and Secure cookies behind a
TLS proxy (believing forwarded headers from the configured proxies only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.settings import Environment, Settings
from tests.api.routes import body_models, operations
from tests.shop import Shop, local
from tests.web.conftest import CONSOLE_EMAIL, CONSOLE_PASSWORD, open_shop_with_console

# Multipart forms whose model sits beside file parameters: a form model sees the files as
# fields too, so these ignore what they do not know instead of refusing the files.
FORMS_BESIDE_FILES = {
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/deliver",
    "POST /v1/driver/blocks/{block_id}/stops/{stop_id}/attempt",
    "POST /v1/store/route/stops/{stop_id}/deliver",
    "POST /v1/store/route/stops/{stop_id}/attempt",
}


def test_every_json_body_refuses_unknown_fields(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)
    lenient = []
    checked = 0
    for operation in operations(app):
        if operation.key in FORMS_BESIDE_FILES:
            continue
        for _, model in body_models(operation):
            checked += 1
            if model.model_config.get("extra") != "forbid":
                lenient.append(f"{operation.key}: {model.__module__}.{model.__name__}")
    assert checked > 20
    assert lenient == []


def test_an_unknown_field_is_a_422_naming_it(client: TestClient, shop: Shop) -> None:
    for path, body in (
        ("/v1/webhook-endpoints", {"url": "https://example.com/hooks", "colour": "red"}),
        ("/v1/api-keys", {"kind": "secret", "admin": True}),
        ("/v1/orders", {"items": [{"sku": "PAN-28", "quantity": 1, "gift": True}]}),
    ):
        response = client.post(path, json=body, headers=shop.headers())
        assert response.status_code == 422, (path, response.text)
        problems = response.json()["detail"]
        unknown = [p for p in problems if p["type"] == "extra_forbidden"]
        assert unknown, (path, problems)
        assert unknown[0]["field"] in {"body.colour", "body.admin", "body.items.0.gift"}


@pytest.fixture
def shop(session: Session) -> Shop:
    return open_shop_with_console(session)


def _app(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], **changes: object
) -> TestClient:
    app = create_app(settings.model_copy(update=changes), engine=engine)
    app.state.session_factory = factory
    app.state.clock = lambda: local(10)
    return TestClient(app, raise_server_exceptions=False, client=("10.0.0.5", 40000))


@pytest.fixture
def behind_proxy(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The app behind a TLS proxy at 10.0.0.5, which the settings trust."""
    with _app(settings, engine, session_factory, trusted_proxies="10.0.0.0/24") as client:
        yield client


@pytest.fixture
def untrusted(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The same app trusting no proxy: forwarded headers from 10.0.0.5 are anyone's."""
    with _app(settings, engine, session_factory) as client:
        yield client


HSTS = "Strict-Transport-Security"


def test_hsts_only_on_https_and_forwarded_headers_only_from_trusted_proxies(
    behind_proxy: TestClient, untrusted: TestClient
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert behind_proxy.get("/healthz").headers.get(HSTS) is None  # plain HTTP
    answer = behind_proxy.get("/healthz", headers=forwarded)
    assert answer.headers[HSTS] == "max-age=31536000; includeSubDomains"
    assert behind_proxy.get("/v1/orders", headers=forwarded).headers[HSTS]  # errors too
    # Anyone else saying "https" is not believed: the connection was plain HTTP.
    assert untrusted.get("/healthz", headers=forwarded).headers.get(HSTS) is None
    # A direct HTTPS connection needs no proxy.
    untrusted.base_url = untrusted.base_url.copy_with(scheme="https")
    assert untrusted.get("/healthz").headers[HSTS]


def test_session_cookies_are_secure_behind_a_tls_proxy(
    behind_proxy: TestClient, untrusted: TestClient, shop: Shop
) -> None:
    def cookie(client: TestClient, headers: dict[str, str]) -> str:
        response = client.post(
            "/console/login",
            data={"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return str(response.headers["set-cookie"]).lower()

    https = {"X-Forwarded-Proto": "https"}
    assert "; secure" in cookie(behind_proxy, https)
    assert "; secure" not in cookie(untrusted, https)  # not a proxy we trust
    assert "; secure" not in cookie(behind_proxy, {})  # plain HTTP (development)


def test_trusted_proxies_must_be_addresses() -> None:
    def settings(proxies: str) -> Settings:
        return Settings(environment=Environment.TEST, trusted_proxies=proxies)

    assert settings("10.0.0.5, 172.16.0.0/12, ::1").trusted_proxy_networks == (
        "10.0.0.5",
        "172.16.0.0/12",
        "::1",
    )
    for wrong in ("proxy.internal", "10.0.0.1/8"):
        with pytest.raises(ValidationError, match="DOORSTEP_TRUSTED_PROXIES"):
            settings(wrong)
