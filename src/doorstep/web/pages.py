"""Rendering the server-side pages: templates, brand colours, money and security headers."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

# The brand rules are the merchants' (the e-mails use them too); pages call them from here.
from doorstep.merchants.branding import DEFAULT_COLOR as DEFAULT_COLOR
from doorstep.merchants.branding import brand_color as brand_color
from doorstep.merchants.branding import text_on as text_on

DEFAULT_LABEL = "Get it fast"

# Pages load only our own stylesheet and script; nothing may frame them (the checkout takes a
# shopper's address), and forms post only back to us.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("doorstep.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["dollars"] = dollars
    return env


def static_bytes(name: str) -> bytes:
    """A file of ``web/static`` (``driver/sw.js``), read from the installed package."""
    return files("doorstep.web").joinpath("static", *name.split("/")).read_bytes()


def render(
    template: str,
    status_code: int = 200,
    *,
    policy: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with the security headers; ``policy``: a Content-Security-Policy of its own
    (an app page that calls the API, takes photos, runs a service worker)."""
    html = environment().get_template(template).render(**context)
    headers = (
        _PAGE_HEADERS if policy is None else {**_PAGE_HEADERS, "Content-Security-Policy": policy}
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)


def money(cents: int) -> str:
    return "Free" if cents == 0 else f"${cents / 100:,.2f}"


def dollars(cents: float) -> str:
    return f"${cents / 100:,.2f}"


def clock_time(moment: datetime, tz: ZoneInfo) -> str:
    """``10:10 am`` in ``tz``."""
    local = moment.astimezone(tz)
    return f"{local.strftime('%I').lstrip('0')}:{local:%M} {local.strftime('%p').lower()}"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 24 Nov, 10:10 am`` in ``tz``."""
    return f"{moment.astimezone(tz):%a %d %b}, {clock_time(moment, tz)}"
