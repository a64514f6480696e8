"""tracking links, delays, returns and milestone settings

Every package gets the secret behind its shopper's tracking page (256 random bits, kept as is
and looked up by its SHA-256 digest); existing packages get theirs here. Products say how many
days after delivery they may be returned; returns, slipped promises, each merchant's choice of
milestone messages and the milestone reader's place in the outbox get their tables.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03 14:40:00
"""

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorstep.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tracking_digest", sa.String(length=64), nullable=True))
    _backfill_tokens()
    # An index, not a constraint, and the columns left nullable: SQLite adds both without
    # rebuilding packages (a rebuild drops the table that every event and line points at).
    op.create_index("ix_packages_tracking_digest", "packages", ["tracking_digest"], unique=True)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_window_days", sa.Integer(), nullable=True))

    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "received",
                name="return_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("requested_at", doorstep.models.base.UTCDateTime(), nullable=False),
        sa.Column("received_at", doorstep.models.base.UTCDateTime(), nullable=True),
        sa.Column("received_node_id", sa.Integer(), nullable=True),
        sa.Column("received_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_returns_merchant_id_merchants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_returns_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_returns_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["received_node_id"],
            ["nodes.id"],
            name=op.f("fk_returns_received_node_id_nodes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("package_id", name=op.f("uq_returns_package_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_returns_public_id")),
    )
    op.create_index(
        "ix_returns_merchant_created", "returns", ["merchant_id", "requested_at"], unique=False
    )
    op.create_table(
        "package_delays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("new_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", doorstep.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_delays_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_delays")),
    )
    op.create_index(
        op.f("ix_package_delays_package_id"), "package_delays", ["package_id"], unique=False
    )
    op.create_table(
        "merchant_notification_settings",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("updated_at", doorstep.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_notification_settings_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_merchant_notification_settings")),
    )
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )


def _backfill_tokens() -> None:
    packages = sa.table(
        "packages",
        sa.column("id", sa.Integer()),
        sa.column("tracking_token", sa.String()),
        sa.column("tracking_digest", sa.String()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        ids = connection.scalars(
            sa.select(packages.c.id)
            .where(packages.c.id > last, packages.c.tracking_token.is_(None))
            .order_by(packages.c.id)
            .limit(_BATCH)
        ).all()
        if not ids:
            return
        rows = []
        for package_id in ids:
            # The same as models.tracking.new_tracking_token / token_digest (a migration keeps
            # its own copy: the model's code may change after it).
            token = secrets.token_urlsafe(32)
            rows.append(
                {
                    "b_id": package_id,
                    "token": token,
                    "digest": hashlib.sha256(token.encode()).hexdigest(),
                }
            )
        connection.execute(
            packages.update()
            .where(packages.c.id == sa.bindparam("b_id"))
            .values(tracking_token=sa.bindparam("token"), tracking_digest=sa.bindparam("digest")),
            rows,
        )
        last = ids[-1]


def downgrade() -> None:
    op.drop_table("outbox_cursors")
    op.drop_table("merchant_notification_settings")
    op.drop_index(op.f("ix_package_delays_package_id"), table_name="package_delays")
    op.drop_table("package_delays")
    op.drop_index("ix_returns_merchant_created", table_name="returns")
    op.drop_table("returns")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("return_window_days")
    op.drop_index("ix_packages_tracking_digest", table_name="packages")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_column("tracking_digest")
        batch_op.drop_column("tracking_token")
