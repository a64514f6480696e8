"""`doorstep carrier labels`, `hand-over` and `track`: buy the labels of a day's carrier
shipments and follow the parcels with the carrier, with progress bars; answer each counter
scan.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from doorstep.carriers import CarrierSettings, carrier_from_settings
from doorstep.cli.common import console, database, errors, service_date
from doorstep.db import session_factory, unit_of_work
from doorstep.logs import configure_logging
from doorstep.settings import get_settings
from doorstep.shipments.handover import HandoverOutcome, HandoverStatus, hand_over
from doorstep.shipments.labels import LabelOutcome, LabelRun, LabelStatus, buy_labels
from doorstep.shipments.tracking import TrackOutcome, TrackStatus, refresh_tracking

app = typer.Typer(
    help="The carrier fallback: labels, handover at the counter, tracking.", no_args_is_help=True
)


def buy_with_progress(
    sessions: sessionmaker[Session],
    day: date,
    data_dir: Path,
    *,
    retry_interrupted: bool,
    console: Console,
    quiet: bool,
) -> LabelRun:
    """Buy with the configured carrier (``DOORSTEP_CARRIER_*``; the counter by default)."""
    carrier = carrier_from_settings(CarrierSettings())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"Buying {carrier.name} labels for {day}", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return buy_labels(
            sessions,
            day,
            carrier,
            data_dir,
            retry_interrupted=retry_interrupted,
            progress=show,
        )


def track_with_progress(
    sessions: sessionmaker[Session],
    *,
    numbers: list[str] | None = None,
    console: Console,
    quiet: bool,
) -> list[TrackOutcome]:
    """Ask the configured carrier about every parcel it has (or those of ``numbers``);
    record what it delivered."""
    carrier = carrier_from_settings(CarrierSettings())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"Tracking with {carrier.name}", total=None)
        return refresh_tracking(
            sessions,
            carrier,
            numbers=numbers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def tracking_table(outcomes: list[TrackOutcome]) -> Table:
    found = [(status, sum(o.status is status for o in outcomes)) for status in TrackStatus]
    counts = ", ".join(f"{n} {status.value.replace('_', ' ')}" for status, n in found if n)
    table = Table(title=f"Parcels with a carrier: {counts}")
    table.add_column("package", overflow="fold")
    table.add_column("carrier, number", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("latest", overflow="fold")
    for o in outcomes:
        colour = "green" if o.status is TrackStatus.DELIVERED else "yellow"
        if o.status is TrackStatus.ON_THE_WAY:
            colour = "default"
        table.add_row(
            escape(o.package),
            escape(f"{o.carrier}\n{o.tracking_number}"),
            f"[{colour}]{o.status.value.replace('_', ' ')}[/]",
            escape(o.detail),
        )
    return table


def tracking_json(outcomes: list[TrackOutcome]) -> dict[str, Any]:
    return {
        **{status.value: sum(o.status is status for o in outcomes) for status in TrackStatus},
        "parcels": [
            {
                "package": o.package,
                "carrier": o.carrier,
                "tracking_number": o.tracking_number,
                "status": o.status.value,
                "carrier_status": o.last.value,
                "detail": o.detail,
            }
            for o in outcomes
        ],
    }


def labels_json(run: LabelRun) -> dict[str, Any]:
    return {
        "date": str(run.service_date),
        **{status.value: run.count(status) for status in LabelStatus},
        "labels": [
            {
                "package": o.package,
                "status": o.status.value,
                "carrier": o.carrier,
                "service": o.service,
                "rate_cents": o.rate_cents,
                "currency": o.currency,
                "tracking_number": o.tracking_number,
                "label_file": str(o.label_file) if o.label_file else None,
                "reason": o.reason.value if o.reason else None,
                "detail": o.detail,
            }
            for o in run.outcomes
        ],
    }


def labels_table(run: LabelRun) -> Table:
    """One row per shipment, narrow enough for 80 columns: the PDFs are named after their
    tracking number; why a shipment has no label is in `problems`."""
    counts = ", ".join(
        f"{run.count(status)} {status.value.replace('_', ' ')}" for status in LabelStatus
    )
    table = Table(title=f"Carrier labels for {run.service_date}: {counts}")
    table.add_column("package", overflow="fold")
    table.add_column("carrier, service", overflow="fold")
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("tracking number", overflow="fold")
    table.add_column("label", no_wrap=True)
    for o in run.outcomes:
        table.add_row(
            escape(o.package),
            escape(f"{o.carrier}\n{o.service}"),
            _money(o),
            escape(o.tracking_number or ""),
            _result(o),
        )
    return table


def label_problems(run: LabelRun) -> list[str]:
    """Why each skipped shipment has no label, one line each."""
    return [
        f"{escape(o.package)}: [yellow]{o.reason.value if o.reason else 'skipped'}[/] "
        f"{escape(o.detail or '')}"
        for o in run.outcomes
        if o.status is LabelStatus.SKIPPED
    ]


def _money(outcome: LabelOutcome) -> str:
    if outcome.rate_cents is None:
        return ""
    currency = "" if outcome.currency in (None, "USD") else f" {outcome.currency}"
    return f"${outcome.rate_cents / 100:,.2f}{currency}"


def _result(outcome: LabelOutcome) -> str:
    if outcome.status is LabelStatus.SKIPPED:
        return f"[yellow]{outcome.reason.value if outcome.reason else 'skipped'}[/]"
    return "new PDF" if outcome.status is LabelStatus.BOUGHT else "[dim]earlier[/]"


def handover_line(outcome: HandoverOutcome) -> str:
    """One line per scan, the verdict first: the person at the counter reads only that."""
    verdict = {
        HandoverStatus.HANDED_OVER: "[green]GOES[/]",
        HandoverStatus.ALREADY_HANDED_OVER: "[green]GOES[/] (scanned before)",
    }.get(outcome.status, "[red]KEEP[/]")
    package = f" {escape(outcome.package)}" if outcome.package else ""
    carrier = f" ({escape(outcome.carrier)})" if outcome.carrier else ""
    return f"{verdict} {escape(outcome.scanned)}{package}{carrier}: {escape(outcome.detail)}"


def handover_json(outcomes: list[HandoverOutcome]) -> dict[str, Any]:
    return {
        "handed_over": sum(o.status is HandoverStatus.HANDED_OVER for o in outcomes),
        "refused": sum(not o.goes for o in outcomes),
        "scans": [{**asdict(o), "status": o.status.value, "goes": o.goes} for o in outcomes],
    }


@app.command("labels")
def carrier_labels(
    date: Annotated[
        str | None, typer.Option(help="Service date YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    retry_interrupted: Annotated[
        bool,
        typer.Option(
            help="Ask again for shipments an interrupted run left waiting for a label "
            "(check the carrier's account for them first)"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Buy the labels of the day's planned carrier shipments with the configured carrier
    (DOORSTEP_CARRIER_*; the counter's manual labels by default) and write each PDF to
    <data dir>/labels/. Labelled shipments are skipped; exits 1 if any is left without one."""

    settings = get_settings()
    # Each label bought is logged (stderr): the trail to find it again if a run dies.
    configure_logging(level=settings.log_level, json=settings.log_json)
    day = service_date(date)
    with database() as engine:
        run = buy_with_progress(
            session_factory(engine),
            day,
            settings.data_dir,
            retry_interrupted=retry_interrupted,
            console=errors,
            quiet=as_json,
        )
    if as_json:
        print(json.dumps(labels_json(run)))
    elif run.outcomes:
        console.print(labels_table(run))
        console.print(f"Label PDFs: {settings.data_dir / 'labels'}/<tracking number>.pdf")
        for line in label_problems(run):
            console.print(line)
    else:
        console.print(f"No carrier shipments planned for {day}.")
    if run.count(LabelStatus.SKIPPED):
        raise typer.Exit(1)


@app.command("hand-over")
def carrier_hand_over(
    tracking_numbers: Annotated[
        list[str] | None,
        typer.Argument(help="Tracking numbers as scanned; none: read one per line from stdin"),
    ] = None,
    location: Annotated[
        str | None, typer.Option(help="Where the carrier took them (a counter, a dock)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Hand labelled parcels over to their carrier: each scan marks its shipment handed over
    and its package handed_to_carrier, committed as it is scanned. A barcode scanner types
    into stdin: one answer per line, at once. Exits 1 if any scan was refused."""
    from datetime import UTC
    from datetime import datetime as _datetime

    if not tracking_numbers and sys.stdin.isatty() and not as_json:
        errors.print("Scan each label as the carrier takes it; Ctrl-D when done.")
    scans = tracking_numbers or (line for line in sys.stdin if line.strip())
    outcomes = []
    with database() as engine:
        sessions = session_factory(engine)
        for scan in scans:
            with unit_of_work(sessions) as session:
                [outcome] = hand_over(session, [scan], at=_datetime.now(UTC), location=location)
            outcomes.append(outcome)
            if not as_json:
                console.print(handover_line(outcome))
    if as_json:
        print(json.dumps(handover_json(outcomes)))
    elif not outcomes:
        console.print("Nothing scanned.")
    if not all(o.goes for o in outcomes):
        raise typer.Exit(1)


@app.command("track")
def carrier_track(
    numbers: Annotated[
        list[str] | None,
        typer.Option(
            "--number",
            help="Ask only about this tracking number (repeat the option for more)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Ask the configured carrier (DOORSTEP_CARRIER_*) about every parcel handed over to it
    and not delivered yet; record each delivery it reports (package delivered, with the
    carrier's time). Run it from a timer; running again records nothing twice."""

    wanted = [n.strip() for n in numbers] if numbers is not None else None
    if wanted is not None and not all(wanted):
        errors.print("--number: a tracking number is empty")
        raise typer.Exit(2)
    with database() as engine:
        outcomes = track_with_progress(
            session_factory(engine), numbers=wanted, console=errors, quiet=as_json
        )
    missing = sorted(set(wanted or ()) - {o.tracking_number for o in outcomes})
    if as_json:
        print(json.dumps({**tracking_json(outcomes), "not_with_a_carrier": missing}))
    elif outcomes:
        console.print(tracking_table(outcomes))
    elif not missing:
        console.print("No parcels with a carrier.")
    for number in missing:
        errors.print(
            f"{escape(number)}: no parcel handed over to a carrier and not delivered has "
            "this tracking number"
        )
    if missing:
        raise typer.Exit(1)
