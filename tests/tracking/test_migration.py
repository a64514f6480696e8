"""Migration 0013 gives the packages that existed before it their tracking tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.db import create_db_engine
from doorstep.migrate import upgrade
from doorstep.models import Package
from doorstep.models.tracking import token_digest
from tests.factories import make_merchant, make_node, make_order

# The packages table as revision 0011 has it (the model has columns it does not yet).
OLD_PACKAGES = sa.table(
    "packages",
    *(
        sa.column(name)
        for name in (
            "tracking_code",
            "order_id",
            "origin_node_id",
            "state",
            "length_mm",
            "width_mm",
            "height_mm",
            "weight_g",
            "promised_by",
            "delivery_attempts",
            "pin_attempts",
            "version",
            "created_at",
            "updated_at",
        )
    ),
)


def test_existing_packages_get_their_tokens(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'before.sqlite3'}")
    upgrade(engine, "0011")
    now = datetime(2026, 11, 24, 18, tzinfo=UTC).replace(tzinfo=None)
    with Session(engine) as session:
        order = make_order(session, make_merchant(session))
        node = make_node(session)
        session.execute(
            sa.insert(OLD_PACKAGES),
            [
                {
                    "tracking_code": secrets.token_urlsafe(16),
                    "order_id": order.id,
                    "origin_node_id": node.id,
                    "state": "created",
                    "length_mm": 300,
                    "width_mm": 200,
                    "height_mm": 150,
                    "weight_g": 1200,
                    "promised_by": now,
                    "delivery_attempts": 0,
                    "pin_attempts": 0,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for _ in range(3)
            ],
        )
        # Their history points at them, as every real package's does.
        first = session.scalar(sa.select(sa.func.min(sa.column("id"))).select_from(OLD_PACKAGES))
        session.execute(
            sa.insert(
                sa.table(
                    "package_events",
                    *(
                        sa.column(c)
                        for c in (
                            "package_id",
                            "sequence",
                            "to_state",
                            "occurred_at",
                            "actor",
                            "data",
                        )
                    ),
                )
            ),
            [
                {
                    "package_id": first,
                    "sequence": 1,
                    "to_state": "created",
                    "occurred_at": now,
                    "actor": "system",
                    "data": "{}",
                }
            ],
        )
        session.commit()
    upgrade(engine, "0013")
    with Session(engine) as session:
        packages = list(session.scalars(select(Package)))
    engine.dispose()
    assert len({p.tracking_token for p in packages}) == len(packages) == 3
    for package in packages:
        assert len(package.tracking_token) == 43
        assert package.tracking_digest == token_digest(package.tracking_token)
