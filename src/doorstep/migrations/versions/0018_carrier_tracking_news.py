"""when a carrier parcel last had tracking news

The carrier's latest tracking event time, kept by the tracking refresh, so that a parcel the
carrier has said nothing about for too long opens a carrier_silent exception.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-03 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tracking_news_at",
                doorstep.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.drop_column("tracking_news_at")
