"""day plans and carrier shipments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:17:01.960601
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "current",
                "superseded",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("runtime_s", sa.Double(), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("unassigned", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["nodes.id"],
            name=op.f("fk_plans_station_id_nodes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index("ix_plans_station_day", ["station_id", "service_date"], unique=False)

    op.create_table(
        "carrier_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("service", sa.String(length=50), nullable=False),
        sa.Column("rate_cents", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "labelled",
                "handed_over",
                name="carrier_shipment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_carrier_shipments_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_carrier_shipments_plan_id_plans"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_shipments")),
        sa.UniqueConstraint("package_id", name=op.f("uq_carrier_shipments_package_id")),
    )
    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carrier_shipments_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_blocks_plan_id"), ["plan_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_blocks_plan_id_plans"), "plans", ["plan_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_routes_plan_id"), ["plan_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_routes_plan_id_plans"), "plans", ["plan_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_routes_plan_id_plans"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_routes_plan_id"))
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_blocks_plan_id_plans"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_blocks_plan_id"))
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("carrier_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carrier_shipments_plan_id"))

    op.drop_table("carrier_shipments")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index("ix_plans_station_day")

    op.drop_table("plans")
