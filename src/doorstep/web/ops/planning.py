"""Planning from the console: a form to plan (or re-plan) a station's wave, as ``POST
/v1/plans`` does, then the stored plan's page.

The solver runs inside the request, off the event loop (as the API's endpoint does), for at
most the time limit asked; the page's script shows the seconds going by meanwhile. The plan is
written to the audit log with what was asked, in the plan's own transaction.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import DomainError
from doorstep.models import NodeKind
from doorstep.network import repository
from doorstep.ops import audit
from doorstep.ops.policy import Action
from doorstep.ops.users import Operator
from doorstep.planning.loading import Trips
from doorstep.planning.schemas import PlanRequest
from doorstep.planning.service import PlanRun, plan_requested
from doorstep.settings import Settings
from doorstep.tracking.returns import DoorCollection
from doorstep.web.checkout import zone_of
from doorstep.web.ops.auth import page_operator, render

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@router.get("/plans/new", response_class=HTMLResponse)
def plan_form(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    station: Annotated[str, Query(max_length=64)] = "",
    date_: Annotated[str, Query(alias="date", max_length=10)] = "",
    force: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """The form, empty or filled in from a link (an exception's "Re-plan the wave": its
    station, its day and re-plan ticked); nothing is planned until it is sent."""
    operator = page_operator(request, session, settings, Action.PLANS_CREATE)
    if isinstance(operator, Response):
        return operator
    tomorrow = (now.astimezone(zone_of(session, [])) + timedelta(days=1)).date()
    values = {
        "station": station,
        "date": date_ or tomorrow.isoformat(),
        "drivers": "30",
        "mall_drivers": "6",
        "time_limit_s": "20",
        "at": "",
        "force": "1" if force else "",
    }
    return _form(session, operator, values)


@router.post("/plans/new", response_class=HTMLResponse)
async def plan(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    station: Annotated[str, Form(max_length=64)] = "",
    date_: Annotated[str, Form(alias="date", max_length=10)] = "",
    drivers: Annotated[str, Form(max_length=6)] = "30",
    mall_drivers: Annotated[str, Form(max_length=6)] = "6",
    time_limit_s: Annotated[str, Form(max_length=6)] = "20",
    at: Annotated[str, Form(max_length=5)] = "",
    force: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    operator = await run_in_threadpool(
        page_operator, request, session, settings, Action.PLANS_CREATE
    )
    if isinstance(operator, Response):
        return operator
    values = {
        "station": station,
        "date": date_,
        "drivers": drivers,
        "mall_drivers": mall_drivers,
        "time_limit_s": time_limit_s,
        "at": at,
        "force": force,
    }
    try:
        # The API's own request model: the same limits, the same messages.
        body = PlanRequest.model_validate(
            {k: v for k, v in values.items() if v != "" and k != "force"} | {"force": bool(force)}
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        return await run_in_threadpool(
            _form, session, operator, values, f"{field}: {error['msg']}", field, 422
        )
    try:
        run = await run_in_threadpool(_plan, request, session, settings, body, operator, now)
    except DomainError as exc:
        field = str(exc.context.get("field", "station"))
        return await run_in_threadpool(
            _form, session, operator, values, exc.detail, field, exc.status
        )
    if run.result is None:
        done = "Nothing changed since the stored plan: it stands (tick re-plan to plan again)."
    elif run.replanned:
        done = "Re-planned: the new plan replaces the previous one."
    else:
        done = "Planned."
    return RedirectResponse(f"/ops/plans/{run.plan.id}?done={quote(done)}", status_code=303)


def _plan(
    request: Request,
    session: DbSession,
    settings: Settings,
    body: PlanRequest,
    operator: Operator,
    now: datetime,
) -> PlanRun:
    run = plan_requested(
        session,
        body,
        travel=request.app.state.travel,
        offers=OfferPolicy.from_settings(settings),
        now=now,
        morning_run=settings.morning_run,
        trips=Trips.from_settings(settings),
        doors=DoorCollection.from_settings(settings),
        last_dispatch=settings.planning_last_dispatch,
    )
    audit.record(
        session,
        operator.actor,
        Action.PLANS_CREATE.value,
        "plan",
        run.plan.id,
        at=now,
        after={
            "station": body.station,
            "date": body.date.isoformat(),
            "drivers": body.drivers,
            "mall_drivers": body.mall_drivers,
            "time_limit_s": body.time_limit_s,
            "at": body.at.isoformat() if isinstance(body.at, time) else None,
            "force": body.force,
            "new_plan": run.result is not None,
        },
    )
    return run


def _form(
    session: DbSession,
    operator: Operator,
    values: dict[str, str],
    problem: str = "",
    field: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    stations = repository.list_nodes(session, NodeKind.STATION)
    return render(
        "ops/plan_new.html",
        operator,
        status_code=status_code,
        stations=[(s.code, s.name) for s in stations if s.active],
        values=values,
        problem=problem,
        field=field,
    )
