"""The hosted checkout: the form, placing the order once, and errors in plain words."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import Order
from doorstep.settings import Settings
from doorstep.web import checkout
from tests.shop import Shop, local
from tests.web.conftest import SHOPPER, hidden, make_preview


def _checkout(web: TestClient, shop: Shop, preview_id: str, **extra: str) -> str:
    response = web.get(
        "/checkout", params={"key": shop.publishable_key, "preview": preview_id, **extra}
    )
    assert response.status_code == 200, response.text
    html: str = response.text
    return html


def _filled_form(web: TestClient, shop: Shop, **extra: str) -> dict[str, str]:
    """The checkout form of a fresh quote, filled in with the shopper's details."""
    preview = make_preview(web, shop)
    html = _checkout(web, shop, preview["id"], **extra)
    return {"key": hidden(html, "key"), "token": hidden(html, "token"), **SHOPPER}


def _orders(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order)) or 0


def test_checkout_page_shows_the_basket_the_options_and_the_merchant(
    web: TestClient, shop: Shop
) -> None:
    preview = make_preview(web, shop)
    response = web.get(
        "/checkout",
        params={
            "key": shop.publishable_key,
            "preview": preview["id"],
            "payment_ref": "pi_<b>9",
            "color": "#7c2d12",
            "return": "javascript:alert(1)",
        },
    )
    assert response.status_code == 200
    html = response.text
    assert "Copper Pot Kitchenware" in html
    assert "28 cm skillet" in html
    assert "Today by" in html
    assert "$5.99" in html
    assert "ZIP 85225" in html
    assert "pi_&lt;b&gt;9" in html
    assert "pi_<b>9" not in html
    assert "--brand: #7c2d12" in html
    assert "javascript:" not in html  # an unsafe return link is dropped
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert 'for="street"' in html
    assert 'autocomplete="tel"' in html
    # City, state and ZIP come filled in from the quoted ZIP code.
    assert 'name="city" type="text" value="Chandler"' in html
    assert 'name="state" type="text" value="AZ"' in html
    assert 'name="postal_code" type="text" value="85225"' in html


def test_placing_the_order_then_submitting_again_makes_one_order(
    web: TestClient, shop: Shop, session: Session
) -> None:
    form = _filled_form(web, shop, payment_ref="pi_42", ref="web-1001")
    first = web.post("/checkout", data=form, follow_redirects=False)
    again = web.post("/checkout", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert _orders(session) == 1
    order = session.scalars(select(Order)).one()
    # Both go to the one order's receipt. The receipt token carries its signing time, so two
    # submissions a second apart get different tokens for the same order.
    replayed = web.get(again.headers["location"])
    assert replayed.status_code == 200
    assert order.public_id in replayed.text
    assert order.payment_reference == "pi_42"
    assert order.merchant_reference == "web-1001"
    assert (order.dest_address, order.dest_address_line2) == ("1 E Chicago St", "Apt 4")
    assert (order.dest_city, order.dest_state, order.dest_postal_code) == (
        "Chandler",
        "AZ",
        "85225",
    )
    assert order.dest_country == "US"
    assert order.delivery_instructions == "Leave it with the concierge"
    done = web.get(first.headers["location"])
    assert done.status_code == 200
    assert "Order placed" in done.text
    assert order.public_id in done.text
    assert "Today by" in done.text
    assert "pi_42" in done.text
    assert "1 E Chicago St, Apt 4, Chandler, AZ 85225" in done.text


def test_the_same_form_sent_with_other_details_keeps_the_first_order(
    web: TestClient, shop: Shop, session: Session, settings: Settings
) -> None:
    form = _filled_form(web, shop)
    first = web.post("/checkout", data=form, follow_redirects=False)
    changed = web.post("/checkout", data=form | {"name": "Bo Ruiz"}, follow_redirects=False)
    # The receipts name the same order (each is signed with its own second, so compare inside).
    assert _receipt_order(settings, changed.headers["location"]) == _receipt_order(
        settings, first.headers["location"]
    )
    assert _orders(session) == 1


def _receipt_order(settings: Settings, location: str) -> str:
    [receipt] = parse_qs(urlsplit(location).query)["r"]
    return checkout.read_receipt(settings, receipt)[1]


def test_a_forged_or_altered_token_is_refused(
    web: TestClient, shop: Shop, session: Session
) -> None:
    preview = make_preview(web, shop)
    html = _checkout(web, shop, preview["id"])
    token = hidden(html, "token")
    for bad in ("", "forged", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        response = web.post(
            "/checkout", data={"key": shop.publishable_key, "token": bad, **SHOPPER}
        )
        assert response.status_code == 400
        assert "out of date" in response.text
    assert _orders(session) == 0


def test_a_secret_key_or_a_wrong_key_cannot_open_checkout(web: TestClient, shop: Shop) -> None:
    preview = make_preview(web, shop)
    for key in (shop.secret_key, "pk_000000000000_" + "x" * 32, ""):
        response = web.get("/checkout", params={"key": key, "preview": preview["id"]})
        assert response.status_code == 401
        assert "checkout link doesn" in response.text


def test_missing_details_are_shown_next_to_their_fields(
    web: TestClient, shop: Shop, session: Session
) -> None:
    preview = make_preview(web, shop)
    html = _checkout(web, shop, preview["id"])
    form = {
        "key": hidden(html, "key"),
        "token": hidden(html, "token"),
        **SHOPPER,
        "name": " ",
        "phone": "call me",
        "email": "not-an-address",
    }
    response = web.post("/checkout", data=form)
    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert 'id="phone-error"' in response.text
    assert 'id="email-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "1 E Chicago St" in response.text  # what was typed is kept
    assert hidden(response.text, "token") == form["token"]  # same order if sent again
    assert _orders(session) == 0


def test_the_address_must_be_complete_and_in_the_quoted_zip_code(
    web: TestClient, shop: Shop, session: Session
) -> None:
    form = _filled_form(web, shop)
    response = web.post(
        "/checkout", data=form | {"city": "", "state": "Arizona", "postal_code": "85226"}
    )
    assert response.status_code == 422
    assert 'id="city-error"' in response.text
    assert "two-letter state code" in response.text
    assert "quoted for ZIP 85225" in response.text
    assert _orders(session) == 0
    # ZIP+4 and a lower-case state are fine.
    placed = web.post(
        "/checkout",
        data=form | {"state": "az", "postal_code": "85225-1234"},
        follow_redirects=False,
    )
    assert placed.status_code == 303
    order = session.scalars(select(Order)).one()
    assert (order.dest_state, order.dest_postal_code) == ("AZ", "85225")


def test_an_expired_preview_is_explained_with_a_fresh_quote(web: TestClient, shop: Shop) -> None:
    preview = make_preview(web, shop)
    html = _checkout(web, shop, preview["id"], payment_ref="pi_7")
    form = {"key": hidden(html, "key"), "token": hidden(html, "token"), **SHOPPER}
    web.app.state.clock = lambda: local(10) + timedelta(minutes=11)  # type: ignore[attr-defined]
    response = web.post("/checkout", data=form)
    assert response.status_code == 410
    assert "This delivery quote has expired" in response.text
    assert "Get a fresh quote" in response.text
    requote = web.post(
        "/checkout/requote",
        data={"key": shop.publishable_key, "preview": preview["id"], "payment_ref": "pi_7"},
        follow_redirects=False,
    )
    assert requote.status_code == 303
    fresh = web.get(requote.headers["location"])
    assert fresh.status_code == 200
    assert "Today by" in fresh.text
    assert "pi_7" in fresh.text
    assert preview["id"] not in requote.headers["location"]


def test_sold_out_between_quote_and_order_is_explained(
    web: TestClient, shop: Shop, session: Session
) -> None:
    preview = make_preview(web, shop, sku="KETTLE-1", quantity=3)
    html = _checkout(web, shop, preview["id"])
    form = {"key": hidden(html, "key"), "token": hidden(html, "token"), **SHOPPER}
    other = make_preview(web, shop, sku="KETTLE-1", quantity=3)
    other_html = _checkout(web, shop, other["id"])
    placed = web.post(
        "/checkout",
        data={"key": hidden(other_html, "key"), "token": hidden(other_html, "token"), **SHOPPER},
        follow_redirects=False,
    )
    assert placed.status_code == 303
    response = web.post("/checkout", data=form)
    assert response.status_code == 409
    assert "Sold out for fast delivery" in response.text
    assert _orders(session) == 1


def test_unknown_preview_and_bad_confirmation_links_are_explained(
    web: TestClient, shop: Shop
) -> None:
    response = web.get(
        "/checkout",
        params={
            "key": shop.publishable_key,
            "preview": "dp_nothing",
            "return": "https://copperpot.example/skillet",
        },
    )
    assert response.status_code == 404
    assert "find this delivery quote" in response.text
    assert 'href="https://copperpot.example/skillet"' in response.text
    assert web.get("/checkout/confirmation", params={"r": "forged"}).status_code == 400


def test_assets_are_served_with_their_types(web: TestClient) -> None:
    css = web.get("/assets/doorstep.css")
    assert css.headers["content-type"].startswith("text/css")
    script = web.get("/assets/checkout.js")
    assert script.headers["content-type"].startswith("application/javascript")
    assert web.get("/assets/../routes.py").status_code == 404
    assert web.get("/assets/secret.txt").status_code == 404
