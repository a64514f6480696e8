"""The driver app's pages under ``/driver/``: sign-up, sign-in by a one-time code, and the
frame every screen shares (tabs, network state, the service worker that keeps actions taken
in a dead spot).

The pages are server-rendered; actions on them call the driver API (``/v1/driver/…``) with
the page session's cookie, so the app and a third-party client use one API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.db import unit_of_work
from doorstep.drivers import accounts
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.drivers.schemas import SignInCodeIn, SignInIn, SignUpIn
from doorstep.errors import DomainError
from doorstep.models import Driver, NodeKind
from doorstep.network import repository as network
from doorstep.settings import Environment, Settings
from doorstep.web import pages

router = APIRouter(prefix="/driver", include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

# The tab bar: (key, label, where, the icon's SVG paths). A screen marks its tab current.
TABS: tuple[tuple[str, str, str, Markup], ...] = (
    (
        "home",
        "Today",
        "/driver/",
        Markup('<path d="M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6h-6v6H4a1 1 0 0 1-1-1z"/>'),
    ),
    (
        "hours",
        "Hours",
        "/driver/availability",
        Markup('<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>'),
    ),
    (
        "me",
        "Me",
        "/driver/account",
        Markup('<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>'),
    ),
)


# The app calls its own API, runs its service worker, shows the photo just taken (blob:) and
# loads nothing from another host.
APP_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; media-src 'self' blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def render(
    template: str, driver: Driver | None, tab: str = "", status_code: int = 200, **context: Any
) -> HTMLResponse:
    return pages.render(
        f"driver/{template}",
        status_code,
        policy=APP_POLICY,
        driver=driver,
        tabs=TABS,
        tab=tab,
        **context,
    )


def signed_in_driver(request: Request, session: Session, now: Any) -> Driver | None:
    """The driver of the page session's cookie, or None (no cookie, expired, revoked)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return accounts.authenticate(session, token, now=now)
    except DomainError:
        return None


def _start_session(response: Response, token: str, settings: Settings, request: Request) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.PAGE_SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        # Over HTTPS (direct, or behind a trusted TLS proxy) and always in production.
        secure=request.url.scheme == "https" or settings.environment is Environment.PRODUCTION,
        path="/",
    )


@router.get("/sw.js")
def service_worker() -> Response:
    # Served from /driver/ so that it may control every page of the app (its scope).
    return Response(
        pages.static_bytes("driver/sw.js"),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return Response(
        pages.static_bytes("driver/manifest.webmanifest"),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, session: DbSession, now: Now) -> Response:
    if signed_in_driver(request, session, now) is not None:
        return RedirectResponse("/driver/", status_code=303)
    return render("sign_in.html", None, step="email", email="", error=None)


@router.post("/sign-in", response_class=HTMLResponse)
def send_code(
    request: Request,
    settings: SettingsDep,
    now: Now,
    email: Annotated[str, Form(max_length=320)] = "",
) -> HTMLResponse:
    try:
        address = SignInIn(email=email).email
    except ValidationError:
        return render(
            "sign_in.html",
            None,
            status_code=422,
            step="email",
            email=email,
            error="Type the e-mail you signed up with, like name@example.com.",
        )
    with unit_of_work(request.app.state.session_factory) as session:
        sent = accounts.send_sign_in_code(session, address, now=now, secret_key=settings.secret_key)
    return render(
        "sign_in.html",
        None,
        step="code",
        email=address,
        masked=accounts.masked(address),
        error=None,
        notice=f"Code sent. It works for {sent.expires_in_s // 60} minutes.",
    )


@router.post("/sign-in/code", response_class=HTMLResponse)
def check_code(
    request: Request,
    settings: SettingsDep,
    now: Now,
    email: Annotated[str, Form(max_length=320)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        body = SignInCodeIn(email=email, code=code)
    except ValidationError:
        return render(
            "sign_in.html",
            None,
            status_code=422,
            step="code",
            email=email,
            masked=email,
            error="The code is the six digits in the message.",
        )
    # Its own transaction, committed even when the code is refused: a wrong try counts.
    with unit_of_work(request.app.state.session_factory) as session:
        driver, refusal = accounts.redeem_sign_in_code(
            session, body.email, body.code, now=now, secret_key=settings.secret_key
        )
        token = accounts.issue_session(session, driver, now=now, page=True) if driver else None
    if refusal is not None or token is None:
        detail = refusal.detail if refusal else "That code is not right."
        return render(
            "sign_in.html",
            None,
            status_code=401,
            step="code",
            email=body.email,
            masked=accounts.masked(body.email),
            error=detail,
        )
    response = RedirectResponse("/driver/", status_code=303)
    _start_session(response, token, settings, request)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, now: Now) -> Response:
    from doorstep.access import service as access

    token = request.cookies.get(SESSION_COOKIE)
    if token:
        access.revoke_token(session, token, now=now)
    response = RedirectResponse("/driver/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


_SIGN_UP_FIELDS = (
    "name",
    "email",
    "phone",
    "home_station",
    "vehicle_description",
    "vehicle_plate",
    "vehicle_cargo_litres",
    "vehicle_payload_kg",
)


@router.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(session: DbSession) -> HTMLResponse:
    return render("sign_up.html", None, values={}, errors={}, stations=_stations(session))


@router.post("/sign-up", response_class=HTMLResponse)
async def sign_up(request: Request, settings: SettingsDep, now: Now) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip()[:400] for name in _SIGN_UP_FIELDS}
    try:
        body = SignUpIn.model_validate(
            {
                "name": values["name"],
                "email": values["email"],
                "phone": values["phone"],
                "home_station": values["home_station"],
                "vehicle": {
                    "description": values["vehicle_description"],
                    "plate": values["vehicle_plate"] or None,
                    "cargo_litres": values["vehicle_cargo_litres"] or None,
                    "payload_kg": values["vehicle_payload_kg"] or 300,
                },
            }
        )
    except ValidationError as exc:
        with unit_of_work(request.app.state.session_factory) as session:
            stations = _stations(session)
        return render(
            "sign_up.html",
            None,
            status_code=422,
            values=values,
            errors=_field_errors(exc),
            stations=stations,
        )
    try:
        with unit_of_work(request.app.state.session_factory) as session:
            accounts.sign_up(session, body, now=now)
            accounts.send_sign_in_code(session, body.email, now=now, secret_key=settings.secret_key)
    except DomainError as exc:
        with unit_of_work(request.app.state.session_factory) as session:
            stations = _stations(session)
        field = str(exc.context.get("field") or "form")
        return render(
            "sign_up.html",
            None,
            status_code=exc.status,
            values=values,
            errors={field: exc.detail},
            stations=stations,
        )
    return render(
        "sign_in.html",
        None,
        status_code=201,
        step="code",
        email=body.email,
        masked=accounts.masked(body.email),
        error=None,
        notice="Welcome! We sent a code to your e-mail to sign you in.",
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, now: Now) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse("/driver/sign-in", status_code=303)
    return render("home.html", driver, "home", me=accounts.summary(session, driver))


def _stations(session: Session) -> list[tuple[str, str]]:
    return [(node.code, node.name) for node in network.list_nodes(session, NodeKind.STATION)]


def _field_errors(exc: ValidationError) -> Mapping[str, str]:
    """Each problem under the form field it belongs to (vehicle.cargo_litres →
    vehicle_cargo_litres), in words a driver reads."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = "_".join(str(part) for part in error["loc"])
        errors.setdefault(field, _in_words(error["type"], error.get("ctx") or {}, error["msg"]))
    return errors


def _in_words(kind: str, limits: Mapping[str, object], message: str) -> str:
    if kind == "greater_than_equal":
        return f"At least {limits['ge']:,}." if isinstance(limits["ge"], int) else message
    if kind == "less_than_equal":
        return f"At most {limits['le']:,}." if isinstance(limits["le"], int) else message
    if kind in {"int_parsing", "int_type"}:
        return "A whole number, like 1200."
    if kind in {"missing", "string_too_short"}:
        return "Needed."
    text = message.removeprefix("Value error, ")
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
