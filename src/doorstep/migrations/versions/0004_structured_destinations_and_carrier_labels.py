"""structured destinations and carrier labels

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:13:12.299917
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _shipment_status(*values: str) -> sa.Enum:
    return sa.Enum(
        *values,
        name="carrier_shipment_status",
        native_enum=False,
        create_constraint=True,
        length=32,
    )


OLD_STATUS = _shipment_status("planned", "labelled", "handed_over")
NEW_STATUS = _shipment_status("planned", "labelling", "labelled", "handed_over")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dest_address_line2", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dest_city", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("dest_state", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("dest_country", sa.String(length=2), server_default="US", nullable=False)
        )

    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_service", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("label_cents", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("label_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("label_path", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column(
                "label_requested_at",
                doorstep.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("labelled_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        # The status CHECK gains "labelling" (drops the old constraint, creates the new one).
        batch_op.alter_column(
            "status", existing_type=OLD_STATUS, type_=NEW_STATUS, existing_nullable=False
        )


def downgrade() -> None:
    # The old schema cannot say "labelling": such a shipment goes back to planned.
    op.execute("UPDATE carrier_shipments SET status = 'planned' WHERE status = 'labelling'")
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=NEW_STATUS, type_=OLD_STATUS, existing_nullable=False
        )
        batch_op.drop_column("labelled_at")
        batch_op.drop_column("label_requested_at")
        batch_op.drop_column("label_path")
        batch_op.drop_column("label_currency")
        batch_op.drop_column("label_cents")
        batch_op.drop_column("label_service")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("dest_country")
        batch_op.drop_column("dest_state")
        batch_op.drop_column("dest_city")
        batch_op.drop_column("dest_address_line2")
