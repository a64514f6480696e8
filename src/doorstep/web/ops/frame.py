"""The console's frame: sign-in, today's overview, the stored plans, the people (admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, RowId, get_settings_dep
from doorstep.errors import DomainError
from doorstep.ops import audit, console, users
from doorstep.ops.policy import Action
from doorstep.planning import plan_views
from doorstep.settings import Settings
from doorstep.web import pages
from doorstep.web.checkout import zone_of
from doorstep.web.login_throttle import SignInRefused, password_sign_in
from doorstep.web.ops.auth import OPS_SESSION, page_operator, render, safe_next, signed_in

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@router.get("", response_class=HTMLResponse)
def ops_root() -> Response:
    return RedirectResponse("/ops/", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    if signed_in(request, session, settings) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_page(next, "", None)


def _sign_in_page(
    next: str | None, email: str, error: str | None, status_code: int = 200
) -> HTMLResponse:
    # The merchant console's sign-in form, posting here.
    return pages.render(
        "login.html",
        status_code=status_code,
        next=safe_next(next),
        email=email,
        error=error,
        console_name="doorstep operations",
        action="/ops/sign-in",
    )


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    client = request.client.host if request.client else "unknown"
    user = password_sign_in(
        request.app.state.ops_login_throttle,
        client,
        email,
        password,
        lambda e, p: users.verify_login(session, e, p),
    )
    if isinstance(user, SignInRefused):
        return user.shown_on(_sign_in_page(next, email, user.message, status_code=user.status))
    response = RedirectResponse(safe_next(next), status_code=303)
    OPS_SESSION.sign_in(response, request, settings, {"u": user.id})
    return response


@router.post("/sign-out")
def sign_out() -> Response:
    response = RedirectResponse("/ops/sign-in", status_code=303)
    OPS_SESSION.sign_out(response)
    return response


@router.get("/", response_class=HTMLResponse)
def today(request: Request, session: DbSession, settings: SettingsDep, now: Now) -> Response:
    operator = page_operator(request, session, settings, Action.CONSOLE_VIEW)
    if isinstance(operator, Response):
        return operator
    zone = zone_of(session, [])
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return render(
        "ops/today.html",
        operator,
        day=local.date(),
        blocks=console.blocks_by_status(session, start, start + timedelta(days=1)),
        open_exceptions=console.open_exceptions(session),
        plans=console.recent_plans(session, limit=8),
        local_time=pages.local_time,
        zone=zone,
    )


@router.get("/plans", response_class=HTMLResponse)
def plans(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    operator = page_operator(request, session, settings, Action.PLANS_READ)
    if isinstance(operator, Response):
        return operator
    return render(
        "ops/plans.html",
        operator,
        plans=console.recent_plans(session, limit=100),
        zone=zone_of(session, []),
        local_time=pages.local_time,
    )


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan(
    plan_id: RowId,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    done: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    operator = page_operator(request, session, settings, Action.PLANS_READ)
    if isinstance(operator, Response):
        return operator
    try:
        view = plan_views.plan_view(session, plan_views.get_plan(session, plan_id), new_plan=False)
    except DomainError as exc:
        return render("ops/denied.html", operator, status_code=exc.status, problem=exc.detail)
    zone = zone_of(session, [])
    return render(
        "ops/plan.html", operator, plan=view, zone=zone, clock=pages.clock_time, done=done
    )


@router.get("/users", response_class=HTMLResponse)
def people(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    operator = page_operator(request, session, settings, Action.USERS_READ)
    if isinstance(operator, Response):
        return operator
    zone = zone_of(session, [])
    return render(
        "ops/users.html",
        operator,
        users=users.list_operators(session),
        tokens=users.list_tokens(session),
        entries=audit.recent(session, limit=50),
        zone=zone,
        local_time=pages.local_time,
    )


@router.post("/users/tokens/{token_id}/revoke")
def revoke(
    token_id: RowId, request: Request, session: DbSession, settings: SettingsDep, now: Now
) -> Response:
    operator = page_operator(request, session, settings, Action.USERS_MANAGE)
    if isinstance(operator, Response):
        return operator
    users.revoke_token(session, token_id, by=operator.actor, now=now)
    return RedirectResponse("/ops/users", status_code=303)
