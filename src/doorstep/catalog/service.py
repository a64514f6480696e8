"""Upserting products and stock; the rules of who may stock what where."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.catalog.schemas import (
    CatalogImportResult,
    ProductIn,
    StockIn,
    StockOut,
    UpsertResult,
)
from doorstep.errors import DomainError, InvalidInput
from doorstep.models import InventoryLevel, Node, NodeKind, Product

# Where a merchant's stock can sit: the network's warehouses, or its own stores.
STOCKING_KINDS = (NodeKind.WAREHOUSE, NodeKind.MALL_STORE, NodeKind.LOCAL_STORE)
MAX_BATCH = 10_000


class UnknownSku(InvalidInput):
    code = "unknown_sku"


class NodeNotStockable(InvalidInput):
    code = "node_not_stockable"


class StockBelowReserved(DomainError):
    status = 409
    code = "stock_below_reserved"


class CatalogFileInvalid(InvalidInput):
    code = "catalog_file_invalid"


def upsert_products(session: Session, merchant_id: int, items: Sequence[ProductIn]) -> UpsertResult:
    _check_batch(items, "products")
    existing = {
        p.sku: p
        for p in session.scalars(
            select(Product).where(
                Product.merchant_id == merchant_id, Product.sku.in_([i.sku for i in items])
            )
        )
    }
    result = UpsertResult()
    for item in items:
        values = item.model_dump()
        product = existing.get(item.sku)
        if product is None:
            product = Product(merchant_id=merchant_id, **values)
            session.add(product)
            existing[item.sku] = product
            result.created += 1
        elif any(getattr(product, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(product, key, value)
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result


def set_stock(
    session: Session,
    merchant_id: int,
    items: Sequence[StockIn],
    *,
    lines: Sequence[int] | None = None,
) -> UpsertResult:
    """Set absolute on-hand counts, all or nothing.

    An error names the item's field as ``[index].field``, or, given ``lines`` (the line of
    each item in a file), its line and field.
    """
    _check_batch(items, "stock")
    products = {
        p.sku: p
        for p in session.scalars(
            select(Product).where(
                Product.merchant_id == merchant_id, Product.sku.in_(sorted({i.sku for i in items}))
            )
        )
    }
    nodes = _nodes(session, [i.node for i in items])
    for index, item in enumerate(items):
        if item.sku not in products:
            raise _item_error(UnknownSku, index, "sku", f"no product with SKU '{item.sku}'", lines)
        reason = _not_stockable(nodes.get(item.node), item.node, merchant_id)
        if reason:
            raise _item_error(NodeNotStockable, index, "node", reason, lines)
    levels = {
        (level.product_id, level.node_id): level
        for level in session.scalars(
            select(InventoryLevel)
            .where(
                InventoryLevel.product_id.in_([p.id for p in products.values()]),
                InventoryLevel.node_id.in_([n.id for n in nodes.values()]),
            )
            .with_for_update()
        )
    }
    result = UpsertResult()
    for index, item in enumerate(items):
        key = (products[item.sku].id, nodes[item.node].id)
        level = levels.get(key)
        if level is None:
            level = InventoryLevel(
                product_id=key[0], node_id=key[1], on_hand=item.on_hand, reserved=0
            )
            session.add(level)
            levels[key] = level
            result.created += 1
        elif level.on_hand == item.on_hand:
            result.unchanged += 1
        else:
            if item.on_hand < level.reserved:
                raise _item_error(
                    StockBelowReserved,
                    index,
                    "on_hand",
                    f"{level.reserved} of '{item.sku}' at '{item.node}' are reserved for orders; "
                    f"on_hand cannot go to {item.on_hand}",
                    lines,
                )
            level.on_hand = item.on_hand
            result.updated += 1
    session.flush()
    return result


def _nodes(session: Session, codes: Sequence[str]) -> dict[str, Node]:
    return {
        n.code: n for n in session.scalars(select(Node).where(Node.code.in_(sorted(set(codes)))))
    }


def _not_stockable(node: Node | None, code: str, merchant_id: int) -> str | None:
    """Why the merchant cannot keep stock at ``node`` (None: it can)."""
    if node is None or node.kind not in STOCKING_KINDS:
        return f"'{code}' is not a warehouse or store"
    if node.kind is not NodeKind.WAREHOUSE and node.merchant_id != merchant_id:
        return f"'{code}' is not one of your stores"
    return None


def _item_error(
    error: type[DomainError], index: int, field: str, detail: str, lines: Sequence[int] | None
) -> DomainError:
    """``error`` about item ``index``: named by its position, or by its line in a file."""
    if lines is None:
        return error(detail, field=f"[{index}].{field}")
    return error(f"line {lines[index]}: {field}: {detail}", line=lines[index], field=field)


def list_products(
    session: Session,
    merchant_id: int,
    *,
    sku: str | None = None,
    after_sku: str | None = None,
    limit: int = 100,
) -> Sequence[Product]:
    """The merchant's products by SKU, a page at a time (``after_sku``: the last of a page)."""
    query = select(Product).where(Product.merchant_id == merchant_id)
    if sku:
        query = query.where(Product.sku == sku)
    if after_sku:
        query = query.where(Product.sku > after_sku)
    return session.scalars(query.order_by(Product.sku).limit(limit)).all()


def product_names(session: Session, merchant_id: int, skus: Sequence[str]) -> dict[str, str]:
    """SKU → name of those of ``skus`` the merchant has."""
    return dict(
        session.execute(
            select(Product.sku, Product.name).where(
                Product.merchant_id == merchant_id, Product.sku.in_(skus)
            )
        ).all()
    )


def list_stock(
    session: Session, merchant_id: int, sku: str | None = None, node: str | None = None
) -> list[StockOut]:
    query = (
        select(Product.sku, Node.code, InventoryLevel.on_hand, InventoryLevel.reserved)
        .join(Product, Product.id == InventoryLevel.product_id)
        .join(Node, Node.id == InventoryLevel.node_id)
        .where(Product.merchant_id == merchant_id)
        .order_by(Product.sku, Node.code)
    )
    if sku:
        query = query.where(Product.sku == sku)
    if node:
        query = query.where(Node.code == node)
    return [
        StockOut(sku=s, node=n, on_hand=h, reserved=r, available=h - r)
        for s, n, h, r in session.execute(query)
    ]


CSV_PRODUCT_COLUMNS = ("sku", "name", "length_mm", "width_mm", "height_mm", "weight_g")


def import_catalog_csv(session: Session, merchant_id: int, text: str) -> CatalogImportResult:
    """One row per SKU and node: ``sku,name,length_mm,width_mm,height_mm,weight_g,node,on_hand``.

    ``node`` and ``on_hand`` may both be blank (product only). Every bad row is reported with
    its line and field, and nothing is written unless the whole file is good.
    """
    # newline="": a line may end in CRLF, LF or a lone CR (as older spreadsheets write it).
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = set(reader.fieldnames or [])
    except csv.Error as exc:
        raise CatalogFileInvalid(f"line 1: {exc}", line=1) from None
    missing = set(CSV_PRODUCT_COLUMNS) - header
    if missing:
        raise CatalogFileInvalid(f"line 1: missing column(s) {', '.join(sorted(missing))}", line=1)
    products: dict[str, ProductIn] = {}
    stock: list[StockIn] = []
    stock_lines: list[int] = []
    problems: list[dict[str, Any]] = []
    for line, row in _csv_rows(reader, problems):
        try:
            product = ProductIn.model_validate({k: row.get(k) for k in CSV_PRODUCT_COLUMNS})
            if product.sku in products and products[product.sku] != product:
                raise ValueError(f"SKU '{product.sku}' has different details on another line")
            products[product.sku] = product
            if (row.get("node") or "").strip():
                stock.append(
                    StockIn.model_validate(
                        {"sku": row["sku"], "node": row["node"], "on_hand": row.get("on_hand")}
                    )
                )
                stock_lines.append(line)
            elif (row.get("on_hand") or "").strip():
                problems.append(
                    {"line": line, "field": "node", "message": "a count needs the node it is at"}
                )
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"])
                problems.append({"line": line, "field": field, "message": error["msg"]})
        except ValueError as exc:
            problems.append({"line": line, "field": "sku", "message": str(exc)})
    # Where the stock may sit is checked here, so that every bad row is named with its line.
    nodes = _nodes(session, [item.node for item in stock])
    for line, item in zip(stock_lines, stock, strict=True):
        reason = _not_stockable(nodes.get(item.node), item.node, merchant_id)
        if reason:
            problems.append({"line": line, "field": "node", "message": reason})
    if problems:
        problems.sort(key=lambda p: int(p["line"]))
        shown = "; ".join(f"line {p['line']}: {p['field']}: {p['message']}" for p in problems[:20])
        raise CatalogFileInvalid(
            f"{len(problems)} problem(s), nothing imported: {shown}", problems=problems
        )
    product_result = upsert_products(session, merchant_id, list(products.values()))
    stock_result = (
        set_stock(session, merchant_id, stock, lines=stock_lines) if stock else UpsertResult()
    )
    return CatalogImportResult(products=product_result, stock=stock_result)


def _csv_rows(
    reader: csv.DictReader[str], problems: list[dict[str, Any]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with its line; a line the reader cannot split (a field over its size limit)
    ends the file with a problem, not a crash."""
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        # line_num counts the lines read whole; the failure is in the next one.
        problems.append({"line": reader.line_num + 1, "field": None, "message": str(exc)})


def _check_batch(items: Sequence[object], what: str) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} {what} per call, got {len(items)}")
