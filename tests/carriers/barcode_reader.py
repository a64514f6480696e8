"""Read a Code 128 barcode back from a rendered page, to prove the label scans.

A deliberately small reader: one row of a greyscale image through the bars, run lengths,
then reportlab's own Code 128 pattern table inverted. Enough for our clean, unrotated labels;
not a general scanner.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.graphics.barcode import code128

# reportlab's symbol → bar widths table (private; the stubs do not list it)
_patterns: dict[int, str] = vars(code128)["_patterns"]

_WIDTHS = {"A": 1, "B": 2, "C": 3, "D": 4}
_SYMBOLS = {
    tuple(_WIDTHS[c.upper()] for c in pattern[:6]): value for value, pattern in _patterns.items()
}
START_B, START_C, CODE_B, CODE_C, STOP = 104, 105, 100, 99, 106


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary (P5) PGM, as pdftoppm -gray writes it."""
    data = path.read_bytes()
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.index(b"\n", position)
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    if fields[0] != b"P5" or int(fields[3]) > 255:
        raise ValueError("not an 8-bit binary PGM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[position + 1 : position + 1 + width * height]
    return width, height, pixels


def decode_row(row: bytes) -> str | None:
    dark = [pixel < 128 for pixel in row]
    runs: list[int] = []
    start = dark.index(True) if True in dark else len(dark)
    last = len(dark) - dark[::-1].index(True) if True in dark else 0
    index = start
    while index < last:
        colour, length = dark[index], 0
        while index < last and dark[index] == colour:
            index += 1
            length += 1
        runs.append(length)
    # Start symbol (6 runs) + stop (7 runs); every symbol is 11 modules wide.
    if len(runs) < 13 or (len(runs) - 7) % 6:
        return None
    module = sum(runs[:6]) / 11
    values: list[int] = []
    for offset in range(0, len(runs) - 7, 6):
        widths = tuple(max(1, round(run / module)) for run in runs[offset : offset + 6])
        if widths not in _SYMBOLS:
            return None
        values.append(_SYMBOLS[widths])
    values.append(STOP)
    return _text(values)


def _text(values: list[int]) -> str | None:
    if values[-1] != STOP or len(values) < 3:
        return None
    *body, checksum, _stop = values
    if sum(value * max(1, weight) for weight, value in enumerate(body)) % 103 != checksum:
        return None
    code_set = {START_B: "B", START_C: "C"}.get(body[0])
    text = ""
    for value in body[1:]:
        if value == CODE_C:
            code_set = "C"
        elif value == CODE_B:
            code_set = "B"
        elif code_set == "C":
            text += f"{value:02d}"
        elif code_set == "B":
            text += chr(value + 32)
        else:
            return None
    return text


def find_code128(path: Path) -> set[str]:
    """Every text a Code 128 barcode on the page decodes to, scanning rows top to bottom."""
    width, height, pixels = read_pgm(path)
    found: set[str] = set()
    for y in range(0, height, 4):
        text = decode_row(pixels[y * width : (y + 1) * width])
        if text:
            found.add(text)
    return found
