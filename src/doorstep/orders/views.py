"""Turning order rows into API views and CSV rows; searching and paging orders."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from doorstep.db import LIKE_ESCAPE, escape_like
from doorstep.errors import InvalidInput
from doorstep.models import DeliverySpeed, Order, OrderStatus
from doorstep.orders.schemas import (
    OrderDestination,
    OrderLineOut,
    OrderOut,
    PackageOut,
    Recipient,
)
from doorstep.orders.service import ORDER_LOADS, order_view_data

CSV_COLUMNS = (
    "id",
    "created_at",
    "status",
    "speed",
    "promised_by",
    "fee_cents",
    "recipient_name",
    "recipient_phone",
    "recipient_email",
    "address",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "merchant_reference",
    "payment_reference",
    "items",
    "packages",
)


# The largest id an order can have (an INTEGER column): a cursor past it was not ours.
_MAX_ORDER_ID = 2**31 - 1


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    speed: DeliverySpeed | None = None
    query: str | None = None  # id, merchant reference, recipient name or e-mail
    created_from: datetime | None = None
    created_to: datetime | None = None

    def apply(self, statement: Select[Order]) -> Select[Order]:
        if self.status:
            statement = statement.where(Order.status == self.status)
        if self.speed:
            statement = statement.where(Order.speed == self.speed)
        if self.created_from:
            statement = statement.where(Order.created_at >= self.created_from)
        if self.created_to:
            statement = statement.where(Order.created_at < self.created_to)
        if self.query:
            # The words searched for, literally: a % or _ in them matches itself only.
            like = f"%{escape_like(self.query.strip().lower())}%"
            statement = statement.where(
                or_(
                    func.lower(Order.public_id).like(like, escape=LIKE_ESCAPE),
                    func.lower(Order.merchant_reference).like(like, escape=LIKE_ESCAPE),
                    func.lower(Order.recipient_name).like(like, escape=LIKE_ESCAPE),
                    func.lower(Order.recipient_email).like(like, escape=LIKE_ESCAPE),
                )
            )
        return statement


def page_of_orders(
    session: Session,
    merchant_id: int,
    where: OrderFilter,
    *,
    limit: int,
    cursor: str | None,
    public_url: str = "",
) -> tuple[list[OrderOut], str | None]:
    """Newest first; the cursor is opaque to clients (the last row's id). ``public_url``: what
    tracking links start with (``DOORSTEP_PUBLIC_URL``; empty: links relative to this host)."""
    statement = where.apply(select(Order).where(Order.merchant_id == merchant_id))
    if cursor:
        statement = statement.where(Order.id < _decode(cursor))
    orders = list(
        session.scalars(statement.order_by(Order.id.desc()).limit(limit + 1).options(*ORDER_LOADS))
    )
    more = len(orders) > limit
    orders = orders[:limit]
    views = order_views(session, orders, public_url=public_url)
    return views, (_encode(orders[-1].id) if more and orders else None)


def iter_orders(
    session: Session, merchant_id: int, where: OrderFilter, batch: int = 500, public_url: str = ""
) -> Iterator[OrderOut]:
    cursor: str | None = None
    while True:
        views, cursor = page_of_orders(
            session, merchant_id, where, limit=batch, cursor=cursor, public_url=public_url
        )
        yield from views
        if cursor is None:
            return


def order_views(
    session: Session, orders: Sequence[Order], *, public_url: str = ""
) -> list[OrderOut]:
    data = order_view_data(session, orders)
    return [order_out(order, data, public_url=public_url) for order in orders]


def tracking_url(public_url: str, token: str) -> str:
    """The shopper's tracking page of a package: ``{DOORSTEP_PUBLIC_URL}/track/{token}``."""
    return f"{public_url.rstrip('/')}/track/{token}"


def order_out(order: Order, data: dict[str, Any], *, public_url: str = "") -> OrderOut:
    codes, skus = data["node_codes"], data["skus"]
    collect_at: dict[int, int] = data.get("collect_at", {})
    return OrderOut(
        id=order.public_id,
        status=order.status,
        speed=order.speed,
        promised_by=order.promised_by,
        fee_cents=order.fee_cents,
        created_at=order.created_at,
        recipient=Recipient(
            name=order.recipient_name, phone=order.recipient_phone, email=order.recipient_email
        ),
        destination=OrderDestination(
            lat=order.dest_lat,
            lng=order.dest_lng,
            address=order.dest_address,
            address_line2=order.dest_address_line2,
            city=order.dest_city,
            state=order.dest_state,
            postal_code=order.dest_postal_code,
            country=order.dest_country,
        ),
        delivery_instructions=order.delivery_instructions,
        merchant_reference=order.merchant_reference,
        payment_reference=order.payment_reference,
        preview_id=order.preview_public_id,
        items=[
            OrderLineOut(
                sku=skus[line.product_id], quantity=line.quantity, node=codes[line.node_id]
            )
            for line in sorted(order.lines, key=lambda line: line.id)
        ],
        packages=[
            PackageOut(
                tracking_code=p.tracking_code,
                tracking_url=tracking_url(public_url, p.tracking_token),
                state=p.state,
                channel=p.channel,
                ships_from=codes[p.origin_node_id],
                delivered_by=codes.get(p.serving_node_id) if p.serving_node_id else None,
                collect_at=codes.get(collect_at[p.id]) if p.id in collect_at else None,
                promised_by=p.promised_by,
                weight_g=p.weight_g,
                volume_cm3=p.volume_cm3,
            )
            for p in sorted(order.packages, key=lambda p: p.id)
        ],
    )


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (a shopper named ``=HYPERLINK(...)`` stays a name)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def csv_lines(orders: Iterable[OrderOut]) -> Iterator[str]:
    """The orders export, a chunk per order after the header: the one writer of every CSV
    the API and the console send. Every cell is quoted, and escaped by `csv_cell`, so no
    separator (``,`` or, in some spreadsheets' locales, ``;``) starts a new cell either."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for view in orders:
        writer.writerow([csv_cell(cell) for cell in csv_row(view)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_row(view: OrderOut) -> list[str]:
    """An order's cells as they are (`csv_lines` escapes them)."""
    return [
        view.id,
        view.created_at.isoformat(),
        view.status.value,
        view.speed.value,
        view.promised_by.isoformat(),
        str(view.fee_cents),
        view.recipient.name,
        view.recipient.phone or "",
        view.recipient.email or "",
        view.destination.address or "",
        view.destination.address_line2 or "",
        view.destination.city or "",
        view.destination.state or "",
        view.destination.postal_code or "",
        view.destination.country,
        view.merchant_reference or "",
        view.payment_reference or "",
        "; ".join(f"{i.quantity} x {i.sku}" for i in view.items),
        "; ".join(f"{p.tracking_code}:{p.state.value}" for p in view.packages),
    ]


def _encode(order_id: int) -> str:
    return base64.urlsafe_b64encode(f"o:{order_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        order_id = int(value)
        if kind != "o" or not 0 < order_id <= _MAX_ORDER_ID:
            raise ValueError(kind)
        return order_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API returned", field="cursor") from None
