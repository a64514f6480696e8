"""Operator endpoints: plan a station's wave, read a stored plan and its blocks' stops."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, NotAuthenticated, require_operator
from doorstep.api.errors import error_responses
from doorstep.errors import NotFound
from doorstep.models import Block, CarrierShipmentStatus, Node, Plan, PlanStatus, Route, StopKind
from doorstep.planning import plan_views
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


class ParcelOut(BaseModel):
    # Read straight from `plan_views`' dataclasses: the same fields, typed for the schema.
    model_config = ConfigDict(from_attributes=True)

    package: str = Field(description="Tracking code")
    recipient: str
    address: str


class StopOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    kind: StopKind
    site: str | None = Field(description="The store's code at a pickup")
    address: str
    lat: float
    lng: float
    planned_arrival_at: datetime | None
    service_s: int
    parcels: list[ParcelOut]


class BlockDetailOut(BlockOut):
    itinerary: list[StopOut] = Field(description="The stops in driving order")


class ManifestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    store: str = Field(description="Partner store code")
    distance_m: int = Field(description="The staff route's estimated length")
    parcels: list[ParcelOut] = Field(description="In the staff route's order")


class CarrierShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    package: str
    service: str
    rate_cents: int = Field(description="The planner's estimate")
    label_cents: int | None = Field(description="What the label cost, once bought")
    carrier: str
    status: CarrierShipmentStatus
    tracking_number: str | None


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
    blocks: list[BlockOut] = Field(
        description="Stops in order: GET /v1/plans/{plan_id}/blocks/{block_id}"
    )
    manifests: list[ManifestOut]
    carrier_shipments: list[CarrierShipmentOut]


@router.post(
    "",
    summary="Plan a station's wave (returns when the plan is stored)",
    responses=error_responses(StationNotFound),
)
async def create_plan(body: PlanRequest, session: DbSession, request: Request) -> PlanOut:
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
        travel=request.app.state.travel,
    )
    return await run_in_threadpool(_view, session, run.plan, run.result is not None)


@router.get("/{plan_id}", summary="A stored plan", responses=error_responses(PlanNotFound))
def get_plan(plan_id: int, session: DbSession) -> PlanOut:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanNotFound(f"no plan {plan_id}", plan_id=plan_id)
    return _view(session, plan, new_plan=False)


class BlockNotFound(NotFound):
    code = "block_not_found"


@router.get(
    "/{plan_id}/blocks/{block_id}",
    summary="One block of a plan with its stops and parcels in order",
    responses=error_responses(BlockNotFound),
)
def get_block(plan_id: int, block_id: int, session: DbSession) -> BlockDetailOut:
    block = session.get(Block, block_id)
    if block is None or block.plan_id != plan_id:
        raise BlockNotFound(
            f"plan {plan_id} has no block {block_id}", plan_id=plan_id, block_id=block_id
        )
    route_id = session.scalar(select(Route.id).where(Route.block_id == block.id))
    stops = plan_views.route_stops(session, route_id) if route_id is not None else []
    start = session.get_one(Node, block.start_node_id).code
    return BlockDetailOut(
        **_block(block, start).model_dump(),
        itinerary=[StopOut.model_validate(s) for s in stops],
    )


def _block(b: Block, start: str) -> BlockOut:
    return BlockOut(
        id=b.id,
        start=start,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        stops=b.stop_count,
        packages=b.package_count,
        distance_m=b.estimated_distance_m,
        pay_cents=b.pay_cents,
        status=b.status.value,
    )


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
        blocks=[_block(b, codes[b.start_node_id]) for b in blocks],
        manifests=[ManifestOut.model_validate(m) for m in plan_views.manifests(session, plan.id)],
        carrier_shipments=[
            CarrierShipmentOut.model_validate(c)
            for c in plan_views.carrier_shipments(session, plan.id)
        ],
    )
