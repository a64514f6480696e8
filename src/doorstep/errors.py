"""Domain errors: a type per business conflict, each with an HTTP status and a stable code.

Define a subclass next to the service that raises it::

    class BlockAlreadyTaken(DomainError):
        status = 409
        code = "block_already_taken"

The API renders every one as ``{"error": code, "detail": ...}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # Machine-readable facts (the field, the row, the state) a client can act on.
        self.context = context

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "detail": self.detail}
        if self.context:
            body["context"] = self.context
        return body


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidInput(DomainError):
    """Input that is well-formed but wrong for the business (a bad row in an import file)."""

    status = 422
    code = "invalid_input"
