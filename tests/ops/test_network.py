"""The network from the console: view every node, edit a node's cut-off, capacity, partner
calendar and radius with the import's validation, each change audited."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import AuditEntry, OperatorRole
from doorstep.network import repository
from doorstep.network.service import import_network_file
from tests.ops.conftest import bearer
from tests.ops.test_pages import sign_in

NETWORK = (
    "kind,code,name,lat,lng,timezone,parent,same_day_cutoff,daily_capacity,opening_hours,"
    "service_radius_mi\n"
    "station,ST1,Chandler Station,33.30,-111.84,America/Phoenix,,14:00,900,,\n"
    "mall,M1,Fashion Center,33.30,-111.90,America/Phoenix,,,,,\n"
    "mall_store,M1-S1,Sneaker Corner,33.30,-111.90,America/Phoenix,M1,15:00,,,\n"
    "partner_store,P1,Gilbert Florist,33.35,-111.79,America/Phoenix,,,40,"
    "mon-fri 08:00-18:00; sat 09:00-13:00,6\n"
)


@pytest.fixture
def network(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "network.csv"
    path.write_text(NETWORK)
    import_network_file(session, path)
    session.commit()


def _edits(session: Session) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "network.edit", AuditEntry.subject_type == "node")
            .order_by(AuditEntry.id)
        )
    )


def test_a_dispatcher_edits_a_partner_store_and_the_audit_log_has_it(
    client: TestClient, session: Session, tokens: dict[OperatorRole, str], network: None
) -> None:
    change = {
        "opening_hours": "mon-sat 09:00-17:00",
        "closed_days": ["2026-12-25", "2027-01-01"],
        "daily_capacity": 55,
        "same_day_cutoff": "11:30",
        "service_radius_mi": 8,
    }
    answer = client.patch(
        "/v1/network/nodes/P1", json=change, headers=bearer(tokens[OperatorRole.DISPATCHER])
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["opening_hours"]["sat"] == ["09:00", "17:00"]
    assert "sun" not in body["opening_hours"]
    assert body["closed_days"] == ["2026-12-25", "2027-01-01"]
    assert body["service_radius_m"] == 12_875  # 8 miles
    session.expire_all()
    node = repository.get_node(session, "P1")
    assert node is not None
    assert node.partner_store is not None
    assert node.daily_capacity == 55
    assert node.same_day_cutoff == time(11, 30)
    assert [c.day for c in node.partner_store.closed_days] == [date(2026, 12, 25), date(2027, 1, 1)]
    [entry] = _edits(session)
    assert entry.actor == "dispatcher@ops.example.com"
    assert entry.subject_type == "node"
    assert entry.subject_id == "P1"
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["daily_capacity"] == 40
    assert entry.after["daily_capacity"] == 55
    assert entry.before["service_radius_m"] == 9656
    assert entry.after["service_radius_m"] == 12_875
    assert entry.before["closed_days"] == []
    assert len(entry.after["closed_days"]) == 2
    assert set(entry.after) == {
        "same_day_cutoff",
        "daily_capacity",
        "opening_hours",
        "closed_days",
        "service_radius_m",
    }

    # The same edit again changes nothing, and so writes no edit to the log.
    again = client.patch(
        "/v1/network/nodes/P1", json=change, headers=bearer(tokens[OperatorRole.DISPATCHER])
    )
    assert again.status_code == 200
    assert len(_edits(session)) == 1


@pytest.mark.parametrize(
    ("code", "change", "field"),
    [
        ("P1", {"opening_hours": "mon 18:00-08:00"}, "opening_hours"),
        ("P1", {"opening_hours": "someday 08:00-18:00"}, "opening_hours"),
        ("P1", {"opening_hours": ""}, "opening_hours"),
        ("P1", {"service_radius_mi": 12}, "service_radius_mi"),
        ("P1", {"service_radius_m": 20_000}, "service_radius_m"),
        ("P1", {"service_radius_m": 0}, "service_radius_m"),
        ("P1", {"service_radius_m": 9000, "service_radius_mi": 5}, "service_radius_m"),
        ("P1", {"daily_capacity": -1}, "daily_capacity"),
        ("P1", {"closed_days": "2026-12-25, tomorrow"}, "closed_days"),
        ("ST1", {"opening_hours": "mon-fri 08:00-18:00"}, "opening_hours"),
        ("ST1", {"service_radius_mi": 3}, "service_radius_mi"),
    ],
)
def test_a_bad_edit_is_422_naming_the_field_and_writes_nothing(
    client: TestClient,
    session: Session,
    tokens: dict[OperatorRole, str],
    network: None,
    code: str,
    change: dict[str, object],
    field: str,
) -> None:
    # Valid fields next to the bad one: none of them may be written either.
    body = {"daily_capacity": 7, **change}
    answer = client.patch(
        f"/v1/network/nodes/{code}", json=body, headers=bearer(tokens[OperatorRole.ADMIN])
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "node_edit_invalid"
    assert answer.json()["context"]["field"] == field
    assert answer.json()["detail"].startswith(f"{field}:")
    session.expire_all()
    node = repository.get_node(session, code)
    assert node is not None
    assert node.daily_capacity == (40 if code == "P1" else 900)
    assert _edits(session) == []
    # Nor the request's own audit entry: the whole request rolled back.
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "network.edit")) is None


def test_malformed_and_unknown_are_refused(
    client: TestClient, tokens: dict[OperatorRole, str], network: None
) -> None:
    headers = bearer(tokens[OperatorRole.ADMIN])
    unknown = client.patch("/v1/network/nodes/ST1", json={"lat": 1}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"] == "body.lat"
    wrong_type = client.patch(
        "/v1/network/nodes/ST1", json={"same_day_cutoff": "noon"}, headers=headers
    )
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["field"] == "body.same_day_cutoff"
    missing = client.patch("/v1/network/nodes/NOPE", json={"daily_capacity": 3}, headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "node_not_found"


def test_a_station_cutoff_is_cleared_with_null_and_a_viewer_may_not_edit(
    client: TestClient, session: Session, tokens: dict[OperatorRole, str], network: None
) -> None:
    viewer = client.patch(
        "/v1/network/nodes/ST1",
        json={"same_day_cutoff": None},
        headers=bearer(tokens[OperatorRole.VIEWER]),
    )
    assert viewer.status_code == 403
    cleared = client.patch(
        "/v1/network/nodes/ST1",
        json={"same_day_cutoff": None},
        headers=bearer(tokens[OperatorRole.ADMIN]),
    )
    assert cleared.status_code == 200
    assert cleared.json()["same_day_cutoff"] is None
    assert cleared.json()["daily_capacity"] == 900  # untouched: not in the edit
    [entry] = _edits(session)
    assert entry.before == {"same_day_cutoff": "14:00:00"}
    assert entry.after == {"same_day_cutoff": None}


def test_the_network_pages_show_every_node_and_edit_one(
    client: TestClient, session: Session, tokens: object, network: None
) -> None:
    sign_in(client, OperatorRole.DISPATCHER)
    listing = client.get("/ops/network")
    assert listing.status_code == 200
    for code in ("ST1", "M1", "M1-S1", "P1"):
        assert f'id="node-{code}"' in listing.text
    assert "mon-fri 08:00-18:00; sat 09:00-13:00" in listing.text
    assert 'href="/ops/network"' in listing.text  # in the navigation

    page = client.get("/ops/network/P1")
    assert page.status_code == 200
    assert 'value="mon-fri 08:00-18:00; sat 09:00-13:00"' in page.text
    assert 'value="6"' in page.text  # the radius in miles

    form = {
        "same_day_cutoff": "12:00",
        "daily_capacity": "45",
        "opening_hours": "mon-fri 08:00-18:00; sat 09:00-13:00",
        "closed_days": "2026-12-24",
        "service_radius_mi": "11",
    }
    refused = client.post("/ops/network/P1", data=form)
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="service_radius_mi-error"' in refused.text
    assert 'value="11"' in refused.text  # what was typed stays in the form
    session.expire_all()
    node = repository.get_node(session, "P1")
    assert node is not None
    assert node.daily_capacity == 40

    saved = client.post("/ops/network/P1", data=form | {"service_radius_mi": "6"})
    assert saved.status_code == 200  # followed the redirect back to the node
    assert "Saved." in saved.text
    session.expire_all()
    node = repository.get_node(session, "P1")
    assert node is not None
    assert node.partner_store is not None
    assert node.daily_capacity == 45
    assert node.partner_store.service_radius_m == 9656  # unchanged text keeps the metres
    [entry] = _edits(session)
    assert set(entry.after or {}) == {"same_day_cutoff", "daily_capacity", "closed_days"}


def test_a_viewer_sees_the_network_read_only(
    client: TestClient, tokens: object, network: None
) -> None:
    sign_in(client, OperatorRole.VIEWER)
    page = client.get("/ops/network/ST1")
    assert page.status_code == 200
    assert "disabled" in page.text
    assert "Save</button>" not in page.text
    assert client.post("/ops/network/ST1", data={"daily_capacity": "5"}).status_code == 403
    assert client.get("/ops/network/NOPE").status_code == 404
