"""one proof per parcel of a phone's action

A delivery at a door hands over every parcel of the stop under one client event id, so the id
is unique per package; a driver's recent proofs are found by an index (standing).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
