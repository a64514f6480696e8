"""VRPLIB files (Solomon, Gehring & Homberger, CVRP, ORTEC) read through the ``vrplib`` package.

vrplib parses the text. What it leaves out is added here, and only that:

- gzipped files: ``vrplib.read_instance`` opens a path as plain text, so we decompress and give
  the text to the parser it calls;
- errors that name the line: vrplib raises a bare message, keeps a row of the wrong width as it
  is and drops each row's node id. We keep where each row of each section stands in the file
  (grouped as vrplib groups them), check what vrplib returns against it, and name the line.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from vrplib.parse import parse_vrplib

from doorstep.optimize.errors import InstanceFormatError

FloatArray = npt.NDArray[np.float64]


def read_text(path: str | Path) -> str:
    p = Path(path)
    raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Row:
    line: int
    text: str


@dataclass(frozen=True, eq=False)
class VrplibFile:
    """What vrplib read from a file, and where each line of it stands."""

    path: str
    #: vrplib's dictionary: specifications by lower-case key, sections without ``_SECTION``.
    data: dict[str, Any]
    header: tuple[Row, ...]
    #: Data rows of each section (by vrplib's name for it), in file order.
    rows: dict[str, tuple[Row, ...]]

    def integer(self, key: str, default: int | None = None) -> int:
        if key not in self.data:
            if default is not None:
                return default
            raise InstanceFormatError(self.path, None, f"missing header {key.upper()}")
        try:
            return int(float(self.data[key]))
        except (TypeError, ValueError):
            raise InstanceFormatError(
                self.path, self._spec_line(key), f"{key.upper()} is not a number"
            ) from None

    def name(self) -> str:
        return str(self.data.get("name", Path(self.path).name.split(".")[0]))

    def table(self, section: str, width: int, count: int) -> FloatArray:
        """A section of one row per node: ``count`` rows of a node id and ``width`` numbers.

        vrplib drops the ids; we check they run 1, 2, ... so no row is read for another node."""
        if section not in self.rows:
            raise InstanceFormatError(self.path, None, f"missing {_title(section)}")
        rows = self.rows[section]
        for k, (row, values) in enumerate(zip(rows, self.data[section], strict=True)):
            numbers = np.atleast_1d(np.asarray(values))
            if numbers.size != width:
                raise self.error(
                    row, section, f"expected {width + 1} values, got {numbers.size + 1}"
                )
            try:
                numbers.astype(np.float64)  # vrplib keeps a word as a string
                node = float(row.text.split(maxsplit=1)[0])
            except ValueError:
                raise self.error(row, section, f"not a number in {row.text!r}") from None
            if node != k + 1:
                raise self.error(row, section, f"expected node id {k + 1}")
        if len(rows) != count:
            last = rows[-1].line if rows else None
            raise InstanceFormatError(
                self.path, last, f"{_title(section)}: expected {count} rows, got {len(rows)}"
            )
        return np.asarray(self.data[section], dtype=np.float64).reshape(count, width)

    def matrix(self, count: int) -> npt.NDArray[np.int64]:
        """The explicit ``count`` x ``count`` EDGE_WEIGHT_SECTION, every entry an integer."""
        if "edge_weight" not in self.rows:
            raise InstanceFormatError(self.path, None, "missing EDGE_WEIGHT_SECTION")
        rows = self.rows["edge_weight"]
        values = np.asarray(self.data["edge_weight"])
        if values.size != count * count:
            raise InstanceFormatError(
                self.path,
                rows[-1].line if rows else None,
                f"EDGE_WEIGHT_SECTION: expected {count * count} values, got {values.size}",
            )
        return self.integers("edge_weight", values).reshape(count, count)

    def integers(self, section: str, values: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """``values`` of ``section`` as integers; a number with a fraction names its row."""
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except ValueError:
            numbers = np.full(1, np.nan)
        whole = numbers.astype(np.int64)
        if np.array_equal(whole, numbers):
            return whole
        for row in self.rows[section]:
            try:
                fractions = [float(v) % 1 for v in row.text.split()]
            except ValueError:
                raise self.error(row, section, f"not a number in {row.text!r}") from None
            if any(fractions):
                raise self.error(row, section, f"not an integer in {row.text!r}")
        raise InstanceFormatError(self.path, None, f"{_title(section)}: not all integers")

    def depot(self) -> int:
        """The one depot (0 for node 1); node 1 when the file names none."""
        depots = np.atleast_1d(np.asarray(self.data.get("depot", [0])))
        if depots.size != 1:
            raise InstanceFormatError(self.path, None, "exactly one depot is supported")
        return int(depots[0])

    def error(self, row: Row, section: str, message: str) -> InstanceFormatError:
        return InstanceFormatError(self.path, row.line, f"{_title(section)}: {message}")

    def _spec_line(self, key: str) -> int | None:
        return next(
            (r.line for r in self.header if r.text.split(":")[0].strip().lower() == key), None
        )


def parse_file(path: str | Path) -> VrplibFile:
    """Parse a VRPLIB file (``.gz`` too) with vrplib; a file it refuses names its line."""
    where = str(path)
    text = read_text(path)
    header, rows = _layout(text)
    if not rows:
        raise InstanceFormatError(where, None, "no data sections found")
    try:
        # Edge weights are computed by the readers, in the convention of each family.
        data = parse_vrplib(text, compute_edge_weights=False)
    except (RuntimeError, ValueError, TypeError) as error:
        raise _refusal(where, header, rows, error) from None
    return VrplibFile(where, data, header, rows)


def _title(section: str) -> str:
    return f"{section.upper()}_SECTION"


def _layout(text: str) -> tuple[tuple[Row, ...], dict[str, tuple[Row, ...]]]:
    """Header lines and each section's data rows with their line numbers, grouped as vrplib
    groups them: blank and ``#`` lines skipped, a section starts at a ``_SECTION`` line, the
    file ends at ``EOF``."""
    header: list[Row] = []
    rows: dict[str, list[Row]] = {}
    current: list[Row] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "EOF" in line:
            break
        if "_SECTION" in line:
            current = rows.setdefault(line.strip(" :").removesuffix("_SECTION").lower(), [])
        elif current is None:
            header.append(Row(number, line))
        else:
            current.append(Row(number, line))
    return tuple(header), {name: tuple(section) for name, section in rows.items()}


def _refusal(
    path: str, header: tuple[Row, ...], rows: dict[str, tuple[Row, ...]], error: Exception
) -> InstanceFormatError:
    """vrplib refused the file with a bare message: find the line to blame."""
    for row in header:
        if ":" not in row.text:
            return InstanceFormatError(path, row.line, f"expected 'KEY : value', got {row.text!r}")
    for name, section in rows.items():
        for row in section:
            if ":" in row.text:
                return InstanceFormatError(
                    path, row.line, f"{_title(name)}: 'KEY : value' after the data sections"
                )
    matrix = rows.get("edge_weight", ())
    if matrix:
        width = len(matrix[0].text.split())
        for row in matrix:
            if len(row.text.split()) != width:
                count = len(row.text.split())
                return InstanceFormatError(
                    path, row.line, f"EDGE_WEIGHT_SECTION: expected {width} values, got {count}"
                )
    specified = {row.text.split(":")[0].strip().upper() for row in header}
    for key in ("EDGE_WEIGHT_TYPE", "EDGE_WEIGHT_FORMAT"):
        if matrix and key not in specified:
            return InstanceFormatError(path, None, f"missing header {key}")
    return InstanceFormatError(path, None, str(error))
