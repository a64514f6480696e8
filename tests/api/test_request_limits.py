"""Request bodies have a size limit per path prefix (413 in the error envelope); answers carry
nosniff and, where they may hold private data, no-store; a 405 says which methods are allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.api.request_guard import BodyLimits
from doorstep.merchants.service import create_merchant
from doorstep.settings import Settings

MiB = 1024 * 1024


@pytest.fixture
def small(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The app with a 2 kB limit, and 8 kB for previews."""
    limited = settings.model_copy(
        update={"max_body_bytes": 2000, "max_body_bytes_by_path": {"/v1/delivery-previews": 8000}}
    )
    app = create_app(limited, engine=engine)
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def headers(session: Session) -> dict[str, str]:
    merchant = create_merchant(session, "Copper Pot Kitchenware")
    session.commit()
    return {"Authorization": f"Bearer {merchant.secret_key.plaintext}"}


def _order(reference_length: int) -> dict[str, object]:
    return {
        "items": [{"sku": "PAN-28", "quantity": 1}],
        "destination": {"lat": 33.3, "lng": -111.8, "address": "1 E Chicago St"},
        "speed": "same_day",
        "recipient": {"name": "Ana Ruiz"},
        "delivery_instructions": "x" * reference_length,
    }


def test_a_body_past_the_limit_is_a_413_in_the_envelope(
    small: TestClient, headers: dict[str, str]
) -> None:
    response = small.post("/v1/orders", json=_order(3000), headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert "2,000 bytes" in response.json()["detail"]
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    # Under the limit, the order is looked at (and refused for its own reasons).
    assert small.post("/v1/orders", json=_order(500), headers=headers).status_code != 413


def test_a_path_prefix_has_its_own_limit(small: TestClient, headers: dict[str, str]) -> None:
    body = {"items": [{"sku": "PAN-28", "quantity": 1}], "destination": {"lat": 0, "lng": 0}}
    padded = {**body, "destination": {"lat": 0, "lng": 0, "address": "x" * 3000}}
    assert small.post("/v1/delivery-previews", json=padded, headers=headers).status_code == 422
    bigger = {**body, "destination": {"lat": 0, "lng": 0, "address": "x" * 9000}}
    assert small.post("/v1/delivery-previews", json=bigger, headers=headers).status_code == 413


def test_a_body_without_a_length_is_counted_as_it_arrives(
    small: TestClient, headers: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    for content_type in ("application/json", "application/octet-stream"):
        response = small.post(
            "/v1/orders", content=chunks(), headers=headers | {"Content-Type": content_type}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "request_too_large"


def test_the_default_limits() -> None:
    settings = Settings(_env_file=None)
    limits = BodyLimits(settings.max_body_bytes, settings.max_body_bytes_by_path)
    assert limits.for_path("/v1/orders") == 1 * MiB
    assert limits.for_path("/checkout") == 1 * MiB
    assert limits.for_path("/v1/driver/stops/7/photo") == 10 * MiB
    nested = BodyLimits(100, {"/v1/": 200, "/v1/driver/": 300})
    assert [nested.for_path(p) for p in ("/x", "/v1/orders", "/v1/driver/a")] == [100, 200, 300]


def test_answers_are_not_sniffed_and_private_ones_not_stored(
    client: TestClient, headers: dict[str, str]
) -> None:
    for response in (
        client.get("/v1/merchant", headers=headers),
        client.get("/v1/merchant"),  # an error is private too
        client.get("/v1/orders/ord_nope", headers=headers),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    widget = client.get("/widget.js")
    assert widget.headers["X-Content-Type-Options"] == "nosniff"
    assert widget.headers["Cache-Control"] == "public, max-age=300"  # its own is kept
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("put", "/v1/webhook-endpoints", "GET, POST"),
        ("post", "/v1/webhook-endpoints/7", "GET, PATCH, DELETE"),
        ("get", "/v1/orders/ord_x/cancel", "POST"),
        ("delete", "/healthz", "GET"),
    ],
)
def test_a_405_says_which_methods_the_path_takes(
    client: TestClient, headers: dict[str, str], method: str, path: str, allow: str
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json()["error"] == "method_not_allowed"
