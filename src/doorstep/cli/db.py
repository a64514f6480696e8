"""`doorstep db`: create, migrate and inspect the database schema."""

from __future__ import annotations

import typer

from doorstep.cli.common import console, database
from doorstep.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="The database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    with database() as engine:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"[green]Database already at {after}[/] ({where})")
    else:
        console.print(f"[green]Database upgraded {before or 'empty'} → {after}[/] ({where})")


@app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    with database() as engine:
        revision = current_revision(engine)
    console.print(f"database: {revision or 'empty'}   code: {head_revision()}")
    if revision != head_revision():
        raise typer.Exit(1)
