"""A plan of the day after the van left a store's batch: the staff still deliver what was
dropped (their route keeps its stops), and what the new plan adds joins the route."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.orders.lifecycle import PackageState
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.partners.store import DAY, Store, door, scanned_in


def test_a_plan_after_the_drop_keeps_the_staff_route_of_the_batch(
    store: Store, session: Session
) -> None:
    codes = scanned_in(store)
    plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(4, 0),
        time_limit_s=1,
        seed=1,
        max_iterations=100,
        workers=1,
        force=True,
    )
    session.expire_all()
    route = store.get("/route").json()
    assert sorted(p["code"] for s in route["stops"] for p in s["parcels"]) == sorted(codes)
    delivered = door(store, codes[0], "deliver")
    assert delivered.status_code == 200, delivered.text  # type: ignore[attr-defined]
    assert store.package(codes[0]).state is PackageState.DELIVERED
