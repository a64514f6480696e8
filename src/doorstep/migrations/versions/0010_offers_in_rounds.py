"""offers in rounds: offers that can be interested, blocks that can be returning, and an
index for the pass that expires offers past their time

0008 added ``interested`` (a driver's interest during a round) to the offer states and
``returning`` to the block states in the models, but the CHECK constraints of
``offers.status`` and ``blocks.status`` still listed the states of 0001 (the schema test
compares columns, not CHECK constraints). Offer rows are made for every driver who lists the
open blocks, so the table grows by drivers × blocks a day; the pass every 15 seconds reads only
the offers still offered whose time is up.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLOCK_STATES = ("open", "accepted", "in_progress", "completed", "cancelled")
OFFER_STATES = ("offered", "accepted", "declined", "expired", "withdrawn", "forfeited")


def _states(table: str, name: str, states: tuple[str, ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        allowed = ", ".join(f"'{state}'" for state in states)
        batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), f"status IN ({allowed})")


def upgrade() -> None:
    _states("blocks", "block_status", (*BLOCK_STATES, "returning"))
    _states("offers", "offer_status", (*OFFER_STATES, "interested"))
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index("ix_offers_status_expires", ["status", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_status_expires")
    _states("offers", "offer_status", OFFER_STATES)
    _states("blocks", "block_status", BLOCK_STATES)
