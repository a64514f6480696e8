"""`doorstep network`: import network files and show what the database holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError

app = typer.Typer(help="Stations, stores, partner stores, service areas.", no_args_is_help=True)


@app.command("import")
def network_import(
    files: Annotated[list[Path], typer.Argument(help="CSV or GeoJSON network files")],
) -> None:
    """Import network files. A file with any bad row is reported and nothing of it is written."""
    from doorstep.network.service import import_network_file

    failed = False
    with database() as engine:
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


@app.command("show")
def network_show() -> None:
    """Summarise the network in the database."""
    from doorstep.network import repository

    with database() as engine, unit_of_work(session_factory(engine)) as session:
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
