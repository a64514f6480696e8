"""The partner store's pages under ``/store/``: sign-in by a one-time code, today's manifest
and scan-in, the staff route, the counter, the pay statement and the onboarding.

Made for a shop counter (a scanner that types the code and presses Enter) and a phone (the
camera reads barcodes where the browser has ``BarcodeDetector``; typing always works). The
pages are server-rendered; their actions call the store API (``/v1/store/…``) with the page
session's cookie, so the pages and a third-party client use one API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from doorstep.access.service import revoke_token
from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.drivers.road.load import local_zone
from doorstep.errors import DomainError
from doorstep.partners import accounts, counter, onboarding, scanin, staff_route, statement
from doorstep.partners.accounts import Staff
from doorstep.partners.api import SESSION_COOKIE
from doorstep.settings import Settings
from doorstep.web import pages
from doorstep.web.code_sign_in import CodeSignIn, signed_in_by_cookie

router = APIRouter(prefix="/store", include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

TABS: tuple[tuple[str, str, str, Markup], ...] = (
    (
        "today",
        "Today",
        "/store/",
        Markup('<path d="M4 7h16v13H4z"/><path d="M8 7V4h8v3"/><path d="M9 12h6"/>'),
    ),
    (
        "route",
        "Route",
        "/store/route",
        Markup(
            '<circle cx="6" cy="18" r="2"/><circle cx="18" cy="6" r="2"/>'
            '<path d="M8 18h6a4 4 0 0 0 0-8h-4a4 4 0 0 1 0-8h6"/>'
        ),
    ),
    (
        "counter",
        "Counter",
        "/store/counter",
        Markup('<path d="M3 10h18v10H3z"/><path d="M3 10l2-5h14l2 5"/><path d="M10 15h4"/>'),
    ),
    (
        "statement",
        "Pay",
        "/store/statement",
        Markup('<path d="M6 3h9l4 4v14H6z"/><path d="M9 12h6M9 16h6"/>'),
    ),
)

# The pages call their own API, take photos (blob: previews), read barcodes with the camera
# and load nothing from another host.
APP_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; media-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def render(
    template: str, staff: Staff | None, tab: str = "", status_code: int = 200, **context: Any
) -> HTMLResponse:
    return pages.render(
        f"store/{template}",
        status_code,
        policy=APP_POLICY,
        staff=staff,
        tabs=TABS,
        tab=tab,
        **context,
    )


def signed_in(request: Request, session: Session, now: datetime) -> Staff | None:
    return signed_in_by_cookie(request, session, now, SESSION_COOKIE, accounts.authenticate)


def _clock(staff: Staff) -> Any:
    zone = local_zone(staff.node)
    return lambda moment: pages.clock_time(moment, zone) if moment else "—"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, session: DbSession, now: Now) -> Response:
    if signed_in(request, session, now) is not None:
        return RedirectResponse("/store/", status_code=303)
    return render("sign_in.html", None, step="email", email="", error=None)


SIGN_IN = CodeSignIn(
    template="sign_in.html",
    cookie=SESSION_COOKIE,
    ttl=accounts.PAGE_SESSION_TTL,
    home="/store/",
    send=lambda session, email, now, key: accounts.send_sign_in_code(
        session, email, now=now, secret_key=key
    ),
    redeem=lambda session, email, code, now, key: accounts.redeem_sign_in_code(
        session, email, code, now=now, secret_key=key, page=True
    ),
    render=lambda template, staff, **context: render(template, staff, **context),
    email_error="Type the e-mail the store was invited with, like name@example.com.",
)


SIGN_IN.install(router)


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, now: Now) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        revoke_token(session, token, now=now)
    response = RedirectResponse("/store/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def today(request: Request, session: DbSession, now: Now) -> Response:
    staff = signed_in(request, session, now)
    if staff is None:
        return RedirectResponse("/store/sign-in", status_code=303)
    if staff.store.onboarded_at is None:
        return RedirectResponse("/store/onboarding", status_code=303)
    manifest = scanin.manifest_view(session, staff, scanin.store_today(staff.node, now))
    return render("today.html", staff, "today", manifest=manifest, clock=_clock(staff), now=now)


@router.get("/route", response_class=HTMLResponse)
def route_page(request: Request, session: DbSession, now: Now) -> Response:
    staff = signed_in(request, session, now)
    if staff is None:
        return RedirectResponse("/store/sign-in", status_code=303)
    route = staff_route.route(session, staff, now=now, travel=request.app.state.travel)
    return render("route.html", staff, "route", route=route, clock=_clock(staff))


@router.get("/counter", response_class=HTMLResponse)
def counter_page(request: Request, session: DbSession, now: Now) -> Response:
    staff = signed_in(request, session, now)
    if staff is None:
        return RedirectResponse("/store/sign-in", status_code=303)
    zone = local_zone(staff.node)
    return render(
        "counter.html",
        staff,
        "counter",
        waiting=counter.waiting(session, staff),
        day=lambda moment: f"{moment.astimezone(zone):%a %d %b}",
    )


@router.get("/statement", response_class=HTMLResponse)
def statement_page(
    request: Request,
    session: DbSession,
    now: Now,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    staff = signed_in(request, session, now)
    if staff is None:
        return RedirectResponse("/store/sign-in", status_code=303)
    today_ = scanin.store_today(staff.node, now)
    start, end = start or today_.replace(day=1), end or today_
    try:
        out = statement.statement(session, staff.node, start, end)
        error = None
    except DomainError as exc:
        out, error = statement.statement(session, staff.node, today_, today_), exc.detail
    return render(
        "statement.html",
        staff,
        "statement",
        out=out,
        error=error,
        status_code=422 if error else 200,
        clock=_clock(staff),
    )


@router.get("/onboarding", response_class=HTMLResponse)
def onboarding_page(request: Request, session: DbSession, now: Now) -> Response:
    staff = signed_in(request, session, now)
    if staff is None:
        return RedirectResponse("/store/sign-in", status_code=303)
    store = onboarding.store_out(session, staff)
    hours = counter.hours_text(staff.store).lower() if staff.store.opening_hours else ""
    return render("onboarding.html", staff, "", store=store, hours=hours)
