"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from doorstep.db import ping
from doorstep.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and its schema is current")
def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        ping(engine)
        revision = current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            status_code=503,
            content={
                "status": "unavailable",
                "error": "database_unreachable",
                "detail": str(exc).splitlines()[0],
            },
        )
    expected = head_revision()
    if revision != expected:
        return JSONResponse(
            status_code=503,
            content={
                "status": "unavailable",
                "error": "schema_out_of_date",
                "detail": f"database at {revision}, code expects {expected}; "
                "run 'doorstep db upgrade'",
            },
        )
    return JSONResponse(
        {"status": "ready", "database": engine.dialect.name, "schema_revision": revision}
    )
