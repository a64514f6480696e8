"""Network import: the example files, broken files, re-imports and references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import Node, NodeKind, PartnerStore, ServiceArea
from doorstep.network import repository
from doorstep.network.files import NetworkFileInvalid
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES

EXAMPLE_GEOJSON = EXAMPLES / "chandler-az" / "network.geojson"
EXAMPLE_CSV = EXAMPLES / "chandler-az" / "network.csv"
EXAMPLE_COUNTS = {
    "station": 2,
    "warehouse": 1,
    "mall": 1,
    "mall_store": 5,
    "local_store": 2,
    "partner_store": 4,
    "service_area": 3,
}

HEADER = "kind,code,name,lat,lng,timezone,parent,opening_hours,service_radius_mi,daily_capacity\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _row_count(session: Session) -> int:
    nodes = session.scalar(select(func.count()).select_from(Node)) or 0
    areas = session.scalar(select(func.count()).select_from(ServiceArea)) or 0
    return nodes + areas


@pytest.mark.parametrize("path", [EXAMPLE_GEOJSON, EXAMPLE_CSV], ids=["geojson", "csv"])
def test_example_network_imports(session: Session, path: Path) -> None:
    summary = import_network_file(session, path)
    assert (summary.created, summary.updated, summary.unchanged) == (18, 0, 0)
    assert repository.count_by_kind(session) == EXAMPLE_COUNTS

    mall_stores = repository.list_nodes(session, NodeKind.MALL_STORE)
    assert {store.parent.code for store in mall_stores if store.parent} == {"MCFC"}
    florist = repository.get_node(session, "PS-QC-FLORIST")
    assert florist is not None
    assert florist.partner_store is not None
    assert florist.partner_store.service_radius_m == 16_093  # 10 miles
    assert florist.partner_store.opening_hours["sat"] == ["08:00", "18:00"]
    assert "sun" not in florist.partner_store.opening_hours
    assert [str(c.day) for c in florist.partner_store.closed_days] == ["2026-12-25", "2027-01-01"]
    areas = {area.code: area for area in repository.list_service_areas(session)}
    assert areas["SA-GILBERT"].station is not None
    assert areas["SA-GILBERT"].station.code == "DGB1"
    assert areas["SA-CHANDLER"].min_lat == pytest.approx(33.203)


def test_importing_twice_changes_nothing(session: Session) -> None:
    import_network_file(session, EXAMPLE_GEOJSON)
    before = {n.code: n.updated_at for n in session.scalars(select(Node))}
    again = import_network_file(session, EXAMPLE_GEOJSON)
    also_csv = import_network_file(session, EXAMPLE_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 18)
    assert (also_csv.created, also_csv.updated, also_csv.unchanged) == (0, 0, 18)
    session.expire_all()
    assert {n.code: n.updated_at for n in session.scalars(select(Node))} == before


def test_a_changed_row_is_updated_in_place(session: Session, tmp_path: Path) -> None:
    import_network_file(session, EXAMPLE_GEOJSON)
    document = json.loads(EXAMPLE_GEOJSON.read_text())
    for feature in document["features"]:
        if feature["properties"]["code"] == "PS-SUNLAKES-CAFE":
            feature["properties"]["daily_capacity"] = 75
            feature["properties"]["closed_days"] = "2026-12-25"
    changed = _write(tmp_path, "changed.geojson", json.dumps(document))
    summary = import_network_file(session, changed)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 17)
    cafe = repository.get_node(session, "PS-SUNLAKES-CAFE")
    assert cafe is not None
    assert cafe.daily_capacity == 75
    assert cafe.partner_store is not None
    assert [str(c.day) for c in cafe.partner_store.closed_days] == ["2026-12-25"]


def test_a_broken_row_is_reported_with_line_and_field_and_nothing_is_written(
    session: Session, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "broken.csv",
        HEADER
        + "station,ST1,Good Station,33.27,-111.88,America/Phoenix,,,,500\n"
        + "station,ST2,Bad Latitude,133.27,-111.88,America/Phoenix,,,,\n"
        + "partner_store,PS1,No Hours,33.2,-111.6,America/Phoenix,,,10,\n"
        + "warehouse,W1,Bad Zone,33.4,-111.9,Mars/Olympus,,,,\n",
    )
    with pytest.raises(NetworkFileInvalid) as raised:
        import_network_file(session, path)
    problems = {(p.line, p.field) for p in raised.value.problems}
    assert problems == {(3, "lat"), (4, None), (5, "timezone")}
    messages = [str(p) for p in raised.value.problems]
    assert any(m.startswith(f"{path}:3: lat:") and "133.27" in m for m in messages)
    assert any("opening_hours" in m and ":4:" in m for m in messages)
    assert _row_count(session) == 0


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("frobnicator,X1,Thing,33,-111,UTC,,,,", "kind", "Input should be"),
        ("station,,Blank Code,33,-111,UTC,,,,", "code", "Field required"),
        ("station,S 1,Space,33,-111,UTC,,,,", "code", "should match pattern"),
        ("station,S1,Lng,33,-211,UTC,,,,", "lng", "greater than or equal to -180"),
        ("station,S1,Cap,33,-111,UTC,,,,-5", "daily_capacity", "greater than or equal to 0"),
        ("mall_store,MS1,Orphan,33,-111,UTC,,,,", None, "needs the code of its mall"),
        ("station,S1,Radius,33,-111,UTC,,,10,", None, "only partner stores have these"),
        (
            "partner_store,P1,Hours,33,-111,UTC,,mon-fri 18:00-08:00,,",
            "opening_hours",
            "closes before it opens",
        ),
        (
            "partner_store,P1,Hours,33,-111,UTC,,mon-fry 08:00-18:00,,",
            "opening_hours",
            "not a weekday",
        ),
    ],
)
def test_each_kind_of_bad_value_is_named(
    session: Session, tmp_path: Path, row: str, field: str | None, fragment: str
) -> None:
    path = _write(tmp_path, "bad.csv", HEADER + row + "\n")
    with pytest.raises(NetworkFileInvalid) as raised:
        import_network_file(session, path)
    [problem] = raised.value.problems
    assert (problem.line, problem.field) == (2, field)
    assert fragment in problem.message


def test_references_must_resolve(session: Session, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "refs.csv",
        "kind,code,name,lat,lng,parent,station,geometry\n"
        "station,ST1,Station,33.27,-111.88,,,\n"
        "mall_store,MS1,Store,33.3,-111.9,ST1,,\n"
        'service_area,SA1,Area,,,,NOPE,"POLYGON ((-112 33, -111 33, -111 34, -112 33))"\n',
    )
    with pytest.raises(NetworkFileInvalid) as raised:
        import_network_file(session, path)
    assert {(p.line, p.field) for p in raised.value.problems} == {(3, "parent"), (4, "station")}
    assert _row_count(session) == 0


def test_duplicate_codes_and_unknown_columns(session: Session, tmp_path: Path) -> None:
    duplicate = _write(
        tmp_path, "dup.csv", "kind,code,name,lat,lng\nstation,S1,A,33,-111\nstation,S1,B,33,-111\n"
    )
    with pytest.raises(NetworkFileInvalid, match="already used at line 2"):
        import_network_file(session, duplicate)
    unknown = _write(tmp_path, "unknown.csv", "kind,code,name,lat,lng,colour\n")
    with pytest.raises(NetworkFileInvalid, match="colour: unknown column"):
        import_network_file(session, unknown)


def test_a_node_cannot_change_kind(session: Session, tmp_path: Path) -> None:
    import_network_file(session, EXAMPLE_CSV)
    path = _write(
        tmp_path,
        "kind.csv",
        "kind,code,name,lat,lng\nwarehouse,DCH1,Now a warehouse,33.27,-111.88\n",
    )
    with pytest.raises(NetworkFileInvalid, match="already a station"):
        import_network_file(session, path)


def test_geojson_problems_name_the_feature_and_its_line(session: Session, tmp_path: Path) -> None:
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-111.8, 33.3]},
                "properties": {"kind": "station", "code": "S1", "name": "Fine"},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                },
                "properties": {"code": "BOWTIE", "name": "Crosses itself"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"code": "L", "name": "Line"},
            },
        ],
    }
    path = _write(tmp_path, "bad.geojson", json.dumps(document, indent=2))
    with pytest.raises(NetworkFileInvalid) as raised:
        import_network_file(session, path)
    found = [(p.where, p.field) for p in raised.value.problems]
    assert found == [("feature 2", "geometry"), ("feature 3", "geometry")]
    assert all(p.line is not None and p.line > 1 for p in raised.value.problems)
    assert _row_count(session) == 0


def test_files_that_are_not_network_files(session: Session, tmp_path: Path) -> None:
    with pytest.raises(NetworkFileInvalid, match="not valid JSON"):
        import_network_file(session, _write(tmp_path, "x.geojson", "{not json"))
    with pytest.raises(NetworkFileInvalid, match="FeatureCollection"):
        import_network_file(session, _write(tmp_path, "y.geojson", "[]"))
    with pytest.raises(NetworkFileInvalid, match=r"\.csv or \.geojson"):
        import_network_file(session, _write(tmp_path, "z.txt", "hello"))
    with pytest.raises(NetworkFileInvalid, match="no such file"):
        import_network_file(session, tmp_path / "missing.csv")


def test_partner_store_radius_in_metres_or_miles(session: Session, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "radius.csv",
        "kind,code,name,lat,lng,opening_hours,service_radius_m\n"
        "partner_store,P1,Metres,33.2,-111.6,mon-sun 08:00-18:00,12000\n"
        "partner_store,P2,Default,33.2,-111.6,mon-sun 08:00-18:00,\n",
    )
    import_network_file(session, path)
    radii = {p.node_id: p.service_radius_m for p in session.scalars(select(PartnerStore))}
    assert sorted(radii.values()) == [12_000, 16_093]
