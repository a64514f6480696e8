"""The merchant console: sign in, the orders list with search, status filter and CSV export."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, get_settings_dep
from doorstep.merchants.service import verify_console_login
from doorstep.models import OrderStatus
from doorstep.orders import views
from doorstep.settings import Settings
from doorstep.web import pages
from doorstep.web import session as console_session
from doorstep.web.checkout import zone_of
from doorstep.web.login_throttle import SignInRefused, password_sign_in, safe_next

router = APIRouter(prefix="/console", include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
PAGE_SIZE = 25
HOME = "/console/orders"


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?{urlencode({'next': here})}", status_code=303)


def _safe_next(target: str | None) -> str:
    return safe_next(target, within="/console/", home=HOME)


def _filters(q: str, status: str) -> views.OrderFilter:
    chosen = OrderStatus(status) if status in {s.value for s in OrderStatus} else None
    return views.OrderFilter(status=chosen, query=q.strip() or None)


@router.get("", response_class=HTMLResponse)
def console_home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    if console_session.current_user(request, session, settings) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return pages.render("login.html", next=_safe_next(next), email="", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    client = request.client.host if request.client else "unknown"
    user = password_sign_in(
        request.app.state.login_throttle,
        client,
        email,
        password,
        lambda e, p: verify_console_login(session, e, p),
    )
    if isinstance(user, SignInRefused):
        return user.shown_on(
            pages.render(
                "login.html",
                status_code=user.status,
                next=_safe_next(next),
                email=email,
                error=user.message,
            )
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    console_session.sign_in(response, request, settings, user)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    console_session.sign_out(response)
    return response


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    user = console_session.current_user(request, session, settings)
    if user is None:
        return _to_login(request)
    where = _filters(q, status)
    notice = None
    try:
        rows, next_cursor = views.page_of_orders(
            session, user.merchant_id, where, limit=PAGE_SIZE, cursor=cursor
        )
    except views.InvalidCursor:
        notice = "That page link is out of date; here is the first page."
        rows, next_cursor = views.page_of_orders(
            session, user.merchant_id, where, limit=PAGE_SIZE, cursor=None
        )
    filters = {k: v for k, v in {"q": q.strip(), "status": status}.items() if v}
    return pages.render(
        "console_orders.html",
        user=user,
        orders=rows,
        zone=_zone(session),
        q=q.strip(),
        status=where.status.value if where.status else "",
        statuses=[s.value for s in OrderStatus],
        notice=notice,
        first_page=cursor is None,
        next_url=f"{HOME}?{urlencode({**filters, 'cursor': next_cursor})}" if next_cursor else None,
        first_url=f"{HOME}?{urlencode(filters)}" if filters else HOME,
        csv_url=f"/console/orders.csv?{urlencode(filters)}" if filters else "/console/orders.csv",
        local_time=pages.local_time,
    )


@router.get("/orders.csv")
def orders_csv(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    user = console_session.current_user(request, session, settings)
    if user is None:
        return _to_login(request)
    return Response(
        "".join(views.csv_lines(views.iter_orders(session, user.merchant_id, _filters(q, status)))),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="orders.csv"',
            "Cache-Control": "no-store",
        },
    )


def _zone(session: Session) -> ZoneInfo:
    return zone_of(session, [])
