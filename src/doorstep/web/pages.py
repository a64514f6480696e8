"""Rendering the server-side pages: templates, brand colours, money and security headers."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

DEFAULT_COLOR = "#0f766e"
DEFAULT_LABEL = "Get it fast"
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

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


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_PAGE_HEADERS)


def money(cents: int) -> str:
    return "Free" if cents == 0 else f"${cents / 100:,.2f}"


def dollars(cents: float) -> str:
    return f"${cents / 100:,.2f}"


def brand_color(*candidates: object) -> str:
    """The first valid ``#rgb``/``#rrggbb`` colour of the candidates, else our default."""
    for candidate in candidates:
        if isinstance(candidate, str) and _HEX_COLOR.match(candidate.strip()):
            color = candidate.strip().lower()
            if len(color) == 4:
                color = "#" + "".join(c * 2 for c in color[1:])
            return color
    return DEFAULT_COLOR


def text_on(color: str) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG contrast ratio)."""
    luminance = _luminance(color)
    on_white = 1.05 / (luminance + 0.05)
    on_black = (luminance + 0.05) / 0.05
    return "#ffffff" if on_white >= on_black else "#111827"


def _luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def clock_time(moment: datetime, tz: ZoneInfo) -> str:
    """``10:10 am`` in ``tz``."""
    local = moment.astimezone(tz)
    return f"{local.strftime('%I').lstrip('0')}:{local:%M} {local.strftime('%p').lower()}"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 24 Nov, 10:10 am`` in ``tz``."""
    return f"{moment.astimezone(tz):%a %d %b}, {clock_time(moment, tz)}"
