"""Operator endpoints: plan a station's wave, read a stored plan."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, NotAuthenticated, require_operator
from doorstep.api.errors import error_responses
from doorstep.errors import NotFound
from doorstep.models import Block, Node, Plan, PlanStatus
from doorstep.planning.loading import DriverPlan, StationNotFound
from doorstep.planning.service import plan_wave

router = APIRouter(
    prefix="/v1/plans",
    tags=["planning"],
    dependencies=[Depends(require_operator)],
    responses=error_responses(NotAuthenticated),
)


class PlanNotFound(NotFound):
    code = "plan_not_found"


class PlanRequest(BaseModel):
    station: Annotated[str, Field(description="Station code")]
    date: date
    drivers: Annotated[int, Field(ge=0, le=1000)] = 30
    mall_drivers: Annotated[int, Field(ge=0, le=1000)] = 6
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    seed: int = 1
    force: bool = False
    at: Annotated[
        time | None,
        Field(
            description="A same-day dispatch moment (station time, HH:MM): plan the orders "
            "placed by then and hold back the same-day parcels better sent with a later wave"
        ),
    ] = None


class BlockOut(BaseModel):
    id: int
    start: str
    starts_at: datetime
    ends_at: datetime
    stops: int
    packages: int
    distance_m: int
    pay_cents: int
    status: str


class PlanOut(BaseModel):
    id: int
    station: str
    date: date
    status: PlanStatus
    created_at: datetime
    new_plan: bool = Field(description="False when the wave had not changed since this plan")
    totals: dict[str, Any]
    unassigned: list[dict[str, Any]]
    held: list[dict[str, Any]] = Field(
        description="Same-day parcels held for a later wave (plans made at a dispatch moment)"
    )
    decisions: list[dict[str, Any]]
    blocks: list[BlockOut]


@router.post(
    "",
    summary="Plan a station's wave (returns when the plan is stored)",
    responses=error_responses(StationNotFound),
)
async def create_plan(body: PlanRequest, session: DbSession) -> PlanOut:
    # Routing takes seconds of CPU: off the event loop, in the request's transaction.
    run = await run_in_threadpool(
        plan_wave,
        session,
        body.station,
        body.date,
        drivers=DriverPlan(body.drivers, body.mall_drivers),
        time_limit_s=body.time_limit_s,
        seed=body.seed,
        force=body.force,
        dispatch_at=body.at,
    )
    return await run_in_threadpool(_view, session, run.plan, run.result is not None)


@router.get("/{plan_id}", summary="A stored plan", responses=error_responses(PlanNotFound))
def get_plan(plan_id: int, session: DbSession) -> PlanOut:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanNotFound(f"no plan {plan_id}", plan_id=plan_id)
    return _view(session, plan, new_plan=False)


def _view(session: Session, plan: Plan, new_plan: bool) -> PlanOut:
    codes = dict(session.execute(select(Node.id, Node.code)).all())
    blocks = session.scalars(select(Block).where(Block.plan_id == plan.id).order_by(Block.id))
    return PlanOut(
        id=plan.id,
        station=codes[plan.station_id],
        date=plan.service_date,
        status=plan.status,
        created_at=plan.created_at,
        new_plan=new_plan,
        totals=plan.totals,
        unassigned=plan.unassigned,
        held=plan.held or [],
        decisions=plan.decisions,
        blocks=[
            BlockOut(
                id=b.id,
                start=codes[b.start_node_id],
                starts_at=b.starts_at,
                ends_at=b.ends_at,
                stops=b.stop_count,
                packages=b.package_count,
                distance_m=b.estimated_distance_m,
                pay_cents=b.pay_cents,
                status=b.status.value,
            )
            for b in blocks
        ],
    )
