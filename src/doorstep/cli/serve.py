"""`doorstep serve`: the HTTP API and pages."""

from __future__ import annotations

from typing import Annotated

import typer

from doorstep.cli.common import console, database, errors
from doorstep.migrate import current_revision, head_revision


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    with database() as engine:
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
        # The app reads forwarded headers itself, from DOORSTEP_TRUSTED_PROXIES only.
        proxy_headers=False,
    )
