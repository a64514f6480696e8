"""an exception for a return to collect at a door that no plan has taken for a day

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 01:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCEPTION_KINDS = (
    "missing_at_pickup",
    "missing_at_scan_in",
    "unexpected_at_scan_in",
    "damaged_at_scan_in",
    "failed_delivery",
    "far_from_address",
    "late_return",
    "late_stop",
    "unclaimed_block",
    "no_check_in",
    "long_stop",
    "counter_overdue",
    "carrier_silent",
    "pin_locked",
)


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("ops_exceptions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ops_exceptions_exception_kind"), type_="check")
        allowed = ", ".join(f"'{kind}'" for kind in kinds)
        batch_op.create_check_constraint(
            op.f("ck_ops_exceptions_exception_kind"), f"kind IN ({allowed})"
        )


def upgrade() -> None:
    _kinds((*EXCEPTION_KINDS, "door_return_waiting"))


def downgrade() -> None:
    op.execute("DELETE FROM ops_exceptions WHERE kind = 'door_return_waiting'")
    _kinds(EXCEPTION_KINDS)
