"""Request-scoped dependencies: the transaction and the caller's identity."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from doorstep.db import unit_of_work
from doorstep.errors import DomainError
from doorstep.settings import Settings


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    # The request owns the transaction: one commit after the endpoint returns and before the
    # response is sent, so nothing acknowledged to a client can be lost afterwards.
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


# scope="function": the commit runs before the response leaves, not after it.
DbSession = Annotated[Session, Depends(_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Operator token")


def require_operator(
    settings: Annotated[Settings, Depends(get_settings_dep)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Operator endpoints: ``Authorization: Bearer <DOORSTEP_OPERATOR_TOKEN>``."""
    if credentials is None:
        raise NotAuthenticated("missing 'Authorization: Bearer <operator token>' header")
    if not secrets.compare_digest(credentials.credentials, settings.operator_token):
        raise NotAuthenticated("the operator token is not valid")
