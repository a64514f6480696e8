"""What merchants sell and where the stock sits."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped
from doorstep.models.network import Node


class Product(Timestamped, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("merchant_id", "sku"),
        CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0 AND weight_g > 0",
            name="dimensions_positive",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    length_mm: Mapped[int]
    width_mm: Mapped[int]
    height_mm: Mapped[int]
    weight_g: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    # Days after delivery a shopper may return it from the tracking page; NULL: no returns.
    return_window_days: Mapped[int | None]


class InventoryLevel(Timestamped, Base):
    """Stock of one product at one node. ``reserved`` units are held for orders not yet picked."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        # The database itself refuses an oversell, whatever the application does.
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[int] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(lazy="raise")
    node: Mapped[Node] = relationship(lazy="raise")
