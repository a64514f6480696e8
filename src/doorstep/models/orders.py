"""Orders, the packages they are split into, and each package's append-only history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column, utcnow
from doorstep.models.tracking import digest_of_row, new_tracking_token
from doorstep.orders.lifecycle import INITIAL_STATE, PackageState


class DeliverySpeed(StrEnum):
    SAME_DAY = "same_day"
    NEXT_DAY = "next_day"
    TWO_DAY = "two_day"


class OrderStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # every package reached a final state


class Channel(StrEnum):
    """How a package travels its last leg."""

    STATION_ROUTE = "station_route"  # a gig driver's block from a delivery station
    STORE_PICKUP = "store_pickup"  # a driver's run that collects at a store or mall
    PARTNER_STORE = "partner_store"  # a partner store's staff within its radius
    CARRIER = "carrier"  # a national carrier


class Order(Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        CheckConstraint("dest_lat BETWEEN -90 AND 90", name="dest_lat_range"),
        CheckConstraint("dest_lng BETWEEN -180 AND 180", name="dest_lng_range"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        Index("ix_orders_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unguessable id shown to merchants and in URLs.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.CONFIRMED
    )
    speed: Mapped[DeliverySpeed] = mapped_column(enum_column(DeliverySpeed, "delivery_speed"))
    promised_by: Mapped[datetime]
    fee_cents: Mapped[int] = mapped_column(default=0)
    # The merchant's own reference for the order and for its payment (we hold no card data).
    merchant_reference: Mapped[str | None] = mapped_column(String(200))
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_phone: Mapped[str | None] = mapped_column(String(40))
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    # The street line (or, from clients that send no structured address, the whole address).
    dest_address: Mapped[str] = mapped_column(String(400))
    dest_address_line2: Mapped[str | None] = mapped_column(String(200))
    dest_city: Mapped[str | None] = mapped_column(String(100))
    dest_state: Mapped[str | None] = mapped_column(String(2))  # e.g. AZ
    dest_postal_code: Mapped[str | None] = mapped_column(String(20))
    dest_country: Mapped[str] = mapped_column(String(2), default="US", server_default="US")
    dest_lat: Mapped[float] = mapped_column(Float)
    dest_lng: Mapped[float] = mapped_column(Float)
    delivery_instructions: Mapped[str | None] = mapped_column(String(1000))
    # A retried create with the same key returns this order; the fingerprint tells a retry
    # (same body) from a client bug (same key, different body).
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The delivery preview whose option was ordered, if any.
    preview_public_id: Mapped[str | None] = mapped_column(String(40))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan"
    )
    packages: Mapped[list[Package]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def has_structured_address(self) -> bool:
        """Street, city, state and postal code each in their own field (what a label needs)."""
        return bool(
            self.dest_address and self.dest_city and self.dest_state and self.dest_postal_code
        )

    @property
    def full_address(self) -> str:
        """The address on one line, for people: a manifest, a confirmation page."""
        if not self.dest_city:
            return self.dest_address  # a free-text address, as the client sent it
        place = " ".join(p for p in (self.dest_state, self.dest_postal_code) if p)
        parts = (self.dest_address, self.dest_address_line2, self.dest_city, place)
        return ", ".join(p for p in parts if p)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    # The node whose stock was reserved for this line.
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")


class Package(Timestamped, Base):
    """One box that travels on its own. Its ``state`` changes only through the state machine."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0 AND weight_g > 0",
            name="dimensions_positive",
        ),
        Index("ix_packages_state_origin", "state", "origin_node_id"),
        # Committed volume of a station or partner store on a day: the promise's capacity check,
        # run for every order. With the state in the index the count reads the index alone.
        Index("ix_packages_serving_day_state", "serving_node_id", "service_date", "state"),
        Index("ix_packages_tracking_digest", "tracking_digest", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unguessable code behind the customer's tracking link and the label barcode.
    tracking_code: Mapped[str] = mapped_column(String(40), unique=True)
    # The secret behind the shopper's tracking page (/track/{token}): not the label's code,
    # which anyone who handles the box can read. Kept as is, since every read of the order
    # and every message gives the link again; looked up only by its digest (models.tracking).
    # Every insert fills both (column defaults) and migration 0013 filled the older rows;
    # NULL is allowed by the schema only so that SQLite adds them without rebuilding the
    # table the whole history points at.
    tracking_token: Mapped[str] = mapped_column(
        String(64), nullable=True, default=new_tracking_token
    )
    tracking_digest: Mapped[str] = mapped_column(String(64), nullable=True, default=digest_of_row)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    origin_node_id: Mapped[int] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[PackageState] = mapped_column(
        enum_column(PackageState, "package_state"), default=INITIAL_STATE
    )
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    # The station or partner store expected to deliver it, and on which local date: what the
    # promise counted against that node's daily capacity. Planning may change both.
    serving_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    service_date: Mapped[date | None]
    length_mm: Mapped[int]
    width_mm: Mapped[int]
    height_mm: Mapped[int]
    weight_g: Mapped[int]
    promised_by: Mapped[datetime]
    # Failed attempts at the door so far (after the limit it goes back to the merchant).
    delivery_attempts: Mapped[int] = mapped_column(default=0)
    # What proof the door needs, where the order asked for more than its merchant's default
    # ({"photo": "required", "pin": "required", …}; see drivers.proof).
    proof_policy: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # A PIN the shopper tells the driver (a digest only), and wrong tries at the door.
    pin_hash: Mapped[str | None] = mapped_column(String(64))
    pin_attempts: Mapped[int] = mapped_column(default=0)
    # Bumped on every UPDATE; a concurrent writer that read an older version fails instead of
    # silently overwriting a transition.
    version: Mapped[int] = mapped_column(default=1)

    order: Mapped[Order] = relationship(back_populates="packages", lazy="raise")
    events: Mapped[list[PackageEvent]] = relationship(
        back_populates="package", lazy="raise", order_by="PackageEvent.sequence"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    @property
    def volume_cm3(self) -> int:
        return -(-self.length_mm * self.width_mm * self.height_mm // 1000)


class PackageEvent(Base):
    """One transition of one package; rows are only ever inserted."""

    __tablename__ = "package_events"
    __table_args__ = (UniqueConstraint("package_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    # 1, 2, 3 … per package; the unique key makes two racing transitions collide.
    sequence: Mapped[int]
    from_state: Mapped[PackageState | None] = mapped_column(
        enum_column(PackageState, "package_event_from_state")
    )
    to_state: Mapped[PackageState] = mapped_column(
        enum_column(PackageState, "package_event_to_state")
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who caused it: "system", "operator:…", "driver:42", "merchant:7", "partner:9".
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    package: Mapped[Package] = relationship(back_populates="events", lazy="raise")
