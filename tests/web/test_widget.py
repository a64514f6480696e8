"""The widget script, the ZIP look-up and CORS on the endpoints a shop's page calls."""

from __future__ import annotations

from fastapi.testclient import TestClient

from doorstep.geo import postal_codes
from tests.shop import Shop

SHOP_ORIGIN = "https://copperpot.example"


def test_widget_script_is_served_as_javascript_and_makes_no_outside_requests(
    web: TestClient,
) -> None:
    response = web.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    script = response.text
    assert "/v1/delivery-previews" in script
    assert "/v1/geo/postal-codes/" in script
    assert "http://" not in script.replace("https://DOORSTEP_HOST", "")
    assert "https://" not in script.replace("https://DOORSTEP_HOST", "")


def test_zip_lookup(web: TestClient) -> None:
    response = web.get("/v1/geo/postal-codes/85225-1234")
    assert response.status_code == 200
    body = response.json()
    assert body["postal_code"] == "85225"
    assert body["place"] == "Chandler"
    assert 33.2 < body["lat"] < 33.4
    unknown = web.get("/v1/geo/postal-codes/10001")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_postal_code"
    assert "10001" in unknown.json()["detail"]
    assert web.get("/v1/geo/postal-codes/abc").status_code == 404


def test_the_zip_table_covers_the_example_region() -> None:
    places = {p.place.split(" (")[0] for p in postal_codes.table().values()}
    assert {"Chandler", "Gilbert", "Tempe", "Queen Creek", "San Tan Valley", "Maricopa"} <= places
    assert postal_codes.table()["85248"].place == "Chandler (Sun Lakes)"


def test_cors_only_on_the_public_endpoints(web: TestClient, shop: Shop) -> None:
    preflight = web.options(
        "/v1/delivery-previews",
        headers={
            "Origin": SHOP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    zip_code = web.get("/v1/geo/postal-codes/85225", headers={"Origin": SHOP_ORIGIN})
    assert zip_code.headers["access-control-allow-origin"] == "*"
    for path in ("/v1/orders", "/v1/products", "/console/orders", "/checkout"):
        response = web.options(
            path, headers={"Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in response.headers
        got = web.get(path, headers={"Origin": SHOP_ORIGIN} | shop.headers())
        assert "access-control-allow-origin" not in got.headers
