"""Planning from the console's form: plan, keep, re-plan, refused input, and the roles."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.models import AuditEntry, OperatorRole, Plan
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES
from tests.ops.test_pages import sign_in
from tests.shop import local

DAY = date(2026, 11, 24)
FORM = {"station": "DCH1", "date": str(DAY), "drivers": "6", "mall_drivers": "2"}


def test_a_dispatcher_plans_and_replans_a_wave_from_the_form(
    client: TestClient, session: Session, tokens: object
) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=20, order_time=local(9))
    session.commit()
    sign_in(client, OperatorRole.DISPATCHER)
    form = client.get("/ops/plans/new?station=DCH1")
    assert form.status_code == 200
    assert '<option value="DCH1" selected>' in form.text
    assert 'src="/assets/ops/plan-form.js"' in form.text
    assert client.get("/assets/ops/plan-form.js").status_code == 200
    assert 'href="/ops/plans/new"' in client.get("/ops/plans").text

    planned = client.post("/ops/plans/new", data=FORM | {"time_limit_s": "1"})
    assert planned.status_code == 200, planned.text
    assert "Planned." in planned.text
    plan_id = int(str(planned.url).rsplit("/", 1)[1].split("?")[0])
    assert f"Plan #{plan_id} · DCH1 · {DAY}" in planned.text
    plan = session.get(Plan, plan_id)
    assert plan is not None
    assert plan.totals["packages"] > 0
    [entry] = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "plans.create", AuditEntry.subject_type == "plan"
        )
    ).all()
    assert entry.actor == "dispatcher@ops.example.com"
    assert entry.subject_id == str(plan_id)
    assert entry.after is not None
    assert entry.after["station"] == "DCH1"

    kept = client.post("/ops/plans/new", data=FORM | {"time_limit_s": "1"})
    assert "it stands" in kept.text
    assert str(kept.url).startswith(f"{client.base_url}/ops/plans/{plan_id}?")

    again = client.post("/ops/plans/new", data=FORM | {"time_limit_s": "1", "force": "1"})
    assert "Re-planned" in again.text
    assert not str(again.url).startswith(f"{client.base_url}/ops/plans/{plan_id}?")


def test_the_form_refuses_bad_input_naming_the_field(
    client: TestClient, session: Session, tokens: object
) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    session.commit()
    sign_in(client, OperatorRole.ADMIN)
    wrong = client.post("/ops/plans/new", data=FORM | {"drivers": "-1"})
    assert wrong.status_code == 422
    assert 'aria-invalid="true" aria-describedby="drivers-error"' in wrong.text
    assert 'value="-1"' in wrong.text
    too_long = client.post("/ops/plans/new", data=FORM | {"time_limit_s": "9000"})
    assert too_long.status_code == 422
    assert 'aria-describedby="time_limit_s-error"' in too_long.text
    unknown = client.post("/ops/plans/new", data=FORM | {"station": "NOPE"})
    assert unknown.status_code == 404
    assert "NOPE" in unknown.text
    assert session.scalar(select(Plan.id)) is None


def test_a_viewer_may_not_plan(client: TestClient, tokens: object) -> None:
    sign_in(client, OperatorRole.VIEWER)
    assert client.get("/ops/plans/new").status_code == 403
    assert client.post("/ops/plans/new", data=FORM).status_code == 403
    assert 'href="/ops/plans/new"' not in client.get("/ops/plans").text
