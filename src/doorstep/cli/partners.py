"""`doorstep partners`: an operator invites a partner store's staff, says the morning run has
dropped the batch, and unlocks a parcel after five wrong pick-up codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError

app = typer.Typer(
    help="Partner stores: staff, the morning drop, counter locks.", no_args_is_help=True
)


@app.command("invite")
def invite(
    node_code: Annotated[str, typer.Argument(help="The partner store's node code")],
    email: Annotated[str, typer.Option(help="The staff member's e-mail: where codes go")],
    name: Annotated[str, typer.Option(help="The staff member's name")] = "Store staff",
    pay_cents: Annotated[
        int | None, typer.Option(help="Pay per package the operator offers, cents")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Invite a staff member of a partner store: the account and an API token (shown only
    now). The store finishes its onboarding signed in (location, hours, capacity, radius)."""
    from doorstep.drivers.schemas import normal_email
    from doorstep.partners import accounts

    try:
        address = normal_email(email)
    except ValueError as exc:
        errors.print(f"[red]--email: {exc}[/]")
        raise typer.Exit(2) from None
    if pay_cents is not None and pay_cents < 0:
        errors.print("[red]--pay-cents: at least 0[/]")
        raise typer.Exit(2)
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            invited = accounts.invite(
                session,
                node_code,
                email=address,
                name=name,
                now=datetime.now(UTC),
                pay_per_package_cents=pay_cents,
            )
            result = {"id": invited.staff.id, "token": invited.token}
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result))
        return
    console.print(f"Staff member {name} invited to {node_code} with id {result['id']}.")
    console.print(f"  API token: {result['token']}")
    console.print("[yellow]Give the token to the store now: it is not shown again.[/]")


@app.command("drop")
def drop(
    node_code: Annotated[str, typer.Argument(help="The partner store's node code")],
) -> None:
    """The morning run left today's batch at the store: the scan-in clock starts."""
    from doorstep.partners import accounts, scanin
    from doorstep.settings import get_settings

    minutes = get_settings().store_scan_in_minutes
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            node = accounts.partner_node(session, node_code)
            manifest = scanin.drop(
                session, node, now=datetime.now(UTC), by="operator", scan_minutes=minutes
            )
            deadline = manifest.scan_deadline_at
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"{node_code}: batch dropped; scan it in by {deadline:%H:%M} UTC.")


@app.command("unlock")
def unlock(
    package: Annotated[str, typer.Argument(help="The parcel's tracking code")],
) -> None:
    """Unlock a parcel after five wrong pick-up codes (check who asked first)."""
    from doorstep.partners import counter

    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            counter.unlock(session, package, now=datetime.now(UTC), by="operator")
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"Parcel {package} unlocked: the shopper's code works again.")
