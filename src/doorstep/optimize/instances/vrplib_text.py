"""A line-aware parser for the VRPLIB text format (Solomon, Gehring & Homberger, ORTEC).

Written here rather than delegated so every malformed file is reported with its line.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

from doorstep.optimize.errors import InstanceFormatError


@dataclass
class VrplibText:
    path: str
    header: dict[str, str] = field(default_factory=dict)
    #: section name -> rows of (line number, numbers)
    sections: dict[str, list[tuple[int, list[float]]]] = field(default_factory=dict)

    def int_header(self, key: str, default: int | None = None) -> int:
        if key not in self.header:
            if default is not None:
                return default
            raise InstanceFormatError(self.path, None, f"missing header {key}")
        try:
            return int(float(self.header[key]))
        except ValueError:
            raise InstanceFormatError(self.path, None, f"{key} is not a number") from None

    def rows(self, section: str, width: int, count: int | None = None) -> list[list[float]]:
        """Rows of a section, each checked to hold ``width`` numbers."""
        if section not in self.sections:
            raise InstanceFormatError(self.path, None, f"missing {section}")
        rows = self.sections[section]
        for line, values in rows:
            if len(values) != width:
                raise InstanceFormatError(
                    self.path, line, f"{section}: expected {width} values, got {len(values)}"
                )
        if count is not None and len(rows) != count:
            last = rows[-1][0] if rows else None
            raise InstanceFormatError(
                self.path, last, f"{section}: expected {count} rows, got {len(rows)}"
            )
        return [values for _, values in rows]

    def flat(self, section: str) -> list[float]:
        if section not in self.sections:
            raise InstanceFormatError(self.path, None, f"missing {section}")
        return [v for _, values in self.sections[section] for v in values]


def read_text(path: str | Path) -> list[str]:
    p = Path(path)
    raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    return raw.decode("utf-8", errors="replace").splitlines()


def parse_vrplib(path: str | Path) -> VrplibText:
    text = VrplibText(str(path))
    section: str | None = None
    for number, raw in enumerate(read_text(path), start=1):
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            section = line
            text.sections[section] = []
            continue
        if section is None:
            if ":" not in line:
                raise InstanceFormatError(
                    text.path, number, f"expected 'KEY : value', got {line!r}"
                )
            key, value = line.split(":", 1)
            text.header[key.strip().upper()] = value.strip()
            continue
        try:
            values = [float(tok) for tok in line.split()]
        except ValueError:
            raise InstanceFormatError(
                text.path, number, f"{section}: not a number in {line!r}"
            ) from None
        text.sections[section].append((number, values))
    if not text.sections:
        raise InstanceFormatError(text.path, None, "no data sections found")
    return text
