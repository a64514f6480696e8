"""Barcodes drawn on the server as inline SVG (no script, no image request): the Code 128 the
counter labels print (reportlab's encoder, as `carriers.label_pdf` uses it), for the shopper's
counter pick-up on the tracking page."""

from __future__ import annotations

from markupsafe import Markup, escape
from reportlab.graphics.barcode.code128 import Code128

QUIET = 10  # modules of white on each side, as Code 128 asks


def code128_svg(value: str, *, height: int = 56, label: str | None = None) -> Markup:
    """``value`` as a Code 128 barcode, an ``<svg>`` that scales to its box (one module is one
    unit of its view box; the bars keep crisp edges)."""
    barcode = Code128(value, barWidth=1, humanReadable=False, quiet=False)
    barcode.validate()  # type: ignore[no-untyped-call]  # reportlab's stubs leave these bare
    barcode.encode()  # type: ignore[no-untyped-call]
    barcode.decompose()  # type: ignore[no-untyped-call]
    x, rects = QUIET, []
    for symbol in barcode.decomposed:
        if symbol.isupper():  # a bar, as wide as its letter (A = 1 module)
            width = ord(symbol) - ord("A") + 1
            rects.append(f'<rect x="{x}" width="{width}" height="{height}"/>')
        else:  # a space
            width = ord(symbol) - ord("a") + 1
        x += width
    total = x + QUIET
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {height}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" '
        f'aria-label="{escape(label or value)}">'
        f'<rect width="{total}" height="{height}" fill="#fff"/><g fill="#000">'
        + "".join(rects)
        + "</g></svg>"
    )
