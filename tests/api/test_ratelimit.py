"""Rate limits: a key's budget is spent only by calls whose key was verified; what is not a
verified key is counted per client address."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.merchants.service import NewMerchant, create_merchant
from doorstep.settings import Settings

MERCHANT_SERVER = ("198.51.100.7", 40000)
ATTACKER = ("203.0.113.66", 40000)


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> FastAPI:
    limited = settings.model_copy(
        update={"rate_limit": "3/minute", "auth_failure_limit": "5/minute"}
    )
    app = create_app(limited, engine=engine)
    app.state.session_factory = session_factory
    return app


@pytest.fixture
def client_at(app: FastAPI) -> Iterator[Callable[[tuple[str, int]], TestClient]]:
    clients: list[TestClient] = []

    def at(address: tuple[str, int]) -> TestClient:
        client = TestClient(app, client=address, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield at
    for client in clients:
        client.close()


@pytest.fixture
def merchant(session: Session) -> NewMerchant:
    created = create_merchant(session, "Busy Merchant")
    session.commit()
    return created


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_forged_keys_with_a_merchants_prefix_do_not_spend_its_budget(
    client_at: Callable[[tuple[str, int]], TestClient], merchant: NewMerchant
) -> None:
    real = merchant.secret_key.plaintext
    forged = real[:-8] + "AAAAAAAA"  # the same public prefix, another secret
    attacker = client_at(ATTACKER)
    codes = [attacker.get("/v1/merchant", headers=_bearer(forged)).status_code for _ in range(8)]
    # Five failed checks from the attacker's address, then that address is refused.
    assert codes == [401] * 5 + [429] * 3
    refused = attacker.get("/v1/merchant", headers=_bearer(forged))
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # The merchant's own budget is whole.
    server = client_at(MERCHANT_SERVER)
    codes = [server.get("/v1/merchant", headers=_bearer(real)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_verified_key_has_its_budget_wherever_it_calls_from(
    client_at: Callable[[tuple[str, int]], TestClient], merchant: NewMerchant
) -> None:
    headers = _bearer(merchant.secret_key.plaintext)
    first, second = client_at(MERCHANT_SERVER), client_at(("198.51.100.8", 40000))
    assert [first.get("/v1/merchant", headers=headers).status_code for _ in range(2)] == [200, 200]
    assert [second.get("/v1/merchant", headers=headers).status_code for _ in range(2)] == [
        200,
        429,
    ]
    response = second.get("/v1/merchant", headers=headers)
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def test_calls_without_a_verified_key_are_counted_per_address(
    client_at: Callable[[tuple[str, int]], TestClient], merchant: NewMerchant
) -> None:
    forged = _bearer(merchant.publishable_key.plaintext[:-8] + "AAAAAAAA")
    shopper = client_at(ATTACKER)
    # A public endpoint checks no key: a key-shaped header does not make its calls free.
    codes = [
        shopper.get("/v1/geo/postal-codes/85225", headers=forged).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    keyless = client_at(("192.0.2.10", 40000))
    codes = [keyless.get("/v1/geo/postal-codes/85225").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert all(keyless.get("/healthz").status_code == 200 for _ in range(5))
