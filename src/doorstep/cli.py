"""The ``doorstep`` command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from doorstep import bench_cli, dispatch_cli, webhooks_cli
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.migrate import current_revision, head_revision, upgrade
from doorstep.planning.loading import DriverPlan
from doorstep.settings import get_settings

app = typer.Typer(
    help="doorstep: run a local same-day / two-day delivery network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
network_app = typer.Typer(
    help="Stations, stores, partner stores, service areas.", no_args_is_help=True
)
merchants_app = typer.Typer(help="Merchant accounts and their keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(merchants_app, name="merchants")
demo_app = typer.Typer(help="A demo day on the example network.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
carrier_app = typer.Typer(
    help="The carrier fallback: labels, handover at the counter, tracking.", no_args_is_help=True
)
app.add_typer(carrier_app, name="carrier")
app.add_typer(network_app, name="network")
app.command("worker")(webhooks_cli.worker)
# `doorstep bench` holds the optimizer's static benchmarks and the dynamic dispatch benchmark.
bench_cli.app.command("dynamic")(dispatch_cli.dynamic)
app.add_typer(
    bench_cli.app,
    name="bench",
    help="Benchmarks: the route optimizer on public instances, dynamic dispatch on ORTEC.",
)

# soft_wrap: a long line (a path, an error) stays one line, so it can be grepped and copied.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def _database() -> Iterator[Engine]:
    """The configured database for the length of one command."""
    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    with _database() as engine:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"[green]Database already at {after}[/] ({where})")
    else:
        console.print(f"[green]Database upgraded {before or 'empty'} → {after}[/] ({where})")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    with _database() as engine:
        revision = current_revision(engine)
    console.print(f"database: {revision or 'empty'}   code: {head_revision()}")
    if revision != head_revision():
        raise typer.Exit(1)


@network_app.command("import")
def network_import(
    files: Annotated[list[Path], typer.Argument(help="CSV or GeoJSON network files")],
) -> None:
    """Import network files. A file with any bad row is reported and nothing of it is written."""
    from doorstep.network.service import import_network_file

    failed = False
    with _database() as engine:
        factory = session_factory(engine)
        for path in files:
            try:
                with unit_of_work(factory) as session:
                    summary = import_network_file(session, path)
            except DomainError as exc:
                failed = True
                errors.print(f"[red]{path}[/]: {exc.detail}", highlight=False)
                continue
            console.print(
                f"[green]{path}[/]: {summary.created} created, {summary.updated} updated, "
                f"{summary.unchanged} unchanged"
            )
    if failed:
        raise typer.Exit(1)


@network_app.command("show")
def network_show() -> None:
    """Summarise the network in the database."""
    from doorstep.network import repository

    with _database() as engine, unit_of_work(session_factory(engine)) as session:
        nodes = repository.list_nodes(session)
        areas = repository.list_service_areas(session)
        table = Table(title=f"Network: {len(nodes)} nodes, {len(areas)} service areas")
        table.add_column("kind", no_wrap=True)
        table.add_column("code", no_wrap=True)
        table.add_column("name")
        table.add_column("lat, lng", no_wrap=True)
        table.add_column("details")
        for node in nodes:
            details = []
            if node.parent is not None:
                details.append(f"in {node.parent.code}")
            if node.partner_store is not None:
                store = node.partner_store
                details.append(f"radius {store.service_radius_m / 1609.344:.1f} mi")
                details.append(f"{len(store.opening_hours)} days/week")
            if node.daily_capacity is not None:
                details.append(f"capacity {node.daily_capacity}/day")
            table.add_row(
                node.kind,
                node.code,
                node.name,
                f"{node.lat:.4f}, {node.lng:.4f}",
                ", ".join(details),
            )
        for area in areas:
            station = area.station.code if area.station else "—"
            table.add_row("service_area", area.code, area.name, "", f"served by {station}")
    console.print(table)


@merchants_app.command("create")
def merchants_create(
    name: Annotated[str, typer.Argument(help="The merchant's name")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to shoppers")] = None,
    store: Annotated[
        list[str] | None, typer.Option(help="Code of a mall or local store it owns (repeat)")
    ] = None,
    console_email: Annotated[str | None, typer.Option(help="Console login e-mail")] = None,
    console_password: Annotated[
        str | None, typer.Option(help="Console password", envvar="DOORSTEP_CONSOLE_PASSWORD")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Create a merchant with a secret and a publishable key. The keys are shown only now."""
    from doorstep.merchants import service

    try:
        with _database() as engine, unit_of_work(session_factory(engine)) as session:
            created = service.create_merchant(
                session, name, display_name=display_name, store_codes=store or []
            )
            if console_email:
                if not console_password:
                    raise typer.BadParameter("--console-password is needed with --console-email")
                service.create_console_user(
                    session, created.merchant, console_email, console_password
                )
            result = {
                "id": created.merchant.id,
                "name": created.merchant.name,
                "secret_key": created.secret_key.plaintext,
                "publishable_key": created.publishable_key.plaintext,
                "stores": list(store or []),
                "console_email": console_email,
            }
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result))
        return
    console.print(f"Merchant [bold]{result['name']}[/] created with id {result['id']}.")
    console.print(f"  secret key:      {result['secret_key']}")
    console.print(f"  publishable key: {result['publishable_key']}")
    console.print("[yellow]Store the keys now: they are not shown again.[/]")


@demo_app.command("seed")
def demo_seed(
    orders: Annotated[int, typer.Option(help="How many orders to place", min=0)] = 300,
    date: Annotated[
        str | None, typer.Option(help="Service date YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
) -> None:
    """Create the demo merchants (once) and place a morning's orders through the real API
    services: promises, stock reservations, packages, events."""
    from datetime import datetime as _datetime
    from zoneinfo import ZoneInfo

    from doorstep.demo.seed import morning_of, seed_demo_day

    day = (
        _datetime.fromisoformat(date).replace(tzinfo=ZoneInfo("America/Phoenix")) if date else None
    )
    order_time = morning_of(day)
    status = console.status(f"Placing {orders} orders at {order_time:%Y-%m-%d %H:%M %Z}…")
    with status, _database() as engine, unit_of_work(session_factory(engine)) as session:
        summary = seed_demo_day(session, orders=orders, order_time=order_time, seed=seed)
    again = f" ({summary.replayed} already placed by an earlier run)" if summary.replayed else ""
    table = Table(title=f"Demo day {order_time:%a %d %b %Y}: {summary.orders} orders placed{again}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for speed, count in sorted(summary.orders_by_speed.items()):
        table.add_row(f"orders {speed}", str(count))
    for channel, count in sorted(summary.packages_by_channel.items()):
        table.add_row(f"packages by {channel} (all in the database)", str(count))
    for reason, count in sorted(summary.refused.items()):
        table.add_row(f"refused: {reason}", str(count))
    console.print(table)
    for name, access in summary.merchants.items():
        console.print(
            f"[bold]{name}[/]: console {access['console_email']} / doorstep-demo, "
            f"secret key {access['secret_key']}, "
            f"publishable key {access['publishable_key']}"
        )


@app.command("plan")
def plan_command(
    date: Annotated[
        str | None, typer.Option(help="Service date YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option(help="Station code (repeat; default: every station)")
    ] = None,
    drivers: Annotated[int, typer.Option(help="Drivers expected at each station", min=0)] = 30,
    mall_drivers: Annotated[int, typer.Option(help="Drivers expected at the mall", min=0)] = 6,
    time_limit: Annotated[float, typer.Option(help="Routing seconds per station")] = 20.0,
    seed: Annotated[int, typer.Option(help="Random seed (same wave + seed → same plan)")] = 1,
    force: Annotated[
        bool, typer.Option(help="Plan again even if the wave has not changed")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="A same-day dispatch moment HH:MM (station time): plan the orders placed by "
            "then, and hold back the same-day parcels better sent with a later wave"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Plan the day's waves: the cheapest channel per package, routes cut into blocks, partner
    manifests, carrier shipments. Stores the plan and writes an HTML page per station."""
    from datetime import time as _time

    from doorstep import plan_cli

    settings = get_settings()
    day = _service_date(date)
    try:
        dispatch_at = _time.fromisoformat(at) if at else None
    except ValueError:
        errors.print(f"[red]--at must be a clock time HH:MM, not '{at}'[/]")
        raise typer.Exit(2) from None
    pages = settings.data_dir / "plans"
    pages.mkdir(parents=True, exist_ok=True)
    try:
        with _database() as engine:
            results = plan_cli.plan_stations(
                session_factory(engine),
                station,
                day,
                pages,
                DriverPlan(drivers, mall_drivers),
                time_limit,
                seed,
                force,
                progress_to=None if as_json else console,
                dispatch_at=dispatch_at,
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(results))
        return
    console.print(plan_cli.summary_table(day, results))
    for r in results:
        unchanged = "" if r["new_plan"] else " (wave unchanged: the stored plan stands)"
        console.print(f"{r['station']}: {r['page']}{unchanged}")
        for item in r["unassigned"]:
            console.print(f"  unassigned {item['package']}: {item['reason']}")
        if r["held"]:
            console.print(
                f"  held for the next wave: {len(r['held'])} same-day parcels "
                "(the dispatch policy expects orders they can share a block with)"
            )


def _service_date(text: str | None) -> date:
    """``YYYY-MM-DD``, or today in Chandler (the example network's day)."""
    from datetime import datetime as _datetime
    from zoneinfo import ZoneInfo

    if text:
        return date.fromisoformat(text)
    return _datetime.now(ZoneInfo("America/Phoenix")).date()


@carrier_app.command("labels")
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
    from doorstep import carrier_cli
    from doorstep.logs import configure_logging
    from doorstep.planning.labels import LabelStatus

    settings = get_settings()
    # Each label bought is logged (stderr): the trail to find it again if a run dies.
    configure_logging(level=settings.log_level, json=settings.log_json)
    day = _service_date(date)
    with _database() as engine:
        run = carrier_cli.buy_with_progress(
            session_factory(engine),
            day,
            settings.data_dir,
            retry_interrupted=retry_interrupted,
            console=errors,
            quiet=as_json,
        )
    if as_json:
        print(json.dumps(carrier_cli.as_json(run)))
    elif run.outcomes:
        console.print(carrier_cli.table(run))
        console.print(f"Label PDFs: {settings.data_dir / 'labels'}/<tracking number>.pdf")
        for line in carrier_cli.problems(run):
            console.print(line)
    else:
        console.print(f"No carrier shipments planned for {day}.")
    if run.count(LabelStatus.SKIPPED):
        raise typer.Exit(1)


@carrier_app.command("hand-over")
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
    import sys
    from datetime import UTC
    from datetime import datetime as _datetime

    from doorstep import carrier_cli
    from doorstep.planning.handover import hand_over

    if not tracking_numbers and sys.stdin.isatty() and not as_json:
        errors.print("Scan each label as the carrier takes it; Ctrl-D when done.")
    scans = tracking_numbers or (line for line in sys.stdin if line.strip())
    outcomes = []
    with _database() as engine:
        sessions = session_factory(engine)
        for scan in scans:
            with unit_of_work(sessions) as session:
                [outcome] = hand_over(session, [scan], at=_datetime.now(UTC), location=location)
            outcomes.append(outcome)
            if not as_json:
                console.print(carrier_cli.handover_line(outcome))
    if as_json:
        print(json.dumps(carrier_cli.handover_json(outcomes)))
    elif not outcomes:
        console.print("Nothing scanned.")
    if not all(o.goes for o in outcomes):
        raise typer.Exit(1)


@carrier_app.command("track")
def carrier_track(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Ask the configured carrier (DOORSTEP_CARRIER_*) about every parcel handed over to it
    and not delivered yet; record each delivery it reports (package delivered, with the
    carrier's time). Run it from a timer; running again records nothing twice."""
    from doorstep import carrier_cli

    with _database() as engine:
        outcomes = carrier_cli.track_with_progress(
            session_factory(engine), console=errors, quiet=as_json
        )
    if as_json:
        print(json.dumps(carrier_cli.tracking_json(outcomes)))
    elif outcomes:
        console.print(carrier_cli.tracking_table(outcomes))
    else:
        console.print("No parcels with a carrier.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    with _database() as engine:
        revision, expected = current_revision(engine), head_revision()
    if revision != expected:
        errors.print(
            f"[red]The database is at {revision or 'empty'}, the code expects "
            f"{expected}: run 'doorstep db upgrade' first.[/]"
        )
        raise typer.Exit(1)
    console.print(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "doorstep.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


if __name__ == "__main__":
    app()
