"""carrier handover at the counter: when a shipment was handed over, found by tracking number

The counter finds a shipment by the tracking number it scans, so that column gets an index;
the shipment records when its carrier took it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "handed_over_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "ix_carrier_shipments_tracking_number", ["tracking_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_carrier_shipments_tracking_number")
        batch_op.drop_column("handed_over_at")
