"""Operator endpoints: plan a station's wave, read a stored plan and its blocks' stops."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from doorstep.api.deps import DbSession, NotAuthenticated, Now, RowId
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.drivers.policy import OfferPolicy
from doorstep.ops.policy import Action, ActionNotAllowed
from doorstep.planning import plan_views
from doorstep.planning.loading import StationNotFound, Trips
from doorstep.planning.plan_views import BlockNotFound, PlanNotFound
from doorstep.planning.schemas import BlockDetailOut, PlanOut, PlanRequest
from doorstep.planning.service import plan_requested
from doorstep.tracking.returns import DoorCollection

router = APIRouter(
    prefix="/v1/plans",
    tags=["planning"],
    responses=error_responses(NotAuthenticated, ActionNotAllowed),
)


@router.post(
    "",
    summary="Plan a station's wave (returns when the plan is stored)",
    responses=error_responses(StationNotFound),
    dependencies=[Depends(operator_may(Action.PLANS_CREATE))],
)
async def create_plan(body: PlanRequest, session: DbSession, request: Request, now: Now) -> PlanOut:
    # Routing takes seconds of CPU: off the event loop, in the request's transaction.
    run = await run_in_threadpool(
        plan_requested,
        session,
        body,
        travel=request.app.state.travel,
        offers=OfferPolicy.from_settings(request.app.state.settings),
        now=now,
        morning_run=request.app.state.settings.morning_run,
        trips=Trips.from_settings(request.app.state.settings),
        doors=DoorCollection.from_settings(request.app.state.settings),
        last_dispatch=request.app.state.settings.planning_last_dispatch,
    )
    view = await run_in_threadpool(
        plan_views.plan_view, session, run.plan, new_plan=run.result is not None
    )
    return PlanOut.model_validate(view)


@router.get(
    "/{plan_id}",
    summary="A stored plan",
    responses=error_responses(PlanNotFound),
    dependencies=[Depends(operator_may(Action.PLANS_READ))],
)
def get_plan(plan_id: RowId, session: DbSession) -> PlanOut:
    plan = plan_views.get_plan(session, plan_id)
    return PlanOut.model_validate(plan_views.plan_view(session, plan, new_plan=False))


@router.get(
    "/{plan_id}/blocks/{block_id}",
    summary="One block of a plan with its stops and parcels in order",
    responses=error_responses(BlockNotFound),
    dependencies=[Depends(operator_may(Action.PLANS_READ))],
)
def get_block(plan_id: RowId, block_id: RowId, session: DbSession) -> BlockDetailOut:
    return BlockDetailOut.model_validate(plan_views.block_detail(session, plan_id, block_id))
