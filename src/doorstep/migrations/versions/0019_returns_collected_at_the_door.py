"""a shopper's return collected from their door on a later block

The shopper may choose a driver's visit instead of a counter: the first day a block may come,
the pickup stop the planner put it on, the day of that block, and the tries that found
nobody home.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("door_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("door_stop_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("door_planned_for", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("door_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("door_failed_at", doorstep.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_returns_door_stop_id_stops", "stops", ["door_stop_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_returns_door_stop_id", ["door_stop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_door_stop_id")
        batch_op.drop_constraint("fk_returns_door_stop_id_stops", type_="foreignkey")
        for column in (
            "door_failed_at",
            "door_attempts",
            "door_planned_for",
            "door_stop_id",
            "door_from",
        ):
            batch_op.drop_column(column)
