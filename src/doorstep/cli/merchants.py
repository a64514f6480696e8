"""`doorstep merchants`: merchant accounts and their keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError

app = typer.Typer(help="Merchant accounts and their keys.", no_args_is_help=True)


@app.command("create")
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
        with database() as engine, unit_of_work(session_factory(engine)) as session:
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
