"""The what-if keys of `doorstep simulate --compare`: a candidate partner store is a real node
of the changed arm's network, the shoppers stay the baseline's; driver pay is the planner's
price, and what the blocks pay follows it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.cli.simulate import WHAT_IF_STORE, _network_change, apply_change, baseline_of
from doorstep.demo.seed import seed_demo_day
from doorstep.models import Block, Node, NodeKind, Package, PartnerStore, Plan
from doorstep.network.service import import_network_file
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from doorstep.sim import SimConfig
from doorstep.twin.port import TwinSettings
from doorstep.twin.service import prepare
from tests.conftest import EXAMPLES
from tests.shop import local

DAY = date(2026, 11, 24)


def test_add_partner_store_imports_a_real_store_for_the_changed_arm_only(
    session: Session, tmp_path: Path
) -> None:
    prepare(session)
    config, twin = SimConfig(), TwinSettings(day=DAY)
    changed, changed_twin = apply_change(config, twin, "add_partner_store", "33.3,-111.75,4")
    assert changed_twin == twin
    # The shoppers are the same in both arms: those around the candidate's place live there
    # whether it opens or not; the changed arm's draws leave the store itself out.
    baseline = baseline_of(config, "add_partner_store", "33.3,-111.75,4")
    assert changed.catchments == baseline.catchments
    ((lat, lng, radius_m),) = baseline.catchments
    assert (lat, lng) == (33.3, -111.75)
    assert abs(radius_m - 4 * 1609.344) < 1
    assert changed.demand_excludes == (WHAT_IF_STORE,)
    assert baseline.demand_excludes == ()
    _network_change(session, twin, None, "33.3,-111.75,4", tmp_path)  # the baseline arm
    assert session.scalar(select(Node).where(Node.code == WHAT_IF_STORE)) is None
    _network_change(session, twin, "add_partner_store", "33.3,-111.75,4", tmp_path)
    node = session.scalars(select(Node).where(Node.code == WHAT_IF_STORE)).one()
    assert node.kind is NodeKind.PARTNER_STORE
    assert (node.lat, node.lng) == (33.3, -111.75)
    store = session.get_one(PartnerStore, node.id)
    assert abs(store.service_radius_m - 4 * 1609.344) < 2
    assert store.opening_hours["tue"] == ["08:00", "18:00"]


@pytest.mark.parametrize("value", ["33.3", "33.3,-111.75,0", "33.3,-111.75,11", "north,east"])
def test_add_partner_store_refuses_what_is_not_a_place(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the CLI prints the message)
        apply_change(SimConfig(), TwinSettings(day=DAY), "add_partner_store", value)


def test_driver_pay_is_the_planners_price_and_the_blocks_pay_it(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=60, order_time=local(9), console_password=None)
    day = min(d for d in session.scalars(select(Package.service_date)) if d is not None)
    _, twin = apply_change(SimConfig(), TwinSettings(day=DAY), "driver_pay_per_hour_cents", "3300")
    assert twin.costs is not None
    assert twin.costs.driver_pay_per_hour_cents == 3300
    pay: dict[str, list[tuple[int, int]]] = {}
    for name, costs in (("default", None), ("dearer", twin.costs)):
        savepoint = session.begin_nested()
        run = plan_wave(
            session,
            "DCH1",
            day,
            drivers=DriverPlan(8, 2),
            time_limit_s=0.5,
            max_iterations=50,
            workers=1,
            costs=costs,
            force=True,
        )
        plan = session.get_one(Plan, run.plan.id)
        pay[name] = [
            (b.pay_cents, int((b.ends_at - b.starts_at).total_seconds()))
            for b in session.scalars(select(Block).where(Block.plan_id == plan.id))
        ]
        savepoint.rollback()
    assert pay["default"]
    assert pay["dearer"]
    # Each block pays its hours at the rate (at least two hours' worth).
    for cents, seconds in pay["dearer"]:
        assert cents >= max(2 * 3300, seconds * 3300 // 3600) - 1
    for cents, seconds in pay["default"]:
        assert cents < max(2 * 3300, seconds * 3300 // 3600)
