"""`doorstep network`: import network files and show what the database holds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.models import Node, ServiceArea

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
    """Summarise the network in the database, by kind of node."""
    from doorstep.network import repository

    with database() as engine, unit_of_work(session_factory(engine)) as session:
        nodes = repository.list_nodes(session)
        areas = repository.list_service_areas(session)
        console.print(network_table(nodes, areas))


# Sections of `network show`, in the order a package flows through them.
_KINDS = {
    "station": "Delivery stations",
    "warehouse": "Warehouses",
    "mall": "Malls",
    "mall_store": "Mall stores",
    "local_store": "Local stores",
    "partner_store": "Partner stores",
}


def network_table(nodes: Sequence[Node], areas: Sequence[ServiceArea]) -> Table:
    """One section per kind; names wrap on words, never cut, so it reads at 80 columns."""
    table = Table(
        title=f"Network: {len(nodes)} nodes, {len(areas)} service areas",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("code", no_wrap=True)
    table.add_column("name", overflow="fold", ratio=3)
    table.add_column("details", overflow="fold", ratio=4)
    by_kind: dict[str, list[Node]] = {}
    for node in nodes:
        by_kind.setdefault(node.kind.value, []).append(node)
    for kind, title in _KINDS.items():
        if kind not in by_kind:
            continue
        table.add_row(f"[bold]{title}[/]", "", "")
        for node in by_kind[kind]:
            table.add_row(node.code, node.name, _details(node))
        table.add_section()
    if areas:
        table.add_row("[bold]Service areas[/]", "", "")
    for area in areas:
        station = area.station.code if area.station else "—"
        table.add_row(area.code, area.name, f"served by {station}")
    return table


def _details(node: Node) -> str:
    details = []
    if node.parent is not None:
        details.append(f"in {node.parent.code}")
    if node.partner_store is not None:
        store = node.partner_store
        details.append(f"{store.service_radius_m / 1609.344:.0f} mi radius")
        details.append(f"open {len(store.opening_hours)} days a week")
    if node.daily_capacity is not None:
        details.append(f"capacity {node.daily_capacity:,}/day")
    # A no-break space: the point stays on one line when the details wrap.
    details.append(f"{node.lat:.4f},\u00a0{node.lng:.4f}")
    return "; ".join(details)
