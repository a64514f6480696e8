"""the partner run back: what a run collected at a store, and returns left at a counter

A parcel going back from a partner store records when, by whom and on which block the run
scanned it; a shopper's return records the counter it was left at and the block that
collected it, until the station receives it.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner_back_to_station", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collected_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("block_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_partner_back_to_station_block_id_blocks",
            "blocks",
            ["block_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dropped_at", doorstep.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("dropped_node_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dropped_by", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("collected_at", doorstep.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("collected_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("collected_block_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_returns_dropped_node_id_nodes",
            "nodes",
            ["dropped_node_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_returns_collected_block_id_blocks",
            "blocks",
            ["collected_block_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_returns_collected_block_id", ["collected_block_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_collected_block_id")
        batch_op.drop_constraint("fk_returns_collected_block_id_blocks", type_="foreignkey")
        batch_op.drop_constraint("fk_returns_dropped_node_id_nodes", type_="foreignkey")
        for column in (
            "collected_block_id",
            "collected_by",
            "collected_at",
            "dropped_by",
            "dropped_node_id",
            "dropped_at",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("partner_back_to_station", schema=None) as batch_op:
        batch_op.drop_constraint("fk_partner_back_to_station_block_id_blocks", type_="foreignkey")
        batch_op.drop_column("block_id")
        batch_op.drop_column("collected_by")
