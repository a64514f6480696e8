"""A plan of the day after the van left a store's batch: the staff still deliver what was
dropped (their route keeps its stops), and what the new plan adds joins the route."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from doorstep.models import Plan, PlanStatus, Route, Stop, StopKind
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import scanin
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.partners.store import (
    CONTRACTED_DROPS,
    DAY,
    Store,
    at,
    busiest_store,
    door,
    plan_day,
    scanned_in,
)


def test_a_plan_after_the_drop_keeps_the_staff_route_of_the_batch(
    store: Store, session: Session
) -> None:
    codes = scanned_in(store)
    _replan(session)
    session.expire_all()
    route = store.get("/route").json()
    assert sorted(p["code"] for s in route["stops"] for p in s["parcels"]) == sorted(codes)
    delivered = door(store, codes[0], "deliver")
    assert delivered.status_code == 200, delivered.text  # type: ignore[attr-defined]
    assert store.package(codes[0]).state is PackageState.DELIVERED


def test_a_plan_after_the_drop_keeps_the_van_run_that_left_the_batch(session: Session) -> None:
    """The van's run (no block) left the batch: it was driven, so a later plan keeps it with
    its routed cost (what the day's middle mile cost); a run that left nothing goes."""
    plan_day(session, morning_run="van")
    node, _ = busiest_store(session)
    first = session.scalars(select(Route.plan_id).where(Route.id.in_(_van_runs()))).one()
    _replan_with_a_van(session)
    # Not driven yet: the re-plan replaced it.
    [second] = session.scalars(select(Route).where(Route.id.in_(_van_runs()))).all()
    assert second.plan_id != first
    scanin.drop(session, node, now=at(9), by="middle_mile", scan_minutes=30)
    _replan_with_a_van(session)
    session.expire_all()
    kept = session.get(Route, second.id)
    assert kept is not None
    assert kept.cost_cents == second.cost_cents > 0
    assert session.get_one(Plan, kept.plan_id).status is PlanStatus.SUPERSEDED


def _replan(session: Session, **options: Any) -> None:
    """The wave planned again after the store's scan-in (``options``: the van run, prices)."""
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
        **options,
    )


def _replan_with_a_van(session: Session) -> None:
    _replan(session, morning_run="van", costs=CONTRACTED_DROPS)


def _van_runs() -> Select[int]:
    return select(Stop.route_id).where(Stop.kind == StopKind.DROP_OFF)
