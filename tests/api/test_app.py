"""The API skeleton: probes, OpenAPI, the error envelope, request ids, operator auth."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from doorstep.api.app import create_app
from doorstep.db import create_db_engine
from doorstep.network.service import import_network_file
from doorstep.settings import Environment, Settings
from tests.conftest import EXAMPLES


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_database_and_schema(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] in {"sqlite", "postgresql"}


def test_readyz_is_503_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    settings = Settings(environment=Environment.TEST, database_url=url, _env_file=None)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == "schema_out_of_date"


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    engine = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    settings = Settings(environment=Environment.TEST, _env_file=None)
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == "database_unreachable"


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/healthz", "/readyz", "/v1/network/nodes", "/v1/network/service-areas"} <= set(
        spec["paths"]
    )
    assert "401" in spec["paths"]["/v1/network/nodes"]["get"]["responses"]


def test_errors_share_one_envelope_with_the_request_id(client: TestClient) -> None:
    response = client.get("/no/such/path", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found", "request_id": "req-123"}
    assert response.headers["X-Request-ID"] == "req-123"


def test_a_row_changed_by_a_concurrent_request_is_a_409_to_retry(client: TestClient) -> None:
    def racing() -> None:
        raise StaleDataError("UPDATE statement on table 'packages' expected to update 1 row")

    client.app.add_api_route("/racing", racing)  # type: ignore[attr-defined]
    response = client.get("/racing")
    assert response.status_code == 409
    assert response.json()["error"] == "concurrent_update"


def test_a_request_id_is_made_when_none_is_sent(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_operator_endpoints_need_the_token(client: TestClient) -> None:
    missing = client.get("/v1/network/nodes")
    assert missing.status_code == 401
    assert missing.json()["error"] == "not_authenticated"
    wrong = client.get("/v1/network/nodes", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_malformed_query_is_a_422_naming_the_field(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    response = client.get("/v1/network/nodes?kind=castle", headers=operator_headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["field"] == "query.kind"


def test_network_endpoints_after_import(
    client: TestClient, session: Session, operator_headers: dict[str, str]
) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    session.commit()
    partners = client.get("/v1/network/nodes?kind=partner_store", headers=operator_headers)
    assert partners.status_code == 200
    assert {p["code"] for p in partners.json()} == {
        "PS-QC-FLORIST",
        "PS-SUNLAKES-CAFE",
        "PS-MARICOPA-HARDWARE",
        "PS-SANTAN-FUEL",
    }
    assert all(p["service_radius_m"] > 0 for p in partners.json())
    store = client.get("/v1/network/nodes/MCFC-TOYS", headers=operator_headers).json()
    assert store["parent_code"] == "MCFC"
    unknown = client.get("/v1/network/nodes/NOPE", headers=operator_headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "node_not_found"
    areas = client.get("/v1/network/service-areas", headers=operator_headers).json()
    assert {a["code"]: a["station_code"] for a in areas}["SA-GILBERT"] == "DGB1"
    assert areas[0]["geometry"]["type"] == "Polygon"


def test_rate_limit_per_key_answers_429_in_the_envelope(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    from doorstep.merchants.service import create_merchant

    created = create_merchant(session, "Busy Merchant")
    session.commit()
    limited = settings.model_copy(update={"rate_limit": "3/minute"})
    app = create_app(limited, engine=engine)
    app.state.session_factory = session_factory
    headers = {"Authorization": f"Bearer {created.secret_key.plaintext}"}
    with TestClient(app) as client:
        codes = [client.get("/v1/merchant", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/v1/merchant", headers=headers)
        assert response.json()["error"] == "rate_limited"
        assert "Retry-After" in response.headers
        # Another key has its own budget, and probes are never limited.
        other = {"Authorization": f"Bearer {created.publishable_key.plaintext}"}
        assert client.get("/v1/merchant", headers=other).status_code == 403
        assert all(client.get("/healthz").status_code == 200 for _ in range(5))
