"""checkout and webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:49:53.727054
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("destination", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("unavailable", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_delivery_previews_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_previews")),
        sa.UniqueConstraint("public_id", name=op.f("uq_delivery_previews_public_id")),
    )
    with op.batch_alter_table("delivery_previews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_previews_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "merchant_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_users_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_users")),
        sa.UniqueConstraint("email", name=op.f("uq_merchant_users_email")),
    )
    with op.batch_alter_table("merchant_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_users_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("ordering_key", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="webhook_delivery_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_attempt_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_outbox_events"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id_event_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_deliveries_ordering",
            ["endpoint_id", "ordering_key", "status", "event_id"],
            unique=False,
        )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", doorstep.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_public_id", sa.String(length=40), nullable=True))

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordering_key", sa.String(length=100), nullable=True))

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serving_node_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("service_date", sa.Date(), nullable=True))
        batch_op.create_index(
            "ix_packages_serving_day", ["serving_node_id", "service_date"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_packages_serving_node_id_nodes"),
            "nodes",
            ["serving_node_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_packages_serving_node_id_nodes"), type_="foreignkey"
        )
        batch_op.drop_index("ix_packages_serving_day")
        batch_op.drop_column("service_date")
        batch_op.drop_column("serving_node_id")

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_column("ordering_key")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("preview_public_id")

    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_delivery_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_ordering")
        batch_op.drop_index("ix_webhook_deliveries_due")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("merchant_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_users_merchant_id"))

    op.drop_table("merchant_users")
    with op.batch_alter_table("delivery_previews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_previews_merchant_id"))

    op.drop_table("delivery_previews")
