"""A merchant's brand as shoppers see it: its name and colour, on pages and in messages.

Pure (no database, no web): the checkout pages (`doorstep.web.pages`) and the notification
e-mails use the same rules, so a colour a merchant saved looks the same everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_COLOR = "#0f766e"
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    color: str  # #rrggbb
    text_color: str  # black or white, whichever reads better on ``color``


def brand_of(name: str, display_name: str | None, button_settings: dict[str, Any] | None) -> Brand:
    """The brand of a merchant: its display name (else its name) and its button colour."""
    color = brand_color((button_settings or {}).get("color"))
    return Brand(name=display_name or name, color=color, text_color=text_on(color))


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
