"""The OpenAPI document as the server answers: every error in the one envelope.

FastAPI documents only what each route declares (its ``responses=``) plus a 422 in its own
shape, which the API never sends. This completes the document once, when it is built: every
operation lists, with the `ErrorBody` envelope, each error status the layers in front of it
can answer with, whatever the route itself declares:

- 422 ``validation_error`` (a bad parameter or body; NUL anywhere) and 500 everywhere;
- 429 wherever rate limits apply (everything but the probes);
- 401 and 403 where a credential is needed; 404 where the path names a row;
- 400, 409 (``concurrent_update``) and 413 (``request_too_large``) where a body is sent.

Descriptions keep the codes a route declared (``error_responses``) and add the generic ones.

Times of day: pydantic documents a ``time`` as JSON Schema's ``format: time``, which is
RFC 3339's time *with* an offset, but doorstep's times of day are local to a node
(``15:00:00``): the document says so with a pattern instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from doorstep.api.errors import ErrorBody
from doorstep.api.ratelimit import EXEMPT_PATHS

_ENVELOPE = "#/components/schemas/ErrorBody"
_METHODS = ("get", "put", "post", "patch", "delete")
_WRITES = ("put", "post", "patch", "delete")
_GENERIC = {
    400: "bad_request: a body the server cannot read",
    401: "not_authenticated, invalid_api_key: no credential, or not a valid one",
    403: "key_not_allowed: the credential may not do this",
    404: "not_found: no such row for this caller",
    409: "concurrent_update: another request changed this at the same moment; try again",
    413: "request_too_large: a body above this path's limit",
    422: "validation_error: detail lists each problem with its field",
    429: "rate_limited: too many requests; Retry-After says when to come back",
    500: "internal_error: an unexpected error (logged with the request id)",
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the completed document (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the envelope as every error's schema (changed in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas["ErrorBody"] = envelope
    for path, operations in document.get("paths", {}).items():
        for method in _METHODS:
            operation = operations.get(method)
            if operation is not None:
                _complete_operation(path, method, operation)
    _local_times(document)
    # FastAPI's own 422 shape is referenced no more.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


#: A time of day without offset, as pydantic reads and writes it.
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _local_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node["pattern"] = LOCAL_TIME
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = {422, 500}
    if path not in EXEMPT_PATHS:
        statuses.add(429)
    if operation.get("security") or "401" in responses:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation or method in _WRITES:
        statuses |= {400, 409, 413}
    for status in sorted(statuses):
        entry = responses.setdefault(str(status), {"description": ""})
        declared = [c for c in entry.get("description", "").split(", ") if c]
        generic = _GENERIC[status]
        if declared and not any(generic.startswith(code) for code in declared):
            entry["description"] = f"{', '.join(declared)}; or {generic}"
        elif not declared:
            entry["description"] = generic
        entry["content"] = {"application/json": {"schema": {"$ref": _ENVELOPE}}}
