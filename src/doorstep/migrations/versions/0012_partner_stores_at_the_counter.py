"""partner stores at the counter: staff, onboarding, scan-in times, counter pick-up by code,
parcels back to the station

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from doorstep.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCEPTION_KINDS = (
    "missing_at_pickup",
    "missing_at_scan_in",
    "unexpected_at_scan_in",
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
    _kinds((*EXCEPTION_KINDS, "damaged_at_scan_in"))
    with op.batch_alter_table("partner_stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("location_checked_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("onboarded_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("partner_manifests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropped_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dropped_by", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("scan_deadline_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("scanned_in_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("partner_manifest_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_by", sa.String(length=100), nullable=True))
    op.create_table(
        "partner_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_store_id"],
            ["partner_stores.node_id"],
            name=op.f("fk_partner_staff_partner_store_id_partner_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_partner_staff_email")),
    )
    with op.batch_alter_table("partner_staff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_staff_partner_store_id"), ["partner_store_id"], unique=False
        )
    op.create_table(
        "counter_parcels",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("partner_store_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("barcode_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ready_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("collect_by", UTCDateTime(timezone=True), nullable=False),
        sa.Column("handed_over_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by", sa.String(length=100), nullable=True),
        sa.Column("overdue_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_counter_parcels_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_store_id"],
            ["partner_stores.node_id"],
            name=op.f("fk_counter_parcels_partner_store_id_partner_stores"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_counter_parcels")),
        sa.UniqueConstraint("barcode_hash", name=op.f("uq_counter_parcels_barcode_hash")),
    )
    with op.batch_alter_table("counter_parcels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_counter_parcels_store_ready", ["partner_store_id", "ready_at"], unique=False
        )
    op.create_table(
        "counter_code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_store_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("right", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_counter_code_attempts_package_id_packages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_store_id"],
            ["partner_stores.node_id"],
            name=op.f("fk_counter_code_attempts_partner_store_id_partner_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["partner_staff.id"],
            name=op.f("fk_counter_code_attempts_staff_id_partner_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_code_attempts")),
    )
    with op.batch_alter_table("counter_code_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_counter_code_attempts_store_at", ["partner_store_id", "at"], unique=False
        )
    op.create_table(
        "partner_back_to_station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_store_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("collected_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_partner_back_to_station_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_store_id"],
            ["partner_stores.node_id"],
            name=op.f("fk_partner_back_to_station_partner_store_id_partner_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_back_to_station")),
        sa.UniqueConstraint("package_id", name=op.f("uq_partner_back_to_station_package_id")),
    )
    with op.batch_alter_table("partner_back_to_station", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_back_to_station_partner_store_id"),
            ["partner_store_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("partner_back_to_station")
    op.drop_table("counter_code_attempts")
    op.drop_table("counter_parcels")
    op.drop_table("partner_staff")
    with op.batch_alter_table("partner_manifest_items", schema=None) as batch_op:
        batch_op.drop_column("outcome_by")
        batch_op.drop_column("outcome")
    with op.batch_alter_table("partner_manifests", schema=None) as batch_op:
        batch_op.drop_column("scanned_in_at")
        batch_op.drop_column("scan_deadline_at")
        batch_op.drop_column("dropped_by")
        batch_op.drop_column("dropped_at")
    with op.batch_alter_table("partner_stores", schema=None) as batch_op:
        batch_op.drop_column("onboarded_at")
        batch_op.drop_column("location_checked_at")
    _kinds(EXCEPTION_KINDS)
