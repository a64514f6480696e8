"""`doorstep drivers`: an operator onboards a driver in person, lists drivers, changes status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich import box
from rich.table import Table

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError

app = typer.Typer(help="Gig drivers: onboarding, status.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The driver's name")],
    email: Annotated[str, typer.Option(help="E-mail: where sign-in codes go")],
    station: Annotated[str, typer.Option(help="Home station code")],
    vehicle_litres: Annotated[int, typer.Option(help="Usable cargo volume of the car, litres")],
    vehicle: Annotated[str, typer.Option(help="The car, as the driver describes it")] = "Own car",
    payload_kg: Annotated[int, typer.Option(help="What the car may carry, kg")] = 300,
    phone: Annotated[str | None, typer.Option(help="Phone with country code")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Onboard a driver in person: the account, its car, and an API token (shown only now).
    The driver is available every day until they set their own hours."""
    from doorstep.drivers import accounts
    from doorstep.drivers.schemas import VehicleIn, normal_email, normal_phone

    try:
        car = VehicleIn(description=vehicle, cargo_litres=vehicle_litres, payload_kg=payload_kg)
        address = normal_email(email)
        number = normal_phone(phone) if phone else None
    except (ValidationError, ValueError) as exc:
        errors.print(f"[red]{_first_problem(exc)}[/]")
        raise typer.Exit(2) from None
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            onboarded = accounts.create_driver(
                session,
                name=name,
                email=address,
                phone=number,
                station_code=station,
                vehicle=car,
                now=datetime.now(UTC),
            )
            result = {"id": onboarded.driver.id, "token": onboarded.token}
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result))
        return
    console.print(f"Driver [bold]{name}[/] created with id {result['id']} at {station}.")
    console.print(f"  API token: {result['token']}")
    console.print("[yellow]Give the token to the driver now: it is not shown again.[/]")


@app.command("list")
def list_drivers(
    station: Annotated[str | None, typer.Option(help="Only this home station")] = None,
) -> None:
    """Every driver with status, home station and car."""
    from doorstep.drivers import accounts

    with database() as engine, unit_of_work(session_factory(engine)) as session:
        rows = accounts.roster(session, station)
        table = Table(title=f"{len(rows)} drivers", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("id", "name", "status", "station", "car"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(str(row.id), row.name, row.status, row.station or "—", row.car or "—")
    console.print(table)


@app.command("set-status")
def set_status(
    driver_id: Annotated[int, typer.Argument(help="The driver's id")],
    status: Annotated[str, typer.Argument(help="active, paused or deactivated")],
) -> None:
    """An operator's decision: deactivate an account (its tokens stop working), or restore it."""
    from doorstep.drivers import accounts
    from doorstep.models import DriverStatus

    try:
        wanted = DriverStatus(status)
    except ValueError:
        errors.print(f"[red]status must be one of {', '.join(s.value for s in DriverStatus)}[/]")
        raise typer.Exit(2) from None
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            accounts.set_status(session, accounts.get_driver(session, driver_id), wanted)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"Driver {driver_id} is now {wanted.value}.")


def _first_problem(exc: ValidationError | ValueError) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        field = {"cargo_litres": "--vehicle-litres", "payload_kg": "--payload-kg"}.get(where, where)
        return f"{field}: {error['msg']}"
    return str(exc)
