"""A small seeded day through the real services: every package ends in exactly one terminal
state and the counts add up; the same seed measures the same day twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import sessionmaker

from doorstep.db import unit_of_work
from doorstep.drivers.policy import OfferPolicy
from doorstep.models import OfferMode, Order, Package, PackageEvent
from doorstep.orders.lifecycle import TERMINAL_STATES
from doorstep.sim import SimConfig
from doorstep.twin.port import TwinSettings
from doorstep.twin.service import TwinRun, prepare, simulate_day

DAY = date(2026, 11, 24)  # a Tuesday


def small_day(connection: Connection, tmp_path: Path, seed: int = 1) -> TwinRun:
    """30 shoppers, two dispatch moments, a short routing budget: a day in well under a
    minute."""
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    with unit_of_work(sessions) as session:
        prepare(session)
    return simulate_day(
        sessions,
        SimConfig(orders=30, seed=seed, dispatch_hours=(10.0, 12.0)),
        TwinSettings(
            day=DAY,
            seed=seed,
            time_limit_s=0.3,
            max_iterations=50,
            offers=OfferPolicy(mode=OfferMode.FIRST_COME),
            data_dir=str(tmp_path),
        ),
    )


def test_every_package_ends_in_exactly_one_terminal_state(
    connection: Connection, tmp_path: Path
) -> None:
    run = small_day(connection, tmp_path)
    k = run.kpis
    assert k.packages > 20
    assert k.unresolved == 0
    assert sum(k.terminal.values()) == k.packages
    assert sum(k.by_channel.values()) == k.packages
    assert k.invariants["ok"], k.invariants
    assert k.invariants["routes_checked"] > 0
    # Read back from the database, not from the KPIs: one terminal event each, the last.
    sessions = sessionmaker(bind=connection)
    with sessions() as session:
        rows = session.execute(
            select(Package.id, Package.state)
            .join(Order, Order.id == Package.order_id)
            .where(Order.merchant_reference.startswith(run.port.reference_prefix))
        ).all()
        assert len(rows) == k.packages
        for package_id, state in rows:
            moves = session.scalars(
                select(PackageEvent.to_state)
                .where(PackageEvent.package_id == package_id)
                .order_by(PackageEvent.sequence)
            ).all()
            assert state in TERMINAL_STATES
            assert [m for m in moves if m in TERMINAL_STATES] == [state]
            assert moves[-1] is state
    # Every late package says why; every package is judged or cancelled.
    assert all(o.reason for o in k.outcomes if o.on_time is False)
    assert len(k.outcomes) == k.packages


def test_the_same_seed_gives_the_same_kpis_twice(connection: Connection, tmp_path: Path) -> None:
    first = _rolled_back(connection, tmp_path)
    again = _rolled_back(connection, tmp_path)
    assert first == again


def _rolled_back(connection: Connection, tmp_path: Path) -> dict[str, Any]:
    """The KPIs of the seeded day, the database left as it was."""
    savepoint = connection.begin_nested()
    try:
        kpis = small_day(connection, tmp_path, seed=2).kpis.as_json()
    finally:
        savepoint.rollback()
    return kpis
