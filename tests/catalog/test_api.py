"""The catalog endpoints as a merchant's developer uses them: products, stock and CSV import."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.catalog.service import MAX_BATCH
from doorstep.merchants import service as merchants
from doorstep.models import Product
from tests.shop import DOWNTOWN_CHANDLER, Shop, local, open_shop

# What open_shop stocks: the pan in the merchant's mall store, the rest in the warehouse.
SHOP_STOCK = {("ANVIL", "WTE1"): 3, ("KETTLE-1", "WTE1"): 5, ("PAN-28", "MCFC-KITCHEN"): 20}
CSV_HEADER = "sku,name,length_mm,width_mm,height_mm,weight_g,node,on_hand\n"


@pytest.fixture
def shop(session: Session) -> Shop:
    shop = open_shop(session)
    session.commit()
    return shop


@pytest.fixture
def rival(session: Session, shop: Shop) -> Shop:
    """A second merchant on the same network, with a local store of its own."""
    created = merchants.create_merchant(
        session, "Downtown Bikes", store_codes=["LS-DOWNTOWN-BIKES"]
    )
    session.commit()
    return Shop(
        created.merchant.id, created.secret_key.plaintext, created.publishable_key.plaintext
    )


def product(sku: str, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Product {sku}",
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 100,
        "weight_g": 900,
        **overrides,
    }


# What the test client answers (typed loosely, as in the other API tests).
Response = Any


def put_products(client: TestClient, shop: Shop, items: Any) -> Response:
    return client.put("/v1/products", json=items, headers=shop.headers())


def put_stock(client: TestClient, shop: Shop, items: Any) -> Response:
    return client.put("/v1/inventory", json=items, headers=shop.headers())


def put_stock_after_a_good_line(client: TestClient, shop: Shop, bad: dict[str, Any]) -> Response:
    """A batch whose first line is fine and whose second is not: all or nothing."""
    return put_stock(client, shop, [{"sku": "KETTLE-1", "node": "WTE1", "on_hand": 9}, bad])


def import_csv(client: TestClient, shop: Shop, text: str) -> Response:
    return client.post(
        "/v1/catalog/import",
        content=text.encode(),
        headers=shop.headers() | {"Content-Type": "text/csv"},
    )


def get_json(client: TestClient, shop: Shop, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=shop.headers())
    assert response.status_code == 200, response.json()
    return response.json()


def stock_of(client: TestClient, shop: Shop, **params: Any) -> dict[tuple[str, str], int]:
    rows = get_json(client, shop, "/v1/inventory", **params)
    return {(row["sku"], row["node"]): row["on_hand"] for row in rows}


def skus_of(client: TestClient, shop: Shop) -> set[str]:
    return {p["sku"] for p in get_json(client, shop, "/v1/products", limit=1000)}


def assert_error(response: Response, status: int, code: str, **context: Any) -> dict[str, Any]:
    """The error envelope: a stable code, a detail, the request's id and the facts named."""
    body: dict[str, Any] = response.json()
    assert (response.status_code, body["error"]) == (status, code), body
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    for key, value in context.items():
        assert body["context"][key] == value, body
    return body


def reserve(client: TestClient, shop: Shop, sku: str, quantity: int) -> None:
    """Reserve stock the way it happens in production: an order for it, at 10:00 in Chandler."""
    client.app.state.clock = lambda: local(10)  # type: ignore[attr-defined]
    response = client.post(
        "/v1/orders",
        json={
            "items": [{"sku": sku, "quantity": quantity}],
            "destination": DOWNTOWN_CHANDLER,
            "speed": "same_day",
            "recipient": {"name": "Ana Ruiz", "phone": "+1 480 555 0101"},
        },
        headers=shop.headers(),
    )
    assert response.status_code == 201, response.json()


# --- products ---------------------------------------------------------------------------------


def test_products_are_created_then_updated_then_left_unchanged(
    client: TestClient, session: Session, shop: Shop
) -> None:
    items = [product("MUG-1"), product("MUG-2")]
    assert put_products(client, shop, items).json() == {"created": 2, "updated": 0, "unchanged": 0}

    items[1] = product("MUG-2", name="Tall mug", weight_g=950)
    response = put_products(client, shop, items)
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 1}

    stamped = select(Product.updated_at).where(
        Product.merchant_id == shop.merchant_id, Product.sku == "MUG-2"
    )
    before = session.scalar(stamped)
    assert put_products(client, shop, items).json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert session.scalar(stamped) == before  # an unchanged product is not even touched

    [mug] = get_json(client, shop, "/v1/products", sku="MUG-2")
    assert mug == {**items[1], "active": True, "return_window_days": None}

    # Returnable for 30 days after delivery (the tracking page offers the return).
    items[1] = {**items[1], "return_window_days": 30}
    assert put_products(client, shop, items).json()["updated"] == 1
    [mug] = get_json(client, shop, "/v1/products", sku="MUG-2")
    assert mug["return_window_days"] == 30


def test_one_sku_reads_back_alone_and_an_unknown_one_is_an_empty_list(
    client: TestClient, shop: Shop
) -> None:
    assert [p["sku"] for p in get_json(client, shop, "/v1/products", sku="KETTLE-1")] == [
        "KETTLE-1"
    ]
    assert get_json(client, shop, "/v1/products", sku="NO-SUCH-SKU") == []


def test_pages_follow_the_cursor_without_repeating_or_missing_a_sku(
    client: TestClient, shop: Shop
) -> None:
    # Mixed case, digits and punctuation: the cursor must agree with the database's order.
    new = [f"{stem}{n}" for stem in ("a-", "A_", "b.", "B:", "z/") for n in (1, 2, 10, 11)]
    assert put_products(client, shop, [product(s) for s in new]).json()["created"] == len(new)
    everything = {*new, "ANVIL", "KETTLE-1", "PAN-28"}

    seen: list[str] = []
    pages = 0
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 6} | ({"after_sku": after} if after else {})
        page = [p["sku"] for p in get_json(client, shop, "/v1/products", **params)]
        if not page:
            break
        pages += 1
        assert len(page) <= 6
        seen.extend(page)
        after = page[-1]
        assert pages <= len(everything), "the cursor does not advance"

    assert len(seen) == len(set(seen)), "a SKU came twice"
    assert set(seen) == everything
    assert pages == -(-len(everything) // 6)


@pytest.mark.parametrize("limit", [0, -1, 1001, "many"])
def test_page_sizes_outside_1_to_1000_are_refused(
    client: TestClient, shop: Shop, limit: object
) -> None:
    response = client.get("/v1/products", params={"limit": str(limit)}, headers=shop.headers())
    body = assert_error(response, 422, "validation_error")
    assert [p["field"] for p in body["detail"]] == ["query.limit"]


# --- stock ------------------------------------------------------------------------------------


def test_stock_is_an_absolute_count_per_node_with_reserved_and_available(
    client: TestClient, shop: Shop
) -> None:
    items = [
        {"sku": "KETTLE-1", "node": "WTE1", "on_hand": 7},  # was 5
        {"sku": "KETTLE-1", "node": "MCFC-KITCHEN", "on_hand": 2},  # new
        {"sku": "ANVIL", "node": "WTE1", "on_hand": 3},  # as it was
    ]
    assert put_stock(client, shop, items).json() == {"created": 1, "updated": 1, "unchanged": 1}
    # Absolute, not a delta: sending the same counts again adds nothing.
    assert put_stock(client, shop, items).json() == {"created": 0, "updated": 0, "unchanged": 3}

    rows = get_json(client, shop, "/v1/inventory")
    assert rows == [
        {"sku": "ANVIL", "node": "WTE1", "on_hand": 3, "reserved": 0, "available": 3},
        {"sku": "KETTLE-1", "node": "MCFC-KITCHEN", "on_hand": 2, "reserved": 0, "available": 2},
        {"sku": "KETTLE-1", "node": "WTE1", "on_hand": 7, "reserved": 0, "available": 7},
        {"sku": "PAN-28", "node": "MCFC-KITCHEN", "on_hand": 20, "reserved": 0, "available": 20},
    ]
    assert stock_of(client, shop, sku="KETTLE-1") == {
        ("KETTLE-1", "MCFC-KITCHEN"): 2,
        ("KETTLE-1", "WTE1"): 7,
    }
    assert stock_of(client, shop, node="MCFC-KITCHEN") == {
        ("KETTLE-1", "MCFC-KITCHEN"): 2,
        ("PAN-28", "MCFC-KITCHEN"): 20,
    }
    assert stock_of(client, shop, sku="KETTLE-1", node="WTE1") == {("KETTLE-1", "WTE1"): 7}


def test_reserved_stock_is_shown_and_on_hand_cannot_go_below_it(
    client: TestClient, shop: Shop
) -> None:
    reserve(client, shop, "PAN-28", 3)
    [pan] = get_json(client, shop, "/v1/inventory", sku="PAN-28", node="MCFC-KITCHEN")
    assert (pan["on_hand"], pan["reserved"], pan["available"]) == (20, 3, 17)

    response = put_stock_after_a_good_line(
        client, shop, {"sku": "PAN-28", "node": "MCFC-KITCHEN", "on_hand": 2}
    )
    body = assert_error(response, 409, "stock_below_reserved", field="[1].on_hand")
    assert "3" in body["detail"]
    assert stock_of(client, shop) == SHOP_STOCK  # the kettle's good line was not written either

    # Down to exactly what is reserved is allowed: nothing left to sell.
    ok = put_stock(client, shop, [{"sku": "PAN-28", "node": "MCFC-KITCHEN", "on_hand": 3}])
    assert ok.json() == {"created": 0, "updated": 1, "unchanged": 0}
    [pan] = get_json(client, shop, "/v1/inventory", sku="PAN-28")
    assert (pan["on_hand"], pan["reserved"], pan["available"]) == (3, 3, 0)


@pytest.mark.parametrize(
    "node",
    [
        "DCH1",  # a delivery station
        "MCFC",  # the mall itself, not a store in it
        "PS-QC-FLORIST",  # a partner store only hands parcels over
        "SA-CHANDLER",  # a service area
        "NOWHERE",  # no such node
        "LS-OCOTILLO-PETS",  # a store nobody owns
    ],
)
def test_stock_where_it_cannot_sit_is_refused_and_nothing_is_written(
    client: TestClient, shop: Shop, node: str
) -> None:
    response = put_stock_after_a_good_line(
        client, shop, {"sku": "KETTLE-1", "node": node, "on_hand": 1}
    )
    assert_error(response, 422, "node_not_stockable", field="[1].node")
    assert stock_of(client, shop) == SHOP_STOCK


def test_stock_of_an_unknown_sku_is_refused_and_nothing_is_written(
    client: TestClient, shop: Shop
) -> None:
    response = put_stock_after_a_good_line(
        client, shop, {"sku": "TEAPOT", "node": "WTE1", "on_hand": 1}
    )
    body = assert_error(response, 422, "unknown_sku", field="[1].sku")
    assert "TEAPOT" in body["detail"]
    assert stock_of(client, shop) == SHOP_STOCK


# --- CSV import -------------------------------------------------------------------------------


def test_a_csv_import_upserts_products_and_stock_and_a_second_run_changes_nothing(
    client: TestClient, shop: Shop
) -> None:
    text = (
        CSV_HEADER
        + "KETTLE-1,Kettle,250,200,250,1200,WTE1,8\n"  # product as it was, stock 5 -> 8
        + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n"
        + "TEAPOT,Teapot,200,200,180,700,MCFC-KITCHEN,1\n"  # same product, second node
        + '"CUP:6","Cups, set of 6",300,200,120,1500,,\n'  # product only
    )
    response = import_csv(client, shop, text)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "products": {"created": 2, "updated": 0, "unchanged": 1},
        "stock": {"created": 2, "updated": 1, "unchanged": 0},
    }
    again = import_csv(client, shop, text).json()
    assert again == {
        "products": {"created": 0, "updated": 0, "unchanged": 3},
        "stock": {"created": 0, "updated": 0, "unchanged": 3},
    }
    [cups] = get_json(client, shop, "/v1/products", sku="CUP:6")
    assert cups["name"] == "Cups, set of 6"
    assert stock_of(client, shop) == SHOP_STOCK | {
        ("KETTLE-1", "WTE1"): 8,
        ("TEAPOT", "WTE1"): 4,
        ("TEAPOT", "MCFC-KITCHEN"): 1,
    }


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["windows", "classic-mac"])
def test_a_csv_saved_by_a_spreadsheet_imports(
    client: TestClient, shop: Shop, line_end: str
) -> None:
    # A byte-order mark and the line ends spreadsheets write.
    rows = CSV_HEADER + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n" + "CUP-6,Cups,1,1,1,1,,\n"
    text = "\ufeff" + rows.replace("\n", line_end)
    response = import_csv(client, shop, text)
    assert response.status_code == 200, response.json()
    assert response.json()["products"]["created"] == 2
    assert stock_of(client, shop, sku="TEAPOT") == {("TEAPOT", "WTE1"): 4}


def test_a_csv_field_too_long_to_read_is_named_by_line(client: TestClient, shop: Shop) -> None:
    text = (
        CSV_HEADER
        + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n"
        + f'CUP-6,"{"Cups " * 30_000}",300,200,120,1500,,\n'  # line 3: past the reader's limit
    )
    body = assert_error(import_csv(client, shop, text), 422, "catalog_file_invalid")
    assert [p["line"] for p in body["context"]["problems"]] == [3]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    header = import_csv(client, shop, f'"{"sku " * 40_000}",' + CSV_HEADER)
    assert_error(header, 422, "catalog_file_invalid", line=1)


def test_a_csv_with_only_its_header_changes_nothing(client: TestClient, shop: Shop) -> None:
    assert import_csv(client, shop, CSV_HEADER).json() == {
        "products": {"created": 0, "updated": 0, "unchanged": 0},
        "stock": {"created": 0, "updated": 0, "unchanged": 0},
    }
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}


def test_a_csv_with_bad_rows_names_each_line_and_field_and_imports_nothing(
    client: TestClient, shop: Shop
) -> None:
    text = (
        CSV_HEADER
        + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n"  # line 2: good
        + "CUP-6,Cups,300,200,120,heavy,,\n"  # line 3: weight
        + "KETTLE-1,Kettle,250,200,250,1200,WTE1,8\n"  # line 4: good
        + "BOWL,Bowl,300,-5,120,400,WTE1,3\n"  # line 5: width
        + "TEAPOT,Teapot XL,200,200,180,700,WTE1,4\n"  # line 6: other details for TEAPOT
    )
    response = import_csv(client, shop, text)
    body = assert_error(response, 422, "catalog_file_invalid")
    problems = {(p["line"], p["field"]) for p in body["context"]["problems"]}
    assert problems == {(3, "weight_g"), (5, "width_mm"), (6, "sku")}
    assert "line 3" in body["detail"]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    assert stock_of(client, shop) == SHOP_STOCK


def test_a_csv_row_with_a_node_and_no_count_is_named(client: TestClient, shop: Shop) -> None:
    text = CSV_HEADER + "TEAPOT,Teapot,200,200,180,700,WTE1,\n"
    body = assert_error(import_csv(client, shop, text), 422, "catalog_file_invalid")
    assert [(p["line"], p["field"]) for p in body["context"]["problems"]] == [(2, "on_hand")]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}


def test_a_csv_row_with_a_count_and_no_node_is_named(client: TestClient, shop: Shop) -> None:
    # Not a product-only row: the count would be dropped without a word.
    text = CSV_HEADER + "TEAPOT,Teapot,200,200,180,700,,4\n"
    body = assert_error(import_csv(client, shop, text), 422, "catalog_file_invalid")
    assert [(p["line"], p["field"]) for p in body["context"]["problems"]] == [(2, "node")]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}


def test_a_csv_without_a_product_column_is_refused_at_line_1(
    client: TestClient, shop: Shop
) -> None:
    text = "sku,name,length_mm,width_mm,height_mm,node,on_hand\nTEAPOT,Teapot,1,1,1,WTE1,4\n"
    body = assert_error(import_csv(client, shop, text), 422, "catalog_file_invalid", line=1)
    assert "weight_g" in body["detail"]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}


def test_csv_rows_at_nodes_that_hold_no_stock_are_named_by_line(
    client: TestClient, shop: Shop, rival: Shop
) -> None:
    text = (
        CSV_HEADER
        + "CUP-6,Cups,300,200,120,1500,,\n"  # line 2: product only
        + "TEAPOT,Teapot,200,200,180,700,LS-DOWNTOWN-BIKES,4\n"  # line 3: the rival's store
        + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n"  # line 4: good
        + "KETTLE-1,Kettle,250,200,250,1200,DCH1,8\n"  # line 5: a station
        + "KETTLE-1,Kettle,250,200,250,1200,NOWHERE,8\n"  # line 6: no such node
    )
    body = assert_error(import_csv(client, shop, text), 422, "catalog_file_invalid")
    problems = [(p["line"], p["field"]) for p in body["context"]["problems"]]
    assert problems == [(3, "node"), (5, "node"), (6, "node")]
    assert "line 3" in body["detail"]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    assert stock_of(client, shop) == SHOP_STOCK


def test_a_csv_row_below_what_is_reserved_is_named_by_line(client: TestClient, shop: Shop) -> None:
    reserve(client, shop, "PAN-28", 3)
    text = (
        CSV_HEADER
        + "TEAPOT,Teapot,200,200,180,700,WTE1,4\n"  # line 2: good
        + "CUP-6,Cups,300,200,120,1500,,\n"  # line 3: product only
        + "PAN-28,28 cm skillet,500,300,80,1800,MCFC-KITCHEN,2\n"  # line 4: 3 are reserved
    )
    body = assert_error(
        import_csv(client, shop, text), 409, "stock_below_reserved", line=4, field="on_hand"
    )
    assert body["detail"].startswith("line 4: on_hand:")
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    assert stock_of(client, shop) == SHOP_STOCK


# --- batch sizes and malformed bodies ---------------------------------------------------------


def test_a_batch_over_the_limit_is_refused_whole(
    client: TestClient, session: Session, shop: Shop
) -> None:
    items = [product(f"BULK-{n:05d}") for n in range(MAX_BATCH + 1)]
    body = assert_error(put_products(client, shop, items), 422, "invalid_input")
    assert str(MAX_BATCH) in body["detail"]
    count = select(func.count()).select_from(Product).where(Product.merchant_id == shop.merchant_id)
    assert session.scalar(count) == 3

    stock = [{"sku": "KETTLE-1", "node": "WTE1", "on_hand": n} for n in range(MAX_BATCH + 1)]
    assert_error(put_stock(client, shop, stock), 422, "invalid_input")
    assert stock_of(client, shop) == SHOP_STOCK


def test_a_csv_over_the_limit_is_refused_whole(
    client: TestClient, session: Session, shop: Shop
) -> None:
    # Few enough products, but one stock line too many: the products must not stay behind.
    rows = [
        f"BULK-{n:05d},Bulk,100,100,100,100,{node},1\n"
        for n in range(MAX_BATCH // 2 + 1)
        for node in ("WTE1", "MCFC-KITCHEN")
    ]
    body = assert_error(import_csv(client, shop, CSV_HEADER + "".join(rows)), 422, "invalid_input")
    assert str(MAX_BATCH) in body["detail"]
    count = select(func.count()).select_from(Product).where(Product.merchant_id == shop.merchant_id)
    assert session.scalar(count) == 3
    assert stock_of(client, shop) == SHOP_STOCK


def test_a_batch_at_the_limit_is_accepted(client: TestClient, session: Session, shop: Shop) -> None:
    items = [product(f"BULK-{n:05d}") for n in range(MAX_BATCH)]
    response = put_products(client, shop, items)
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": MAX_BATCH, "updated": 0, "unchanged": 0}
    count = select(func.count()).select_from(Product).where(Product.merchant_id == shop.merchant_id)
    assert session.scalar(count) == MAX_BATCH + 3


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (product("MUG-1", colour="blue"), "body.0.colour"),
        (product("-MUG"), "body.0.sku"),
        (product("MUG 1"), "body.0.sku"),
        (product("MUG#1"), "body.0.sku"),
        (product(""), "body.0.sku"),
        (product("M" * 101), "body.0.sku"),
        (product("MUG-1", length_mm=-1), "body.0.length_mm"),
        (product("MUG-1", width_mm=0), "body.0.width_mm"),
        (product("MUG-1", height_mm=5001), "body.0.height_mm"),
        (product("MUG-1", weight_g=-900), "body.0.weight_g"),
        (product("MUG-1", weight_g=1.5), "body.0.weight_g"),
        (product("MUG-1", name=""), "body.0.name"),
        ({k: v for k, v in product("MUG-1").items() if k != "name"}, "body.0.name"),
    ],
)
def test_a_malformed_product_is_a_422_naming_the_field_and_nothing_is_written(
    client: TestClient, shop: Shop, item: dict[str, Any], field: str
) -> None:
    response = put_products(client, shop, [product("GOOD-1"), item])
    body = assert_error(response, 422, "validation_error")
    assert [p["field"] for p in body["detail"]] == [field.replace("body.0", "body.1")]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"sku": "KETTLE-1", "node": "WTE1", "on_hand": -1}, "body.0.on_hand"),
        ({"sku": "KETTLE-1", "node": "WTE1", "on_hand": "ten"}, "body.0.on_hand"),
        ({"sku": "KETTLE-1", "node": "WTE1", "on_hand": 1, "delta": 1}, "body.0.delta"),
        ({"sku": "KETTLE 1", "node": "WTE1", "on_hand": 1}, "body.0.sku"),
        ({"sku": "KETTLE-1", "node": "", "on_hand": 1}, "body.0.node"),
        ({"sku": "KETTLE-1", "on_hand": 1}, "body.0.node"),
    ],
)
def test_a_malformed_stock_line_is_a_422_naming_the_field(
    client: TestClient, shop: Shop, item: dict[str, Any], field: str
) -> None:
    body = assert_error(put_stock(client, shop, [item]), 422, "validation_error")
    assert [p["field"] for p in body["detail"]] == [field]
    assert stock_of(client, shop) == SHOP_STOCK


@pytest.mark.parametrize("path", ["/v1/products", "/v1/inventory"])
def test_a_body_that_is_not_a_list_is_a_422(client: TestClient, shop: Shop, path: str) -> None:
    response = client.put(path, json={"sku": "KETTLE-1"}, headers=shop.headers())
    assert_error(response, 422, "validation_error")


# --- keys -------------------------------------------------------------------------------------

CALLS = [
    ("PUT", "/v1/products", [product("MUG-1")]),
    ("GET", "/v1/products", None),
    ("PUT", "/v1/inventory", [{"sku": "KETTLE-1", "node": "WTE1", "on_hand": 9}]),
    ("GET", "/v1/inventory", None),
    ("POST", "/v1/catalog/import", CSV_HEADER + "MUG-1,Mug,100,100,100,300,WTE1,9\n"),
]


def _call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, str):
        headers = headers | {"Content-Type": "text/csv"}
        return client.request(method, path, content=body.encode(), headers=headers)
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_every_catalog_call_needs_a_live_secret_key(
    client: TestClient, shop: Shop, method: str, path: str, body: Any
) -> None:
    assert_error(_call(client, method, path, body, {}), 401, "not_authenticated")
    assert_error(
        _call(client, method, path, body, {"Authorization": "Bearer sk_not_a_key"}),
        401,
        "invalid_api_key",
    )
    assert_error(
        _call(client, method, path, body, shop.headers(publishable=True)), 403, "key_not_allowed"
    )
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    assert stock_of(client, shop) == SHOP_STOCK


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_a_revoked_key_stops_working_at_once(
    client: TestClient, shop: Shop, method: str, path: str, body: Any
) -> None:
    issued = client.post("/v1/api-keys", json={"kind": "secret"}, headers=shop.headers()).json()
    spare = {"Authorization": f"Bearer {issued['key']}"}
    assert client.get("/v1/products", headers=spare).status_code == 200  # now trusted, cached
    revoked = client.post(f"/v1/api-keys/{issued['id']}/revoke", headers=shop.headers())
    assert revoked.status_code == 200, revoked.json()

    body_ = assert_error(_call(client, method, path, body, spare), 401, "invalid_api_key")
    assert "revoked" in body_["detail"]
    assert skus_of(client, shop) == {"ANVIL", "KETTLE-1", "PAN-28"}
    assert stock_of(client, shop) == SHOP_STOCK


# --- two merchants ----------------------------------------------------------------------------


def test_two_merchants_with_the_same_sku_never_see_or_change_each_other(
    client: TestClient, shop: Shop, rival: Shop
) -> None:
    # The rival starts empty, and uses SKUs the shop uses too.
    assert get_json(client, rival, "/v1/products") == []
    assert get_json(client, rival, "/v1/inventory") == []
    assert get_json(client, rival, "/v1/products", sku="PAN-28") == []

    bike_pan = product("PAN-28", name="Bike frame bag", weight_g=300)
    created = put_products(client, rival, [bike_pan, product("BELL")]).json()
    assert created == {"created": 2, "updated": 0, "unchanged": 0}  # not "updated"
    [shop_pan] = get_json(client, shop, "/v1/products", sku="PAN-28")
    assert shop_pan["name"] == "28 cm skillet"
    [rival_pan] = get_json(client, rival, "/v1/products", sku="PAN-28")
    assert rival_pan["name"] == "Bike frame bag"

    # Both may stock the network's warehouse; each sees and sets only its own count.
    rival_stock = [
        {"sku": "PAN-28", "node": "WTE1", "on_hand": 11},
        {"sku": "BELL", "node": "LS-DOWNTOWN-BIKES", "on_hand": 4},
    ]
    assert put_stock(client, rival, rival_stock).json()["created"] == 2
    assert stock_of(client, rival) == {("PAN-28", "WTE1"): 11, ("BELL", "LS-DOWNTOWN-BIKES"): 4}
    assert stock_of(client, shop) == SHOP_STOCK
    assert stock_of(client, shop, node="WTE1") == {("ANVIL", "WTE1"): 3, ("KETTLE-1", "WTE1"): 5}

    # Nor do the pages, the cursor or a CSV import cross over.
    assert [p["sku"] for p in get_json(client, rival, "/v1/products", after_sku="A")] == [
        "BELL",
        "PAN-28",
    ]
    imported = import_csv(client, rival, CSV_HEADER + "KETTLE-1,Bike kettle,1,1,1,1,WTE1,1\n")
    assert imported.json()["products"] == {"created": 1, "updated": 0, "unchanged": 0}
    [shop_kettle] = get_json(client, shop, "/v1/products", sku="KETTLE-1")
    assert shop_kettle["name"] == "Kettle"
    assert stock_of(client, shop) == SHOP_STOCK


def test_a_merchant_cannot_stock_another_merchants_store_or_sku(
    client: TestClient, shop: Shop, rival: Shop
) -> None:
    put_products(client, rival, [product("BELL")])
    into_store = put_stock(client, rival, [{"sku": "BELL", "node": "MCFC-KITCHEN", "on_hand": 1}])
    assert_error(into_store, 422, "node_not_stockable", field="[0].node")
    their_sku = put_stock(client, rival, [{"sku": "ANVIL", "node": "WTE1", "on_hand": 0}])
    assert_error(their_sku, 422, "unknown_sku", field="[0].sku")
    by_csv = import_csv(client, rival, CSV_HEADER + "BELL,Bell,1,1,1,1,MCFC-KITCHEN,1\n")
    assert by_csv.json()["context"]["problems"] == [
        {"line": 2, "field": "node", "message": "'MCFC-KITCHEN' is not one of your stores"}
    ]
    assert stock_of(client, rival) == {}
    assert stock_of(client, shop) == SHOP_STOCK
