"""Reading a Code 128 barcode back from the tracking page's SVG, as a scanner would: bar and
space widths → symbols → text (code sets B and C), the check symbol verified."""

from __future__ import annotations

import re

from reportlab.graphics.barcode.code128 import _patterns  # type: ignore[attr-defined]

SYMBOLS = {pattern: value for value, pattern in _patterns.items()}
START_B, START_C, TO_B, TO_C, STOP = 104, 105, 100, 99, 106


def _runs(svg: str) -> list[int]:
    """Alternating bar and space widths, from the first bar to the last."""
    rects = [(int(x), int(width)) for x, width in re.findall(r'<rect x="(\d+)" width="(\d+)"', svg)]
    runs: list[int] = []
    end = None
    for x, width in rects:
        if end is not None:
            runs.append(x - end)
        runs.append(width)
        end = x + width
    return runs


def decode_svg(svg: str) -> str:
    runs = _runs(svg)
    values: list[int] = []
    while runs:
        group, runs = runs[:6], runs[6:]
        pattern = "".join(
            chr(ord("A" if i % 2 == 0 else "a") + width - 1) for i, width in enumerate(group)
        )
        value = SYMBOLS.get(pattern)
        if value is None:  # the stop symbol is seven elements long
            break
        values.append(value)
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, 1))) % 103, "bad check"
    text, code_set = "", "C" if start == START_C else "B"
    for value in data:
        if code_set == "C":
            if value == TO_B:
                code_set = "B"
            else:
                text += f"{value:02d}"
        elif value == TO_C:
            code_set = "C"
        else:
            text += chr(value + 32)
    return text
