"""counter pick-up chosen by the shopper

A parcel its shopper collects at a partner store's counter (the promise's pick-up option at
checkout, or the choice after a failed delivery) gets a row naming the store: the planner puts
it on that store's manifest, off the staff route. A table of its own rather than a column of
packages: SQLite would rebuild packages, which every event and line points at, to add a
foreign key.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from doorstep.models.base import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_choices",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("partner_store_id", sa.Integer(), nullable=False),
        sa.Column("chosen_in", sa.String(length=20), nullable=False),
        sa.Column("chosen_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_counter_choices_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_store_id"],
            ["partner_stores.node_id"],
            name=op.f("fk_counter_choices_partner_store_id_partner_stores"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_counter_choices")),
    )
    with op.batch_alter_table("counter_choices", schema=None) as batch_op:
        batch_op.create_index("ix_counter_choices_store", ["partner_store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("counter_choices", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_choices_store")
    op.drop_table("counter_choices")
