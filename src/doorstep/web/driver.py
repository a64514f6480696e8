"""The driver app's pages under ``/driver/``: sign-up, sign-in by a one-time code, and the
frame every screen shares (tabs, network state, the service worker that keeps actions taken
in a dead spot).

The pages are server-rendered; actions on them call the driver API (``/v1/driver/…``) with
the page session's cookie, so the app and a third-party client use one API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.db import unit_of_work
from doorstep.drivers import accounts, held, offers
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road.load import wait_in_words
from doorstep.drivers.schemas import SignUpIn
from doorstep.errors import DomainError
from doorstep.models import Driver, NodeKind
from doorstep.network import repository as network
from doorstep.settings import Settings
from doorstep.web import pages
from doorstep.web.code_sign_in import CodeSignIn, signed_in_by_cookie

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
        "offers",
        "Offers",
        "/driver/offers",
        Markup(
            '<rect x="3" y="5" width="18" height="15" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>'
        ),
    ),
    (
        "pay",
        "Pay",
        "/driver/earnings",
        Markup('<path d="M12 3v18M17 7H9.5a3 3 0 0 0 0 6h5a3 3 0 0 1 0 6H6"/>'),
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


class Clock:
    """Times as the driver reads them: in the home station's time zone."""

    def __init__(self, tz: ZoneInfo, now: datetime) -> None:
        self.tz = tz
        self.now = now

    def time(self, moment: datetime | None) -> str:
        return pages.clock_time(moment, self.tz) if moment else "—"

    def day(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        local, today = moment.astimezone(self.tz).date(), self.now.astimezone(self.tz).date()
        if local == today:
            return "Today"
        if (local - today).days == 1:
            return "Tomorrow"
        if (local - today).days == -1:
            return "Yesterday"
        return f"{local:%a} {local.day} {local:%b}"

    def when(self, moment: datetime | None) -> str:
        return f"{self.day(moment)}, {self.time(moment)}" if moment else "—"

    def until(self, moment: datetime | None) -> str:
        """``in 25 min``, ``in 3 h 10 min``, or ``now`` once past."""
        return wait_in_words(moment, self.now) if moment else "—"


def clock_for(session: Session, driver: Driver, now: datetime) -> Clock:
    return Clock(accounts.home_zone(session, driver), now)


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
    """A page of the app (its frame: the tab bar with ``tab`` current)."""
    return pages.render(
        f"driver/{template}",
        status_code,
        policy=APP_POLICY,
        driver=driver,
        tabs=TABS,
        tab=tab,
        **context,
    )


def signed_in_driver(request: Request, session: Session, now: datetime) -> Driver | None:
    """The driver of the page session's cookie, or None (no cookie, expired, revoked)."""
    return signed_in_by_cookie(request, session, now, SESSION_COOKIE, accounts.authenticate)


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


def _redeem(
    session: Session, email: str, code: str, now: datetime, key: str
) -> tuple[str | None, DomainError | None]:
    driver, refusal = accounts.redeem_sign_in_code(session, email, code, now=now, secret_key=key)
    token = accounts.issue_session(session, driver, now=now, page=True) if driver else None
    return token, refusal


SIGN_IN = CodeSignIn(
    template="sign_in.html",
    cookie=SESSION_COOKIE,
    ttl=accounts.PAGE_SESSION_TTL,
    home="/driver/",
    send=lambda session, email, now, key: (
        accounts.send_sign_in_code(session, email, now=now, secret_key=key).expires_in_s
    ),
    redeem=_redeem,
    render=lambda template, driver, **context: render(template, driver, **context),
    email_error="Type the e-mail you signed up with, like name@example.com.",
)


SIGN_IN.install(router)


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
def home(request: Request, session: DbSession, now: Now, settings: SettingsDep) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse("/driver/sign-in", status_code=303)
    policy = OfferPolicy.from_settings(settings)
    return render(
        "home.html",
        driver,
        "home",
        me=accounts.summary(session, driver),
        blocks=held.held_blocks(session, driver, policy=policy),
        offers=len(offers.list_offers(session, driver, now=now, policy=policy)),
        clock=clock_for(session, driver, now),
    )


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
