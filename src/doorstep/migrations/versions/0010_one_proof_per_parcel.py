"""one proof per parcel of a phone's action; blocks that can be returning, offers that can be
interested

A delivery at a door hands over every parcel of the stop under one client event id, so the id
is unique per package; a driver's recent proofs are found by an index (standing). The CHECK
constraint on ``blocks.status`` predates the ``returning`` status (0008 added it to the block
events' columns only), so a block could not wait for its undelivered parcels; the one on
``offers.status`` predates ``interested`` (a driver's interest during a round).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLOCK_STATUSES = ("open", "accepted", "in_progress", "completed", "cancelled")
OFFER_STATUSES = ("offered", "accepted", "declined", "expired", "withdrawn", "forfeited")


def _statuses(table: str, name: str, statuses: tuple[str, ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        allowed = ", ".join(f"'{status}'" for status in statuses)
        batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), f"status IN ({allowed})")


def upgrade() -> None:
    _statuses("blocks", "block_status", (*BLOCK_STATUSES, "returning"))
    _statuses("offers", "offer_status", (*OFFER_STATUSES, "interested"))
    with op.batch_alter_table("delivery_proofs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_delivery_proofs_client_event_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_delivery_proofs_client_event_id_package_id"),
            ["client_event_id", "package_id"],
        )
        batch_op.create_index(
            "ix_delivery_proofs_driver_happened", ["driver_id", "happened_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_proofs", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_proofs_driver_happened")
        batch_op.drop_constraint(
            op.f("uq_delivery_proofs_client_event_id_package_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_delivery_proofs_client_event_id"), ["client_event_id"]
        )
    _statuses("offers", "offer_status", OFFER_STATUSES)
    _statuses("blocks", "block_status", BLOCK_STATUSES)
