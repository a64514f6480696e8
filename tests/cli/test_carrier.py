"""`doorstep carrier labels` on a database of its own: a label bought once, a refusal reported."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli import app
from doorstep.db import create_db_engine, session_factory, unit_of_work
from tests.factories import make_planned_carrier_shipment

runner = CliRunner()
DAY = date(2026, 11, 24)


def test_labels_are_bought_once_and_what_cannot_be_labelled_is_reported(
    own_database: Path,
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = create_db_engine(f"sqlite:///{own_database}")
    with unit_of_work(session_factory(engine)) as session:
        make_planned_carrier_shipment(session, DAY)
        make_planned_carrier_shipment(session, DAY, dest_city=None)
    engine.dispose()

    first = runner.invoke(app, ["carrier", "labels", "--date", str(DAY), "--json"])

    assert first.exit_code == 1, first.output  # one shipment is left without a label
    result = json.loads(first.stdout)
    assert (result["bought"], result["already_labelled"], result["skipped"]) == (1, 0, 1)
    [bought] = [label for label in result["labels"] if label["status"] == "bought"]
    assert bought["tracking_number"].startswith("DS")
    label_file = Path(bought["label_file"])
    assert label_file == own_database.parent / "var" / "labels" / f"{bought['tracking_number']}.pdf"
    assert label_file.read_bytes().startswith(b"%PDF")
    [skipped] = [label for label in result["labels"] if label["status"] == "skipped"]
    assert skipped["reason"] == "address_incomplete"

    again = runner.invoke(app, ["carrier", "labels", "--date", str(DAY)])

    assert again.exit_code == 1
    assert "0 bought, 1 already labelled, 1 skipped" in again.stdout
    assert f"{skipped['package']}: address_incomplete order" in again.stdout
    assert "has no city" in again.stdout
    assert len(list(label_file.parent.iterdir())) == 1


def test_a_day_without_carrier_shipments_says_so(own_database: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["carrier", "labels", "--date", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "No carrier shipments planned for 2026-11-25." in result.stdout


def test_track_records_nothing_for_the_counter_carrier_and_says_why(own_database: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = create_db_engine(f"sqlite:///{own_database}")
    with unit_of_work(session_factory(engine)) as session:
        make_planned_carrier_shipment(session, DAY)
    engine.dispose()
    # Labelled is not yet with the carrier.
    labels = json.loads(
        runner.invoke(app, ["carrier", "labels", "--date", str(DAY), "--json"]).stdout
    )
    number = labels["labels"][0]["tracking_number"]
    assert runner.invoke(app, ["carrier", "track"]).stdout.strip() == "No parcels with a carrier."
    assert runner.invoke(app, ["carrier", "hand-over", number]).exit_code == 0

    result = runner.invoke(app, ["carrier", "track", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["not_tracked"], body["delivered"]) == (1, 0)
    assert body["parcels"][0]["tracking_number"] == number
    assert body["not_with_a_carrier"] == []

    one = runner.invoke(app, ["carrier", "track", "--number", number, "--number", "DS0BOGUS"])

    assert one.exit_code == 1
    assert "1 not tracked" in one.stdout
    assert "DS0BOGUS: no parcel handed over to a carrier and not delivered" in one.stderr
    empty = runner.invoke(app, ["carrier", "track", "--number", " "])
    assert (empty.exit_code, empty.stderr.strip()) == (2, "--number: a tracking number is empty")
