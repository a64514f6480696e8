"""drivers on the road: accounts and their hours, offers in rounds, the block's own state
machine, staggered check-in, proofs of delivery, pay adjustments, operator exceptions; packages
learn the `missing` state, their failed attempts and what proof their door needs

Tokens and one-time sign-in codes (`access_tokens`, `sign_in_codes`) serve drivers now and
partner staff and operators later. New NOT NULL columns of existing tables get a server
default, so rows already there stay valid.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:16:43.164656
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STATES_BEFORE = (
    "created",
    "ready_for_pickup",
    "assigned",
    "picked_up",
    "out_for_delivery",
    "delivery_attempted",
    "at_partner_store",
    "handed_to_carrier",
    "returned",
    "delivered",
    "picked_up_at_counter",
    "returned_to_merchant",
    "cancelled",
    "lost",
)
STATES_AFTER = (*STATES_BEFORE, "missing")
# (table, column, CHECK constraint's name) of every column holding a package state.
STATE_COLUMNS = (
    ("packages", "state", "package_state"),
    ("package_events", "from_state", "package_event_from_state"),
    ("package_events", "to_state", "package_event_to_state"),
)


def _package_states(states: tuple[str, ...]) -> None:
    for table, column, name in STATE_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            allowed = ", ".join(f"'{state}'" for state in states)
            batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), f"{column} IN ({allowed})")


def upgrade() -> None:
    _package_states(STATES_AFTER)
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "principal",
            sa.Enum(
                "driver",
                "partner_staff",
                "operator",
                name="token_principal",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_access_tokens_prefix")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_access_tokens_subject", ["principal", "subject_id"], unique=False)

    op.create_table(
        "sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "principal",
            sa.Enum(
                "driver",
                "partner_staff",
                "operator",
                name="code_principal",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_codes")),
    )
    with op.batch_alter_table("sign_in_codes", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_codes_subject", ["principal", "subject_id"], unique=False)

    op.create_table(
        "driver_availability_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("excused", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (end_minute > start_minute)",
            name=op.f("ck_driver_availability_exceptions_hours_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_driver_availability_exceptions_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_availability_exceptions")),
    )
    with op.batch_alter_table("driver_availability_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_availability_exceptions_driver_day", ["driver_id", "day"], unique=False
        )

    op.create_table(
        "driver_weekly_availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "end_minute > start_minute", name=op.f("ck_driver_weekly_availability_ends_after_start")
        ),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440",
            name=op.f("ck_driver_weekly_availability_minute_range"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_driver_weekly_availability_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_driver_weekly_availability_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_weekly_availability")),
    )
    with op.batch_alter_table("driver_weekly_availability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_driver_weekly_availability_driver_id"), ["driver_id"], unique=False
        )

    op.create_table(
        "block_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "open",
                "accepted",
                "in_progress",
                "returning",
                "completed",
                "cancelled",
                name="block_event_from",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "open",
                "accepted",
                "in_progress",
                "returning",
                "completed",
                "cancelled",
                name="block_event_to",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_block_events_block_id_blocks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_block_events_driver_id_drivers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_events")),
        sa.UniqueConstraint("block_id", "sequence", name=op.f("uq_block_events_block_id_sequence")),
    )
    with op.batch_alter_table("block_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_events_driver_id"), ["driver_id"], unique=False)

    op.create_table(
        "ops_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="exception_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "resolved",
                name="exception_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("opened_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("resolved_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_ops_exceptions_block_id_blocks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_ops_exceptions_driver_id_drivers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["nodes.id"],
            name=op.f("fk_ops_exceptions_node_id_nodes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_ops_exceptions_package_id_packages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_exceptions")),
    )
    with op.batch_alter_table("ops_exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_exceptions_block_id"), ["block_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ops_exceptions_package_id"), ["package_id"], unique=False
        )
        batch_op.create_index(
            "ix_ops_exceptions_status_opened", ["status", "opened_at"], unique=False
        )

    op.create_table(
        "pay_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_pay_adjustments_block_id_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_adjustments")),
    )
    with op.batch_alter_table("pay_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_adjustments_block_id"), ["block_id"], unique=False)

    op.create_table(
        "delivery_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Integer(), nullable=True),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "delivered",
                "attempted",
                name="proof_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("photo_key", sa.String(length=200), nullable=True),
        sa.Column("signature_key", sa.String(length=200), nullable=True),
        sa.Column("pin_checked", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("happened_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_event_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_delivery_proofs_block_id_blocks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_delivery_proofs_driver_id_drivers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_delivery_proofs_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["stops.id"],
            name=op.f("fk_delivery_proofs_stop_id_stops"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_proofs")),
        sa.UniqueConstraint("client_event_id", name=op.f("uq_delivery_proofs_client_event_id")),
    )
    with op.batch_alter_table("delivery_proofs", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_proofs_package", ["package_id"], unique=False)

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("required_weight_g", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "offer_mode",
                sa.Enum(
                    "rounds",
                    "first_come",
                    "instant",
                    name="offer_mode",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="rounds",
            )
        )
        batch_op.add_column(
            sa.Column("offer_round", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column(
                "round_closes_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "arrival_opens_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "arrival_closes_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("accepted_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "checked_in_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "completed_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "return_due_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_blocks_status_starts", ["status", "starts_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_blocks_station_id_nodes"),
            "nodes",
            ["station_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_weekly_pattern", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_lng", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "last_seen_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proof_policy", sa.JSON(), nullable=False, server_default="{}")
        )

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fairness", sa.JSON(), nullable=True))
        batch_op.create_index("ix_offers_block_status", ["block_id", "status"], unique=False)

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("proof_policy", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pin_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("pin_attempts", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("eta_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("arrived_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "completed_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    _package_states(STATES_BEFORE)
    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
        batch_op.drop_column("arrived_at")
        batch_op.drop_column("eta_at")

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_column("pin_attempts")
        batch_op.drop_column("pin_hash")
        batch_op.drop_column("proof_policy")
        batch_op.drop_column("delivery_attempts")

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_block_status")
        batch_op.drop_column("fairness")
        batch_op.drop_column("round")

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("proof_policy")

    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("last_lng")
        batch_op.drop_column("last_lat")
        batch_op.drop_column("has_weekly_pattern")

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_blocks_station_id_nodes"), type_="foreignkey")
        batch_op.drop_index("ix_blocks_status_starts")
        batch_op.drop_column("return_due_at")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("checked_in_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("arrival_closes_at")
        batch_op.drop_column("arrival_opens_at")
        batch_op.drop_column("round_closes_at")
        batch_op.drop_column("offer_round")
        batch_op.drop_constraint(op.f("ck_blocks_offer_mode"), type_="check")
        batch_op.drop_column("offer_mode")
        batch_op.drop_column("required_weight_g")
        batch_op.drop_column("station_id")

    with op.batch_alter_table("delivery_proofs", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_proofs_package")

    op.drop_table("delivery_proofs")
    with op.batch_alter_table("pay_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_adjustments_block_id"))

    op.drop_table("pay_adjustments")
    with op.batch_alter_table("ops_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_exceptions_status_opened")
        batch_op.drop_index(batch_op.f("ix_ops_exceptions_package_id"))
        batch_op.drop_index(batch_op.f("ix_ops_exceptions_block_id"))

    op.drop_table("ops_exceptions")
    with op.batch_alter_table("block_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_events_driver_id"))

    op.drop_table("block_events")
    with op.batch_alter_table("driver_weekly_availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driver_weekly_availability_driver_id"))

    op.drop_table("driver_weekly_availability")
    with op.batch_alter_table("driver_availability_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_availability_exceptions_driver_day")

    op.drop_table("driver_availability_exceptions")
    with op.batch_alter_table("sign_in_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_codes_subject")

    op.drop_table("sign_in_codes")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_access_tokens_subject")

    op.drop_table("access_tokens")
