"""`doorstep users`: the operator's people (create, list, tokens, revoke)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.models import OperatorRole

app = typer.Typer(help="Operator accounts: roles, passwords, API tokens.", no_args_is_help=True)

ROLES = ", ".join(r.value for r in OperatorRole)


def _role(text: str) -> OperatorRole:
    try:
        return OperatorRole(text.strip().lower())
    except ValueError:
        errors.print(f"[red]'{text}' is not a role; choose one of {ROLES}[/]")
        raise typer.Exit(2) from None


def _ask_password() -> str:
    # On stderr: with --json, stdout carries the one JSON object only.
    answer: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return answer


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The person's e-mail (their sign-in)")],
    role: Annotated[str, typer.Option(help=f"One of {ROLES}")],
    name: Annotated[str | None, typer.Option(help="Their name as the console shows it")] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a console password (else API only)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """An operator account and its first API token (shown only now)."""
    from doorstep.ops import audit, users

    chosen = _role(role)
    secret = _ask_password() if password else None
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            made = users.create_operator(
                session,
                email,
                chosen,
                name=name,
                password=secret,
                by=audit.COMMAND_LINE,
                now=datetime.now(UTC),
            )
            result = {"id": made.user.id, "token": made.token}
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result))
        return
    console.print(f"Operator [bold]{email}[/] ({chosen}) created with id {result['id']}.")
    console.print(f"  API token: {result['token']}")
    console.print("[yellow]Keep the token now: it is not shown again.[/]")


@app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array")] = False,
) -> None:
    """Every operator account with its role and whether it is active."""
    from doorstep.ops import users

    with database() as engine, unit_of_work(session_factory(engine)) as session:
        rows = [
            {"id": u.id, "email": u.email, "name": u.name, "role": u.role.value, "active": u.active}
            for u in users.list_operators(session)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title=f"{len(rows)} operators", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "email", "name", "role", "active"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("id", "email", "name", "role", "active")))
    console.print(table)


@app.command("tokens")
def tokens(
    email: Annotated[str | None, typer.Argument(help="Only this operator's tokens")] = None,
) -> None:
    """Operators' API tokens and page sessions: their public prefix, when made, if revoked."""
    from doorstep.ops import users

    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            user_id = users.find_by_email(session, email).id if email else None
            rows = users.list_tokens(session, user_id)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    table = Table(title=f"{len(rows)} tokens", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "operator", "prefix", "label", "created", "revoked"):
        table.add_column(column, overflow="fold")
    for t in rows:
        table.add_row(
            str(t.id),
            t.email,
            t.prefix,
            t.label or "",
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    console.print(table)


@app.command("new-token")
def new_token(
    email: Annotated[str, typer.Argument(help="The operator's e-mail")],
    label: Annotated[str | None, typer.Option(help="What the token is for")] = None,
) -> None:
    """Another API token for an operator (shown only now)."""
    from doorstep.ops import audit, users

    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            user = users.find_by_email(session, email)
            token = users.issue_token(
                session, user.id, label=label, by=audit.COMMAND_LINE, now=datetime.now(UTC)
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    print(token)


@app.command("revoke-token")
def revoke_token(
    token: Annotated[str, typer.Argument(help="The token's id, its prefix (opr_…) or itself")],
) -> None:
    """Revoke an operator's API token or page session: it stops working at once."""
    from doorstep.ops import audit, users

    now = datetime.now(UTC)
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            if token.isdigit():
                view = users.revoke_token(session, int(token), by=audit.COMMAND_LINE, now=now)
            else:
                prefix = "_".join(token.strip().split("_")[:2])
                view = users.revoke_token_by_prefix(session, prefix, by=audit.COMMAND_LINE, now=now)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"Token {view.prefix} of {view.email} revoked.")


@app.command("set-role")
def set_role(
    email: Annotated[str, typer.Argument(help="The operator's e-mail")],
    role: Annotated[str, typer.Argument(help=f"One of {ROLES}")],
) -> None:
    """Change an operator's role (their tokens and sessions follow at once)."""
    chosen = _role(role)
    _update(email, role=chosen, active=None)
    console.print(f"{email} is now {chosen}.")


@app.command("deactivate")
def deactivate(email: Annotated[str, typer.Argument(help="The operator's e-mail")]) -> None:
    """Close an account: its tokens and page sessions stop working at once."""
    _update(email, role=None, active=False)
    console.print(f"{email} is deactivated.")


def _update(email: str, *, role: OperatorRole | None, active: bool | None) -> None:
    from doorstep.ops import audit, users

    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            user = users.find_by_email(session, email)
            users.update_operator(
                session,
                user.id,
                role=role,
                active=active,
                name=None,
                by=audit.COMMAND_LINE,
                now=datetime.now(UTC),
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None


@app.command("set-password")
def set_password(email: Annotated[str, typer.Argument(help="The operator's e-mail")]) -> None:
    """Set an operator's console password (asked twice, never echoed)."""
    from doorstep.ops import audit, users

    secret = _ask_password()
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            user = users.find_by_email(session, email)
            users.set_password(
                session, user.id, secret, by=audit.COMMAND_LINE, now=datetime.now(UTC)
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"{email}'s password is set.")
