"""Reading network files (CSV or GeoJSON) into validated records, or a list of what is wrong.

A file is read whole and every problem is collected (file, line, field, message) before anything
is written, so a bad file changes nothing and its author can fix every row in one go.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from doorstep.errors import InvalidInput
from doorstep.network.schemas import NodeRecord, ServiceAreaRecord

Record = NodeRecord | ServiceAreaRecord


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    field: str | None
    message: str
    where: str = ""  # e.g. "feature 3" in a GeoJSON file

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
        if self.where:
            place += f" ({self.where})"
        field = f" {self.field}:" if self.field else ""
        return f"{place}:{field} {self.message}"


@dataclass(frozen=True)
class LocatedRecord:
    record: Record
    line: int | None
    where: str = ""


class NetworkFileInvalid(InvalidInput):
    code = "network_file_invalid"

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported:\n{shown}{more}",
            problems=[p.__dict__ for p in problems],
        )


def read_network_file(path: Path) -> list[LocatedRecord]:
    """Validated records of ``path`` (``.csv``, ``.geojson`` or ``.json``)."""
    if not path.is_file():
        raise NetworkFileInvalid([FileProblem(str(path), None, None, "no such file")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        located, problems = _read_csv(path)
    elif suffix in (".geojson", ".json"):
        located, problems = _read_geojson(path)
    else:
        problems = [FileProblem(str(path), None, None, "expected a .csv or .geojson file")]
        located = []
    problems += _duplicate_codes(path, located)
    if problems:
        raise NetworkFileInvalid(problems)
    return located


CSV_COLUMNS = set(NodeRecord.model_fields) | {"geometry", "station"}


def _read_csv(path: Path) -> tuple[list[LocatedRecord], list[FileProblem]]:
    name = str(path)
    located: list[LocatedRecord] = []
    problems: list[FileProblem] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [FileProblem(name, None, None, f"not UTF-8 text ({exc.reason})")]
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [column.strip() for column in reader.fieldnames or []]
    reader.fieldnames = header
    unknown = sorted(set(header) - CSV_COLUMNS)
    missing = sorted({"kind", "code", "name"} - set(header))
    if unknown:
        problems.append(FileProblem(name, 1, ", ".join(unknown), "unknown column(s)"))
    if missing:
        problems.append(FileProblem(name, 1, ", ".join(missing), "required column(s) missing"))
    if problems:
        return [], problems
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than header columns
            problems.append(FileProblem(name, line, None, "more values than columns"))
            continue
        values = {k: v for k, v in row.items() if v is not None and v.strip() != ""}
        if values.get("kind") == "service_area":
            geometry_text = values.pop("geometry", "")
            values.pop("lat", None), values.pop("lng", None)
            geometry, problem = _geometry_from_wkt(geometry_text)
            if problem:
                problems.append(FileProblem(name, line, "geometry", problem))
                continue
            values["geometry"] = geometry
            _validate(ServiceAreaRecord, values, name, line, "", located, problems)
        else:
            if "geometry" in values or "station" in values:
                field = "geometry" if "geometry" in values else "station"
                problems.append(
                    FileProblem(name, line, field, "only service_area rows have this column")
                )
                continue
            _validate(NodeRecord, values, name, line, "", located, problems)
    return located, problems


def _read_geojson(path: Path) -> tuple[list[LocatedRecord], list[FileProblem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        return [], [FileProblem(name, line, None, f"not valid JSON: {exc}")]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [FileProblem(name, 1, "type", "expected a GeoJSON FeatureCollection")]
    features = document.get("features")
    if not isinstance(features, list):
        return [], [FileProblem(name, 1, "features", "expected a list of features")]
    # Line of each feature's opening, for error messages (json keeps no positions).
    feature_lines = [
        text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"type"\s*:\s*"Feature"', text)
    ]
    located: list[LocatedRecord] = []
    problems: list[FileProblem] = []
    for index, feature in enumerate(features):
        line = feature_lines[index] if index < len(feature_lines) else None
        where = f"feature {index + 1}"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or not isinstance(geometry, dict):
            problems.append(FileProblem(name, line, None, "needs properties and geometry", where))
            continue
        values = dict(properties)
        if geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates")
            if not (isinstance(coordinates, list) and len(coordinates) >= 2):
                problems.append(
                    FileProblem(name, line, "geometry", "a Point needs [lng, lat]", where)
                )
                continue
            values["lng"], values["lat"] = coordinates[0], coordinates[1]
            _validate(NodeRecord, values, name, line, where, located, problems)
        elif geometry.get("type") in ("Polygon", "MultiPolygon"):
            values.setdefault("kind", "service_area")
            checked, problem = _valid_area(geometry)
            if problem:
                problems.append(FileProblem(name, line, "geometry", problem, where))
                continue
            values["geometry"] = checked
            _validate(ServiceAreaRecord, values, name, line, where, located, problems)
        else:
            problems.append(
                FileProblem(
                    name,
                    line,
                    "geometry",
                    f"'{geometry.get('type')}': expected Point, Polygon or MultiPolygon",
                    where,
                )
            )
    return located, problems


def _validate(
    model: type[BaseModel],
    values: dict[str, Any],
    file: str,
    line: int | None,
    where: str,
    located: list[LocatedRecord],
    problems: list[FileProblem],
) -> None:
    try:
        record = model.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or None
            message = error["msg"].removeprefix("Value error, ")
            value = values.get(str(error["loc"][0])) if error["loc"] else None
            if value is not None and error["type"] != "extra_forbidden":
                message += f" (got {value!r})"
            problems.append(FileProblem(file, line, field, message, where))
        return
    assert isinstance(record, NodeRecord | ServiceAreaRecord)
    located.append(LocatedRecord(record, line, where))


def _geometry_from_wkt(text: str) -> tuple[dict[str, Any], str | None]:
    if not text:
        return {}, "a service_area row needs a WKT POLYGON or MULTIPOLYGON"
    try:
        geometry = wkt.loads(text)
    except (ShapelyError, ValueError) as exc:
        return {}, f"not valid WKT: {exc}"
    return _valid_area(mapping(geometry))


def _valid_area(geometry: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    try:
        polygon: BaseGeometry = shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError) as exc:
        return {}, f"not a valid polygon: {exc}"
    if polygon.geom_type not in ("Polygon", "MultiPolygon"):
        return {}, f"expected a Polygon or MultiPolygon, got {polygon.geom_type}"
    if polygon.is_empty or not polygon.is_valid:
        return {}, "the polygon is empty or crosses itself"
    min_lng, min_lat, max_lng, max_lat = polygon.bounds
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        return {}, "coordinates must be [lng, lat] in WGS84 degrees"
    # Through JSON, so coordinates are lists exactly as they will read back from the database.
    return json.loads(json.dumps(mapping(polygon))), None


def _duplicate_codes(path: Path, located: list[LocatedRecord]) -> list[FileProblem]:
    seen: dict[tuple[str, str], LocatedRecord] = {}
    problems = []
    for item in located:
        family = "area" if isinstance(item.record, ServiceAreaRecord) else "node"
        key = (family, item.record.code)
        if key in seen:
            first = seen[key]
            problems.append(
                FileProblem(
                    str(path),
                    item.line,
                    "code",
                    f"'{item.record.code}' already used at line {first.line}",
                    item.where,
                )
            )
        else:
            seen[key] = item
    return problems
