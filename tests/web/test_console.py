"""The merchant console: sign-in, the orders list, search, status filter, CSV, isolation."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.catalog import service as catalog
from doorstep.catalog.schemas import ProductIn, StockIn
from doorstep.merchants import service as merchants
from doorstep.models import DeliverySpeed
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.promise.schemas import BasketItem
from doorstep.web import session as console_session
from doorstep.web.login_throttle import LoginThrottle
from tests.shop import DOWNTOWN_CHANDLER, Shop, local
from tests.web.conftest import CONSOLE_EMAIL, CONSOLE_PASSWORD, sign_in


def _place(session: Session, merchant_id: int, sku: str, name: str, ref: str) -> str:
    body = OrderIn(
        items=[BasketItem(sku=sku, quantity=1)],
        destination=OrderDestination(**DOWNTOWN_CHANDLER),
        speed=DeliverySpeed.SAME_DAY,
        recipient=Recipient(name=name, email=f"{name.split()[0].lower()}@example.com"),
        merchant_reference=ref,
    )
    placed = orders.place_order(session, merchant_id, body, idempotency_key=None, now=local(10))
    return placed.order.public_id


@pytest.fixture
def placed(session: Session, shop: Shop) -> dict[str, str]:
    ids = {
        "ana": _place(session, shop.merchant_id, "PAN-28", "Ana Ruiz", "web-1"),
        "bo": _place(session, shop.merchant_id, "KETTLE-1", "Bo Chen", "web-2"),
        "cy": _place(session, shop.merchant_id, "PAN-28", "Cy Diaz", "web-3"),
    }
    orders.cancel_order(session, shop.merchant_id, ids["bo"], now=local(10, 5))
    other = merchants.create_merchant(session, "Saguaro Books").merchant
    catalog.upsert_products(
        session,
        other.id,
        [
            ProductIn(
                sku="BOOK-1",
                name="Desert plants",
                length_mm=240,
                width_mm=170,
                height_mm=30,
                weight_g=600,
            )
        ],
    )
    catalog.set_stock(session, other.id, [StockIn(sku="BOOK-1", node="WTE1", on_hand=4)])
    ids["other"] = _place(session, other.id, "BOOK-1", "Ana Other", "bk-1")
    session.commit()
    return ids


def test_console_pages_need_a_signed_in_user(web: TestClient, shop: Shop) -> None:
    for path in ("/console/orders", "/console/orders.csv", "/console/orders?q=ana"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=%2Fconsole%2Forders")
    web.cookies.set(console_session.COOKIE, "eyJ1IjoxLCJtIjoxfQ.forged.sig")
    forged = web.get("/console/orders", follow_redirects=False)
    assert forged.status_code == 303


def test_wrong_password_is_refused_and_sign_in_sets_a_safe_cookie(
    web: TestClient, shop: Shop
) -> None:
    wrong = web.post("/console/login", data={"email": CONSOLE_EMAIL, "password": "nope-nope-nope"})
    assert wrong.status_code == 401
    assert "match an account" in wrong.text
    response = web.post(
        "/console/login",
        data={"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/orders"  # no open redirect
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/console" in cookie
    assert web.get("/console/orders").status_code == 200
    out = web.post("/console/logout", follow_redirects=False)
    assert out.status_code == 303
    web.cookies.clear()
    assert web.get("/console/orders", follow_redirects=False).status_code == 303


def test_orders_list_newest_first_with_package_states(
    web: TestClient, placed: dict[str, str]
) -> None:
    sign_in(web)
    html = web.get("/console/orders").text
    positions = [html.index(placed[k]) for k in ("cy", "bo", "ana")]
    assert positions == sorted(positions)
    assert placed["other"] not in html  # another merchant's order
    assert "Ana Other" not in html
    assert "cancelled" in html
    assert "created" in html


def test_search_and_status_filter(web: TestClient, placed: dict[str, str]) -> None:
    sign_in(web)
    found = web.get("/console/orders", params={"q": "BO CHEN"}).text
    assert placed["bo"] in found
    assert placed["ana"] not in found
    by_ref = web.get("/console/orders", params={"q": "web-3"}).text
    assert placed["cy"] in by_ref
    assert placed["ana"] not in by_ref
    confirmed = web.get("/console/orders", params={"status": "confirmed"}).text
    assert placed["ana"] in confirmed
    assert placed["bo"] not in confirmed
    none = web.get("/console/orders", params={"q": "nobody-at-all"}).text
    assert "No orders match these filters" in none
    assert 'href="/console/orders.csv?q=nobody-at-all"' in none


def test_paging_with_the_cursor(
    web: TestClient, placed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from doorstep.web import console

    monkeypatch.setattr(console, "PAGE_SIZE", 2)
    sign_in(web)
    first = web.get("/console/orders").text
    assert placed["cy"] in first
    assert placed["ana"] not in first
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = web.get(next_url.replace("&amp;", "&")).text
    assert placed["ana"] in second
    assert placed["cy"] not in second
    stale = web.get("/console/orders", params={"cursor": "not-a-cursor"})
    assert stale.status_code == 200
    assert "out of date" in stale.text


def test_csv_export_uses_the_same_filters_and_only_this_merchant(
    web: TestClient, placed: dict[str, str]
) -> None:
    sign_in(web)
    response = web.get("/console/orders.csv", params={"status": "confirmed"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["id"] for r in rows} == {placed["ana"], placed["cy"]}
    assert all(r["status"] == "confirmed" for r in rows)
    everything = list(csv.DictReader(io.StringIO(web.get("/console/orders.csv").text)))
    assert {r["id"] for r in everything} == {placed["ana"], placed["bo"], placed["cy"]}


def test_the_console_csv_shows_a_formula_in_a_name_as_text(
    web: TestClient, session: Session, shop: Shop
) -> None:
    _place(session, shop.merchant_id, "PAN-28", "=cmd|' /C calc'!A0 Ruiz", "@SUM(A1:A9)")
    session.commit()
    sign_in(web)
    [row] = csv.DictReader(io.StringIO(web.get("/console/orders.csv").text))
    assert row["recipient_name"] == "'=cmd|' /C calc'!A0 Ruiz"
    assert row["merchant_reference"] == "'@SUM(A1:A9)"


def test_repeated_wrong_passwords_lock_the_sign_in_for_a_while(web: TestClient, shop: Shop) -> None:
    web.app.state.login_throttle = LoginThrottle("3/15 minutes", "memory://")  # type: ignore[attr-defined]
    for _ in range(3):
        wrong = web.post("/console/login", data={"email": CONSOLE_EMAIL, "password": "guess"})
        assert wrong.status_code == 401
    # Now even the right password is not checked from this address: it is locked for the window.
    locked = web.post(
        "/console/login",
        data={"email": CONSOLE_EMAIL.upper(), "password": CONSOLE_PASSWORD},
        follow_redirects=False,
    )
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "set-cookie" not in locked.headers


def _at(web: TestClient, address: str) -> TestClient:
    """The same app, called from another client address."""
    return TestClient(web.app, client=(address, 40000))


def _sign_in(client: TestClient, password: str) -> int:
    data = {"email": CONSOLE_EMAIL, "password": password}
    status: int = client.post("/console/login", data=data, follow_redirects=False).status_code
    return status


def test_someone_who_knows_the_e_mail_cannot_lock_the_owner_out(
    web: TestClient, shop: Shop
) -> None:
    web.app.state.login_throttle = LoginThrottle("3/15 minutes", "memory://")  # type: ignore[attr-defined]
    attackers = [_at(web, f"203.0.113.{n}") for n in range(1, 4)]
    # The account is past its limit of failures, spread over three addresses...
    assert [_sign_in(attacker, "guess") for attacker in attackers] == [401, 401, 401]
    assert _sign_in(attackers[0], "guess") == 429
    assert _sign_in(attackers[0], CONSOLE_PASSWORD) == 429  # ...and they stay refused,
    # but the owner, at an address that has not failed, signs in.
    owner = _at(web, "198.51.100.20")
    assert _sign_in(owner, CONSOLE_PASSWORD) == 303
    # A new address gets one guess at the locked account, not more.
    newcomer = _at(web, "192.0.2.77")
    assert [_sign_in(newcomer, "guess") for _ in range(2)] == [401, 429]


def test_a_successful_sign_in_clears_its_address_s_failures(web: TestClient, shop: Shop) -> None:
    web.app.state.login_throttle = LoginThrottle("3/15 minutes", "memory://")  # type: ignore[attr-defined]
    owner = _at(web, "198.51.100.20")
    assert [_sign_in(owner, "typo"), _sign_in(owner, CONSOLE_PASSWORD)] == [401, 303]
    attackers = [_at(web, f"203.0.113.{n}") for n in range(1, 4)]
    assert [_sign_in(attacker, "guess") for attacker in attackers] == [401, 401, 401]
    # The owner's typo was forgiven by the sign-in after it, so the owner is not refused.
    assert _sign_in(owner, CONSOLE_PASSWORD) == 303
    # Its address has now made its 3 attempts, successful or not.
    assert _sign_in(owner, CONSOLE_PASSWORD) == 429
