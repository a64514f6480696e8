"""One error envelope for every failure: ``{"error": code, "detail": ..., "request_id": ...}``."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from doorstep.errors import DomainError

log = structlog.get_logger(__name__)


class FieldProblem(BaseModel):
    """One problem of a request that failed validation (``validation_error``)."""

    field: str = Field(description="Where: body.items.0.sku, query.limit, header.x-y, path")
    message: str
    type: str = Field(description="The kind of problem: missing, extra_forbidden, …")


class ErrorBody(BaseModel):
    """What every error response looks like (shown in OpenAPI): a stable ``error`` code, a
    ``detail`` (a sentence, or for ``validation_error`` the list of problems), sometimes a
    ``context`` of machine-readable facts, and the request's id."""

    error: str = Field(description="A stable code, like out_of_stock or validation_error")
    detail: str | list[FieldProblem]
    context: dict[str, Any] | None = None
    request_id: str | None = None


def error_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for an endpoint, listing the domain errors it can raise."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = responses.setdefault(error.status, {"model": ErrorBody, "description": ""})
        codes = [c for c in entry["description"].split(", ") if c]
        entry["description"] = ", ".join([*codes, error.code])
    return responses


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at the request's path."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _envelope(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    body["request_id"] = getattr(request.state, "request_id", None)
    return JSONResponse(status_code=status, content=body, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        # An error may carry response headers of its own (a 429's Retry-After).
        return _envelope(request, exc.status, exc.to_body(), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in error["loc"]),
                "message": error["msg"],
                "type": error["type"],
            }
            for error in exc.errors()
        ]
        return _envelope(request, 422, {"error": "validation_error", "detail": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Every method the path answers, not only those of the first route that matched it.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return _envelope(
            request, exc.status_code, {"error": code, "detail": exc.detail}, headers or None
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # A versioned row (a package, a block) changed under this request by another one: the
        # unit of work rolls back, and the client may simply try again.
        log.info("concurrent_update", path=request.url.path, error=str(exc))
        return _envelope(
            request,
            409,
            {
                "error": "concurrent_update",
                "detail": "another request changed this at the same moment; try again",
            },
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return _envelope(
            request, 500, {"error": "internal_error", "detail": "an unexpected error occurred"}
        )
