"""A driver's week: pay, adjustments, hours, miles, pay per hour, the car's cost, the CSV."""

from __future__ import annotations

import csv
import io

from doorstep.drivers.earnings import METRES_PER_MILE
from doorstep.models import PayAdjustment
from tests.drivers.road import Road
from tests.shop import local


def test_the_week_lists_worked_blocks_with_pay_adjustments_and_the_cars_cost(road: Road) -> None:
    empty = road.client.get("/v1/driver/earnings?week=2026-W48", headers=road.headers).json()
    assert empty["blocks"] == []  # accepted, not yet worked
    road.check_in()
    road.session.add_all(
        [
            PayAdjustment(
                block_id=road.block.id,
                amount_cents=750,
                reason="long wait at the station",
                created_at=local(15),
                created_by="operator",
            ),
            PayAdjustment(
                block_id=road.block.id,
                amount_cents=-200,
                reason='=HYPERLINK("http://evil")',
                created_at=local(14),
                created_by="operator",
            ),
        ]
    )
    road.session.flush()
    answer = road.client.get("/v1/driver/earnings?week=2026-W48", headers=road.headers)
    assert answer.status_code == 200, answer.text
    week = answer.json()
    assert (week["starts_on"], week["ends_on"]) == ("2026-11-23", "2026-11-29")
    [block] = week["blocks"]
    hours = (road.block.ends_at - road.block.starts_at).total_seconds() / 3600
    miles = road.block.estimated_distance_m / METRES_PER_MILE
    assert block["block_id"] == road.block.id
    assert block["date"] == "2026-11-24"
    assert block["hours"] == round(hours, 2)
    assert block["pay_cents"] == road.block.pay_cents
    assert [a["amount_cents"] for a in block["adjustments"]] == [-200, 750]
    assert block["adjustments"][1]["reason"] == "long wait at the station"
    total = road.block.pay_cents + 550
    assert block["total_cents"] == week["total_cents"] == total
    assert block["vehicle_cost_cents"] == round(miles * 72.5)
    assert block["net_cents"] == total - block["vehicle_cost_cents"]
    assert block["pay_per_hour_cents"] == round(total / hours)
    assert week["adjustments_cents"] == 550
    other = road.client.get("/v1/driver/earnings?week=2026-W49", headers=road.headers).json()
    assert other["blocks"] == []
    # Without a week: this week at the driver's home station.
    road.set_clock(local(12))
    assert road.client.get("/v1/driver/earnings", headers=road.headers).json()["week"] == "2026-W48"

    statement = road.client.get("/v1/driver/earnings.csv?week=2026-W48", headers=road.headers)
    assert statement.status_code == 200
    assert statement.headers["content-type"].startswith("text/csv")
    assert "earnings-2026-W48.csv" in statement.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(statement.text)))
    assert len(rows) == 2
    assert rows[0]["pay"] == f"{road.block.pay_cents / 100:.2f}"
    assert rows[0]["adjustments"] == "5.50"
    # A text cell a spreadsheet would run as a formula is quoted; amounts stay numbers.
    assert rows[0]["adjustment_reasons"] == (
        '\'-2.00 =HYPERLINK("http://evil"); 7.50 long wait at the station'
    )
    assert rows[1]["date"] == "week 2026-W48"


def test_a_malformed_week_is_refused(road: Road) -> None:
    for bad in ("2026-48", "2026-W54", "W48"):
        answer = road.client.get(f"/v1/driver/earnings?week={bad}", headers=road.headers)
        assert answer.status_code == 422
        assert answer.json()["error"] == "invalid_week"
        assert answer.json()["context"]["field"] == "week"
