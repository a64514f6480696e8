"""a block's pay raised: what it paid before the first raise

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:40:00

A block nobody has taken as its start nears has its pay raised (`drivers.boost`), by the
worker once and by an operator from the console. The driver's offer shows the pay it was
raised from, and a block raised once is not raised again by the worker.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_raised_from_cents", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_column("pay_raised_from_cents")
